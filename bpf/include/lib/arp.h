/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/arp.h: the ARP responder of a pod's gateway. A pod routes everything
 * through its gateway (10.x.y.1, which no device on the node owns) and ARPs
 * for it; the datapath answers in place with the MAC of the pod's host-side
 * veth, like Cilium's arp_respond().
 */
#pragma once

#include <linux/if_ether.h>

#include "lib/common.h"
#include "abi/lxc.h"

/* ARP constants (RFC 826). Not from <linux/if_arp.h>: it drags in libc
 * headers that a -target bpf build cannot resolve. */
#define ARPHRD_ETHER	1
#define ARPOP_REQUEST	1
#define ARPOP_REPLY	2

/*
 * An Ethernet frame carrying ARP for IPv4 over Ethernet: 42 bytes. The IPv4
 * addresses sit at odd 16-bit offsets, hence byte arrays and memcpy rather
 * than __be32 fields.
 */
struct arp_frame {
	__u8	h_dest[ETH_ALEN];
	__u8	h_source[ETH_ALEN];
	__be16	h_proto;
	__be16	ar_hrd;
	__be16	ar_pro;
	__u8	ar_hln;
	__u8	ar_pln;
	__be16	ar_op;
	__u8	ar_sha[ETH_ALEN];
	__u8	ar_sip[4];
	__u8	ar_tha[ETH_ALEN];
	__u8	ar_tip[4];
} __attribute__((packed));

/*
 * Reads an ARP request into f and returns the sender's IPv4 address (network
 * byte order), or 0 when it is not one to answer: not Ethernet/IPv4 ARP, not a
 * request, a probe (sender 0.0.0.0, RFC 5227) or an announcement (target =
 * sender). The target may be any other address: pods only ARP for their
 * gateway, and the answer for any address is the gateway anyway.
 */
static __always_inline __be32 arp_request_sender(struct __sk_buff *skb, struct arp_frame *f)
{
	__be32 sip, tip;

	if (bpf_skb_load_bytes(skb, 0, f, sizeof(*f)) < 0)
		return 0;
	if (f->ar_hrd != bpf_htons(ARPHRD_ETHER) || f->ar_pro != bpf_htons(ETH_P_IP) ||
	    f->ar_hln != ETH_ALEN || f->ar_pln != 4 || f->ar_op != bpf_htons(ARPOP_REQUEST))
		return 0;
	__builtin_memcpy(&sip, f->ar_sip, 4);
	__builtin_memcpy(&tip, f->ar_tip, 4);
	if (!sip || sip == tip)
		return 0;
	return sip;
}

/*
 * Turns the request in f into the reply "target IP is at ep->node_mac",
 * addressed to the requester, writes it over the packet and sends it back out
 * of the device it came in on (to the pod). Returns CTX_ACT_REDIRECT or a drop.
 */
static __always_inline int arp_respond(struct __sk_buff *skb, struct arp_frame *f,
				       const struct bl_endpoint_info *ep)
{
	__u8 ip[4];

	__builtin_memcpy(f->h_dest, f->ar_sha, ETH_ALEN);
	__builtin_memcpy(f->h_source, ep->node_mac, ETH_ALEN);
	f->ar_op = bpf_htons(ARPOP_REPLY);
	__builtin_memcpy(f->ar_tha, f->ar_sha, ETH_ALEN);
	__builtin_memcpy(f->ar_sha, ep->node_mac, ETH_ALEN);
	__builtin_memcpy(ip, f->ar_tip, 4);
	__builtin_memcpy(f->ar_tip, f->ar_sip, 4);
	__builtin_memcpy(f->ar_sip, ip, 4);

	if (bpf_skb_store_bytes(skb, 0, f, sizeof(*f), 0) < 0)
		return DROP(BL_DROP_WRITE_ERROR);
	/* From tc ingress to the same device's egress: back into the pod. */
	return bpf_redirect(skb->ifindex, 0);
}
