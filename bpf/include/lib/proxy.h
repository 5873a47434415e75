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
 * way (BL_CT_F_FROM_PROXY on their conntrack entry). When the client is a
 * local endpoint, its egress policy judges the upstream connection too
 * (proxy_upstream_egress4): for a routed Service (mesh, BL_LB_F_L7) that is
 * the only place it is judged, since the pod's own connection went to the
 * Service's frontend, which no policy names.
 *
 * UDP (the DNS proxy) has no connection and the proxy no socket per flow:
 * every datagram of a flow policy hands over goes to the proxy's one socket
 * bound to the wildcard address and the proxy port (transparent, so that it
 * may receive datagrams for another address; IP_ORIGDSTADDR tells it the
 * original destination). Policy is consulted for every datagram that is not
 * a reply (callers), so a flow's retries on the same source port and any
 * later datagram are handed over too, with the port the policy entry says.
 * The proxy answers from a transparent socket bound to the original
 * destination: a reply of the pod's own flow through the node's stack.
 */
#pragma once

#include <linux/in.h>

#include "abi/proxy.h"
#include "lib/common.h"
#include "lib/config.h"
#include "lib/ct.h"
#include "lib/policy.h"

/* TCP flags byte (offset 13): SYN without ACK opens a connection. */
#define PROXY_TCP_SYN	0x02
#define PROXY_TCP_ACK	0x10
/* skb->pkt_type of a packet for this host (<linux/if_packet.h> PACKET_HOST). */
#define PROXY_PACKET_HOST	0

/*
 * Gives the packet to socket sk (a reference from a lookup, released here)
 * and marks it for the proxy's routing rule. Returns CTX_ACT_OK or a drop.
 */
static __always_inline int proxy_hand_over(struct __sk_buff *skb, struct bpf_sock *sk)
{
	long err;

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
 * Hands a UDP datagram to the proxy's socket on proxy_port, looked up with
 * the datagram's addresses and the proxy port as destination port (a socket
 * bound to the wildcard address matches any destination address). The
 * original port is never looked up: a socket of the node's own there (a
 * node-local DNS server on :53) is not the proxy's to take. No proxy port (a
 * reply of a connection the proxy made: TCP only) has nothing to go to.
 */
static __always_inline int proxy_assign_udp4(struct __sk_buff *skb, const struct bl_ct4_key *tuple,
					     __u16 proxy_port)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;

	if (!proxy_port)
		return DROP(BL_DROP_SOCKET_LOOKUP_FAILED);
	t.ipv4.saddr = tuple->saddr;
	t.ipv4.daddr = tuple->daddr;
	t.ipv4.sport = tuple->sport;
	t.ipv4.dport = bpf_htons(proxy_port);
	sk = bpf_sk_lookup_udp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return DROP(BL_DROP_SOCKET_LOOKUP_FAILED);
	return proxy_hand_over(skb, sk);
}

/*
 * Hands a packet to the node proxy. TCP: the socket of its connection if the
 * proxy has one (established, or a handshake in progress), else, for a SYN,
 * the listener on proxy_port (0: replies, which never open a connection).
 * UDP: the proxy's socket on proxy_port, for every datagram
 * (proxy_assign_udp4). tuple: the packet's own addresses and ports
 * (ct_lookup4's key). Returns CTX_ACT_OK (the caller passes the packet to the
 * stack) or a drop.
 */
static __always_inline int proxy_assign4(struct __sk_buff *skb, const struct pkt_meta *pkt,
					 const struct bl_ct4_key *tuple, __u16 proxy_port)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u8 tcp_flags = 0;

	if (pkt->l4_proto == IPPROTO_UDP)
		return proxy_assign_udp4(skb, tuple, proxy_port);

	t.ipv4.saddr = tuple->saddr;
	t.ipv4.daddr = tuple->daddr;
	t.ipv4.sport = tuple->sport;
	t.ipv4.dport = tuple->dport;
	if (bpf_skb_load_bytes(skb, pkt->l4_off + 13, &tcp_flags, 1) < 0)
		return DROP(BL_DROP_CT_INVALID_HDR);
	sk = bpf_skc_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	/* A listener on the original port itself (not the proxy's) is not ours
	 * to take. Nor, for a SYN, is the TIME_WAIT socket of the proxy's
	 * earlier connection with the same addresses (the proxy closed it, the
	 * client reuses its port): TCP would look for a listener on the
	 * original port to reopen it, and there is none. The proxy's listener
	 * takes the SYN; its new connection is found before the TIME_WAIT
	 * socket from then on (as iptables' TPROXY does). */
	if (sk && (sk->state == BPF_TCP_LISTEN ||
		   (sk->state == BPF_TCP_TIME_WAIT && (tcp_flags & (PROXY_TCP_SYN | PROXY_TCP_ACK)) == PROXY_TCP_SYN))) {
		bpf_sk_release(sk);
		sk = NULL;
	}
	if (!sk && proxy_port) {
		if ((tcp_flags & (PROXY_TCP_SYN | PROXY_TCP_ACK)) == PROXY_TCP_SYN) {
			t.ipv4.dport = bpf_htons(proxy_port);
			sk = bpf_skc_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
		}
	}
	if (!sk)
		return DROP(BL_DROP_SOCKET_LOOKUP_FAILED);
	return proxy_hand_over(skb, sk);
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
	/* The upstream side that keeps the client's address is TCP only. UDP
	 * with a foreign source is the DNS proxy answering the pod from the
	 * original destination (a reply of the pod's own flow), and the node's
	 * own UDP (its DNS server on the cluster DNS address, say) is never
	 * taken for the proxy's either. */
	if (!skb->sk || pkt->l4_proto != IPPROTO_TCP)
		return false;
	return pkt->saddr != bl_config.node_ip4 && pkt->saddr != bl_config.router_ip4;
}

