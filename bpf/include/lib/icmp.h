/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/icmp.h: ICMPv4 errors the datapath answers with itself, built in place
 * of the packet that caused them (Cilium's tail_no_service_ipv4). One today:
 * Destination Unreachable / Port Unreachable (RFC 792, type 3 code 3) for a
 * TCP or UDP packet to a Service frontend without a backend. Kubernetes says
 * such a Service rejects a new connection at once rather than black-holing
 * it; the client's kernel turns the error into ECONNREFUSED (connect(), or
 * the next call on a connected UDP socket), where a silent drop would leave
 * it retrying SYNs for a minute or more.
 *
 * The reply is Ethernet + IPv4 (20) + ICMP (8) + the quoted original: its
 * IPv4 header and the first 8 bytes of its L4 header (RFC 792's "64 bits of
 * data"), enough for the client to find the socket: both ports, and TCP's
 * sequence number. It leaves through the device the packet arrived on, to
 * the MAC it came from.
 *
 * The packet is still a drop as far as accounting goes: counted and reported
 * with its reason (lib/drop.h) before it is rewritten, so `beeline monitor`
 * and the flows show the packet that was refused, and why.
 */
#pragma once

#include <stddef.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/if_ether.h>

#include "lib/common.h"
#include "lib/drop.h"

/* RFC 792. Not from <linux/icmp.h>: see lib/ct.h. */
#ifndef ICMP_DEST_UNREACH
#define ICMP_DEST_UNREACH	3
#endif
#ifndef ICMP_PORT_UNREACH
#define ICMP_PORT_UNREACH	3
#endif

#define ICMP4_ERROR_TTL		64	/* IPDEFTTL, as the kernel's own icmp_send() */
#define ICMP4_QUOTED_L4		8	/* bytes of the original L4 header quoted (RFC 792) */
/* The IPv4 flag and offset bits of frag_off (host order): MF and the offset. */
#define ICMP4_IP_MF_OFFSET	0x3fff

/*
 * The ICMP message: its header and the quoted original. Separate from the
 * IPv4 header because the ICMP checksum covers exactly this part.
 */
struct icmp4_error_msg {
	__u8	type;
	__u8	code;
	__sum16	checksum;
	__be32	unused;			/* zero for Destination Unreachable */
	struct iphdr quoted;		/* the original IPv4 header, options excluded (ihl 5 only) */
	__u8	quoted_l4[ICMP4_QUOTED_L4];
};

/* Everything after the Ethernet header, built on the stack and stored in one go. */
struct icmp4_error {
	struct iphdr ip;
	struct icmp4_error_msg msg;
};

/* bpf_csum_diff() sums whole 32-bit words: both parts must be multiples of 4. */
_Static_assert(sizeof(struct icmp4_error_msg) == 8 + 20 + ICMP4_QUOTED_L4, "icmp4_error_msg has no padding");
_Static_assert(sizeof(struct icmp4_error_msg) % 4 == 0, "icmp4_error_msg: whole 32-bit words");
_Static_assert(sizeof(struct icmp4_error) == 20 + sizeof(struct icmp4_error_msg), "icmp4_error has no padding");

/*
 * The Internet checksum (RFC 1071) of a stack buffer of whole 32-bit words:
 * bpf_csum_diff() with nothing removed is the 32-bit one's-complement sum of
 * what is added; folding it to 16 bits and inverting gives the field. The
 * sum does not depend on byte order, so the folded value is stored as is.
 */
static __always_inline int icmp4_csum(void *buf, __u32 size, __sum16 *out)
{
	__s64 sum = bpf_csum_diff(NULL, 0, buf, size, 0);
	__u32 c;

	if (sum < 0)
		return DROP(BL_DROP_CSUM_L3);
	c = (__u32)sum;
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	*out = (__sum16)~c;
	return CTX_ACT_OK;
}

/*
 * Builds, on the stack, the ICMP error (type, code) answering the packet, as
 * it will leave: from the address the client sent to (the Service frontend),
 * to the client. Reads the packet, changes nothing. false: the packet gets no
 * answer and stays a plain drop, namely when it is
 *   - not TCP or UDP (never an error about an ICMP message, RFC 1122 3.2.2),
 *   - a fragment, first or not (only a whole datagram is answered),
 *   - IPv4 with options (ihl > 5): the quoted header would not fit the
 *     fixed layout, and nobody sends options to a Service,
 *   - from an address that is not one host (0.0.0.0, multicast, class E,
 *     broadcast): RFC 1122 3.2.2 forbids answering those,
 *   - too short to hold 8 bytes of its L4 header.
 */
static __always_inline bool icmp4_error_prepare(struct __sk_buff *skb, const struct pkt_meta *pkt, __u8 type,
						__u8 code, struct icmp4_error *e)
{
	__u32 src = bpf_ntohl(pkt->saddr);

	if (pkt->l3_proto != bpf_htons(ETH_P_IP) || pkt->l3_off != ETH_HLEN)
		return false;
	if (pkt->l4_proto != IPPROTO_TCP && pkt->l4_proto != IPPROTO_UDP)
		return false;
	if (pkt->fragment || pkt->l4_off != pkt->l3_off + sizeof(struct iphdr))
		return false;
	if (src == 0 || (src >> 28) >= 0xe)
		return false;

	__builtin_memset(e, 0, sizeof(*e));
	/* bpf_skb_load_bytes(): bounds-checked against the whole skb, paged
	 * data included, and no packet pointer to revalidate afterwards. */
	if (bpf_skb_load_bytes(skb, pkt->l3_off, &e->msg.quoted, sizeof(e->msg.quoted)) < 0 ||
	    bpf_skb_load_bytes(skb, pkt->l4_off, e->msg.quoted_l4, sizeof(e->msg.quoted_l4)) < 0)
		return false;
	/* ipv4_parse() only records non-first fragments; MF marks the first. */
	if (bpf_ntohs(e->msg.quoted.frag_off) & ICMP4_IP_MF_OFFSET)
		return false;

	e->msg.type = type;
	e->msg.code = code;
	if (IS_DROP(icmp4_csum(&e->msg, sizeof(e->msg), &e->msg.checksum)))
		return false;

	/* version 4, ihl 5; written as one byte, as ipv4_parse() reads it,
	 * rather than through the endian-dependent bitfields. */
	*(__u8 *)&e->ip = 0x45;
	/* Network control precedence, as the kernel marks its own ICMP errors. */
	e->ip.tos = IPTOS_PREC_INTERNETCONTROL;
	e->ip.tot_len = bpf_htons(sizeof(*e));
	e->ip.ttl = ICMP4_ERROR_TTL;
	e->ip.protocol = IPPROTO_ICMP;
	e->ip.saddr = pkt->daddr;	/* untranslated: the frontend the client asked for */
	e->ip.daddr = pkt->saddr;
	if (IS_DROP(icmp4_csum(&e->ip, sizeof(e->ip), &e->ip.check)))
		return false;
	return true;
}

/*
 * Turns the packet into the prepared error e and sends it back out of the
 * device it came in on (skb->ifindex): on a pod's host-side veth that is
 * into the pod; on the uplink, towards the client's next hop. Returns
 * CTX_ACT_REDIRECT, or a drop: BL_DROP_INVALID (no Ethernet header to turn
 * round), BL_DROP_WRITE_ERROR (the resize or a store failed; the packet may
 * be half rewritten by then, so it must not be passed on).
 */
static __always_inline int icmp4_error_send(struct __sk_buff *skb, const struct pkt_meta *pkt,
					    const struct icmp4_error *e)
{
	__u8 macs[2 * ETH_ALEN], swapped[2 * ETH_ALEN];

	if (bpf_skb_load_bytes(skb, 0, macs, sizeof(macs)) < 0)
		return DROP(BL_DROP_INVALID);
	__builtin_memcpy(swapped, macs + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(swapped + ETH_ALEN, macs, ETH_ALEN);

	/* Trims (or grows) the packet to exactly the reply. It also turns a
	 * CHECKSUM_COMPLETE skb into CHECKSUM_NONE when the length changes, and
	 * resets GSO state, so no stale offload metadata describes the reply. */
	if (bpf_skb_change_tail(skb, pkt->l3_off + sizeof(*e), 0) < 0)
		return DROP(BL_DROP_WRITE_ERROR);
	/* Swapping the two addresses moves whole 16-bit words within the
	 * header, which leaves any checksum over it unchanged: no recompute.
	 * The IPv4 part replaces bytes a CHECKSUM_COMPLETE skb->csum covers
	 * when the length stayed the same: BPF_F_RECOMPUTE_CSUM keeps it true.
	 * (A CHECKSUM_PARTIAL skb, a pod's own packet on its veth, goes back
	 * into that pod over the veth, which completes no checksum; the ones
	 * written here are complete anyway.) */
	if (bpf_skb_store_bytes(skb, 0, swapped, sizeof(swapped), 0) < 0 ||
	    bpf_skb_store_bytes(skb, pkt->l3_off, e, sizeof(*e), BPF_F_RECOMPUTE_CSUM) < 0)
		return DROP(BL_DROP_WRITE_ERROR);
	return (int)bpf_redirect(skb->ifindex, 0);
}

/*
 * Refuses a packet with an ICMP error instead of dropping it silently (see
 * the top of this file): counts and reports the drop (reason, as
 * send_drop_ep() does) first, on the packet as it arrived, then answers.
 * Returns the verdict for the entry point to return as is: CTX_ACT_REDIRECT
 * (the answer goes out), or CTX_ACT_SHOT when the packet gets no answer
 * (icmp4_error_prepare()) or building it failed; such a failure is reported
 * as a second drop event with its own reason, not counted again.
 */
static __always_inline int _icmp4_reject(struct __sk_buff *skb, const struct pkt_meta *pkt, __u8 reason,
					 __u8 dir, __u16 source, __u8 code, __u16 line, __u8 file)
{
	struct icmp4_error e;
	bool answer;
	int ret;

	/* Before anything is reported: the drop event captures the packet
	 * bytes, and icmp4_error_send() replaces them. */
	answer = icmp4_error_prepare(skb, pkt, ICMP_DEST_UNREACH, code, &e);
	ret = _send_drop(skb, reason, dir, source, pkt, line, file);
	if (!answer)
		return ret;
	ret = icmp4_error_send(skb, pkt, &e);
	if (IS_DROP(ret)) {
		send_drop_notify(skb, -ret, line, file, source, pkt);
		return CTX_ACT_SHOT;
	}
	return ret;
}

/* A Service frontend without a backend: BL_DROP_NO_SERVICE, answered with a port unreachable. */
#define icmp4_reject_no_service(skb, pkt, dir, source) \
	_icmp4_reject(skb, pkt, BL_DROP_NO_SERVICE, dir, source, ICMP_PORT_UNREACH, __LINE__, BL_THIS_FILE)
