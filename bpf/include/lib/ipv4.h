/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/ipv4.h: IPv4 header validation and the L4 facts trace aggregation
 * needs (protocol, TCP flags).
 */
#pragma once

#include <linux/in.h>
#include <linux/ip.h>

#include "lib/common.h"

#define IPV4_FRAG_OFFSET	0x1fff	/* fragment offset bits of iphdr.frag_off (host order) */

/*
 * Validates the IPv4 header at pkt->l3_off. Drops (BL_DROP_INVALID):
 *   - a packet too short to hold the header (20 bytes, or ihl*4 with options),
 *   - a version other than 4, or ihl < 5,
 *   - tot_len smaller than the header. Exception: tot_len 0 on a GSO packet
 *     is BIG TCP (a super-packet over 64 KiB whose length only the skb knows).
 * On success records the addresses, the L4 protocol and offset, whether this
 * is a non-first fragment and, for the first fragment of TCP, its flags. A
 * truncated L4 header is not judged here but by conntrack
 * (BL_DROP_CT_INVALID_HDR, lib/ct.h): the flags stay 0.
 */
static __always_inline int ipv4_parse(struct __sk_buff *skb, struct pkt_meta *pkt)
{
	void *data, *data_end;
	struct iphdr *ip4;
	__u32 hdr_len, tot_len;
	__be16 frag_off;
	__u8 vihl, tcp_flags;

	if (!revalidate_data(skb, pkt->l3_off + sizeof(*ip4), &data, &data_end))
		return DROP(BL_DROP_INVALID);
	ip4 = data + pkt->l3_off;
	/* Read version/ihl as one byte rather than through the iphdr bitfields,
	 * whose order depends on the compiler's idea of endianness. */
	vihl = *(__u8 *)ip4;
	if ((vihl >> 4) != 4 || (vihl & 0x0f) < 5)
		return DROP(BL_DROP_INVALID);
	hdr_len = (vihl & 0x0f) * 4;

	/* Multi-byte header fields are big-endian on the wire. */
	tot_len = bpf_ntohs(ip4->tot_len);
	if (tot_len < hdr_len && !(tot_len == 0 && skb->gso_size))
		return DROP(BL_DROP_INVALID);
	pkt->l4_proto = ip4->protocol;
	pkt->saddr = ip4->saddr;
	pkt->daddr = ip4->daddr;
	pkt->ttl = ip4->ttl;
	pkt->l4_off = pkt->l3_off + hdr_len;
	frag_off = ip4->frag_off;
	pkt->fragment = (bpf_ntohs(frag_off) & IPV4_FRAG_OFFSET) != 0;

	/* Options: the whole header must be there too. The pull may move the
	 * packet, so ip4 is not used after it. */
	if (hdr_len > sizeof(*ip4) &&
	    !revalidate_data(skb, pkt->l3_off + hdr_len, &data, &data_end))
		return DROP(BL_DROP_INVALID);

	if (pkt->l4_proto == IPPROTO_TCP && !pkt->fragment &&
	    bpf_skb_load_bytes(skb, pkt->l4_off + 13, &tcp_flags, 1) == 0)
		pkt->tcp_flags = tcp_flags;
	return CTX_ACT_OK;
}