/*
 * The client's egress policy for a packet of the node proxy's upstream
 * connection (proxy_sent(): TCP, the client's address as the source) on
 * behalf of local endpoint client, towards peer (the destination's identity)
 * and peer_ep (its endpoint id when it is local, else 0). ct_reason: the
 * packet's conntrack result (BL_TRACE_REASON_POLICY: a new connection),
 * never a reply's. Every such packet is judged, as every packet a pod sends
 * is at bl_from_container, so a policy change cuts the upstream connection
 * as it would the pod's own.
 *
 * Three kinds of upstream connections pass here, all judged alike:
 *   - the mesh hop's (BL_LB_F_L7): the pod's connection to the Service's
 *     frontend was handed to the proxy without policy (the destination was
 *     a frontend); this is where its egress policy applies, to the backend
 *     the proxy picked;
 *   - an egress L7 redirect's and an ingress L7 redirect's from a local
 *     client: bl_from_container judged the pod's own connection already,
 *     to the same destination address and port with the same identities
 *     (the upstream differs in its source port only, which policy never
 *     looks at), so the same entry decides again: what was allowed there is
 *     allowed here and nothing is dropped twice; only a policy change in
 *     between makes a difference, and then dropping is what policy wants.
 * A new connection's verdict is reported (policy verdict event) unless the
 * deciding entry has L7 rules (a proxy port): that is the egress L7
 * redirect's own upstream, whose verdict bl_from_container reported as the
 * redirect. (An ingress L7 redirect from a local client reports its
 * client's egress verdict a second time: nothing here tells it apart from a
 * mesh connection to an L7 port.) A drop is reported like any egress policy
 * drop: tm gets the client as the source, the destination, the cookie and
 * the egress direction for the caller's drop event. Returns CTX_ACT_OK or
 * the policy drop.
 */
static __always_inline int proxy_upstream_egress4(struct __sk_buff *skb, const struct pkt_meta *pkt,
						  __u8 ct_reason, const struct bl_endpoint_info *client,
						  __u32 peer, __u16 peer_ep, struct trace_meta *tm)
{
	struct policy_result res = {};
	int ret;

	if (!(client->flags & BL_EP_F_POLICY_EGRESS))
		return CTX_ACT_OK;
	peer = identity_or_world(peer);
	/* proxy_sent(): TCP, whose port conntrack read (pkt->dport). The
	 * connection is the node proxy's own: an egress allow that requires
	 * authentication was met at the redirect (bl_from_container hands such
	 * connections to the mTLS side, whose upstream this is on the server's
	 * node); the receiver's ingress judges its own requirement. */
	ret = policy_can_access(client->ep_id, client->flags, BL_DIR_EGRESS, peer, pkt->l4_proto, pkt->dport,
				skb->len, true, &res);
	if (IS_DROP(ret) || (ct_reason == BL_TRACE_REASON_POLICY && !res.proxy_port))
		policy_verdict_report(skb, pkt, client, BL_DIR_EGRESS, peer, peer_ep, pkt->dport, &res);
	if (IS_DROP(ret)) {
		tm->source = client->ep_id;
		tm->src_identity = client->sec_identity;
		tm->dst_id = peer_ep;
		tm->dst_identity = peer;
		tm->cookie = res.cookie;
		tm->drop_dir = BL_DIR_EGRESS;
	}
	return ret;
}

/*
 * The node proxy's upstream connection leaving the node for another node's
 * pod on behalf of local endpoint client (the uplink's egress): the client's
 * egress policy towards peer (the destination's identity,
 * proxy_upstream_egress4; tm: the drop's metadata), then the conntrack entry
 * in the client's egress direction, flagged BL_CT_F_FROM_PROXY, so that the
 * replies, delivered towards the client (ipv4_local_delivery), go to the
 * proxy's socket instead. Returns CTX_ACT_OK or a drop.
 */
static __always_inline int proxy_upstream_ct4(struct __sk_buff *skb, const struct pkt_meta *pkt,
					      const struct bl_endpoint_info *client, __u32 peer,
					      struct trace_meta *tm)
{
	struct bl_ct4_key tuple = {};
	struct ct_result ct = {};
	int ret;

	ret = ct_lookup4(skb, pkt, CT_EGRESS, &ct, &tuple);
	if (IS_DROP(ret) || ct.reason == BL_TRACE_REASON_CT_REPLY || ct.reason == BL_TRACE_REASON_CT_RELATED)
		return ret;
	ret = proxy_upstream_egress4(skb, pkt, ct.reason, client, peer, 0, tm);
	if (IS_DROP(ret) || ct.reason != BL_TRACE_REASON_POLICY)
		return ret;
	ct.flags = BL_CT_F_FROM_PROXY;
	return ct_create4(skb, pkt, &tuple, &ct);
}
