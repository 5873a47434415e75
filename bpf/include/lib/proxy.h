/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/proxy.h: transparent redirection to the node's L7 proxy (abi/proxy.h).
 *
 * A connection that an L7 rule covers (the allowing bl_policy entry has a
 * proxy port) is handed, packet by packet, to a socket of the proxy in the
 * node's network namespace: the first packet (SYN) to the proxy's listener
 * on the proxy port, every later one to the socket that accepted it, found
 * by the connection's own addresses (the proxy's listener is transparent, so
 * the accepted socket's local address is the original destination). The
 * packet keeps its addresses and is passed to the node's stack with
 * bpf_sk_assign() and BL_PROXY_MARK, which the proxy's routing rule turns
 * into local delivery. bpf_sk_assign() works at tc ingress only; every caller
 * runs there (the pod's veth, the overlay device, the uplink).
 *
 * The proxy's own upstream connection keeps the client's address (HAProxy
 * `usesrc clientip`): its packets reach the endpoint through the node's
 * stack (bl_to_container), where proxy_sent() tells them apart; the
 * endpoint's replies to them are handed back to the proxy's socket the same
 * way (BL_CT_F_FROM_PROXY on their conntrack entry).
 */
#pragma once

#include <linux/in.h>

#include "abi/proxy.h"
#include "lib/common.h"
#include "lib/config.h"
#include "lib/ct.h"

/* TCP flags byte (offset 13): SYN without ACK opens a connection. */
#define PROXY_TCP_SYN	0x02
#define PROXY_TCP_ACK	0x10
/* skb->pkt_type of a packet for this host (<linux/if_packet.h> PACKET_HOST). */
#define PROXY_PACKET_HOST	0

/*
 * Hands a TCP packet to the node proxy: the socket of its connection if the
 * proxy has one (established, or a handshake in progress), else, for a SYN,
 * the listener on proxy_port (0: replies, which never open a connection).
 * tuple: the packet's own addresses and ports (ct_lookup4's key). Returns
 * CTX_ACT_OK (the caller passes the packet to the stack) or a drop.
 */
static __always_inline int proxy_assign4(struct __sk_buff *skb, const struct pkt_meta *pkt,
					 const struct bl_ct4_key *tuple, __u16 proxy_port)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u8 tcp_flags = 0;
	long err;

	t.ipv4.saddr = tuple->saddr;
	t.ipv4.daddr = tuple->daddr;
	t.ipv4.sport = tuple->sport;
	t.ipv4.dport = tuple->dport;
	sk = bpf_skc_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (sk && sk->state == BPF_TCP_LISTEN) {
		/* A listener on the original port itself (not the proxy's): not ours to take. */
		bpf_sk_release(sk);
		sk = NULL;
	}
	if (!sk && proxy_port) {
		if (bpf_skb_load_bytes(skb, pkt->l4_off + 13, &tcp_flags, 1) < 0)
			return DROP(BL_DROP_CT_INVALID_HDR);
		if ((tcp_flags & (PROXY_TCP_SYN | PROXY_TCP_ACK)) == PROXY_TCP_SYN) {
			t.ipv4.dport = bpf_htons(proxy_port);
			sk = bpf_skc_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
		}
	}
	if (!sk)
		return DROP(BL_DROP_SOCKET_LOOKUP_FAILED);
	err = bpf_sk_assign(skb, sk, 0);
	bpf_sk_release(sk);
	if (err)
		return DROP(BL_DROP_SOCKET_ASSIGN_FAILED);
	skb->mark = (skb->mark & ~BL_PROXY_MARK_MASK) | BL_PROXY_MARK;
	/* From the tunnel the inner Ethernet header is addressed to the pod,
	 * not this device: the stack would drop it as another host's. */
	if (skb->pkt_type != PROXY_PACKET_HOST && bpf_skb_change_type(skb, PROXY_PACKET_HOST) < 0)
		return DROP(BL_DROP_SOCKET_ASSIGN_FAILED);
	return CTX_ACT_OK;
}

/*
 * Whether a packet the node's stack sends (tc egress of a pod's veth or of
 * the uplink) comes from the node proxy's upstream connection: sent by a
 * local socket (forwarded packets have none) with an address that is not the
 * node's own. Only a transparent socket in the node's namespace (the proxy's,
 * `usesrc clientip`) sends with a foreign source address; pods cannot reach
 * that namespace.
 */
static __always_inline bool proxy_sent(const struct __sk_buff *skb, const struct pkt_meta *pkt)
{
	/* The proxy speaks TCP only; the node's own UDP (its DNS server on the
	 * cluster DNS address, say) is never taken for it. */
	if (!skb->sk || pkt->l4_proto != IPPROTO_TCP)
		return false;
	return pkt->saddr != bl_config.node_ip4 && pkt->saddr != bl_config.router_ip4;
}

/*
 * The conntrack entry of the proxy's upstream connection leaving the node
 * for a local pod (egress L7 rules): in the pod's egress direction, flagged
 * BL_CT_F_FROM_PROXY, so that the replies, delivered towards the pod
 * (ipv4_local_delivery), go to the proxy's socket instead. Returns
 * CTX_ACT_OK or a drop.
 */
static __always_inline int proxy_upstream_ct4(struct __sk_buff *skb, const struct pkt_meta *pkt)
{
	struct bl_ct4_key tuple = {};
	struct ct_result ct = {};
	int ret;

	ret = ct_lookup4(skb, pkt, CT_EGRESS, &ct, &tuple);
	if (IS_DROP(ret) || ct.reason != BL_TRACE_REASON_POLICY)
		return ret;
	ct.flags = BL_CT_F_FROM_PROXY;
	return ct_create4(skb, pkt, &tuple, &ct);
}
