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
 * is a non-first fragment and, for the first fragment of TCP, UDP and SCTP,
 * the ports and (TCP) the flags: read once here, with one helper call, for
 * every step after (Service lookup, conntrack, NAT) instead of each reading
 * them again. A truncated L4 header is not judged here but by conntrack
 * (BL_DROP_CT_INVALID_HDR, lib/ct.h): what it lacks stays 0 (l4_ports 0
 * when even the ports are missing).
 */
static __always_inline int ipv4_parse(struct __sk_buff *skb, struct pkt_meta *pkt)
{
	void *data, *data_end;
	struct iphdr *ip4;
	__u32 hdr_len, tot_len;
	__be16 frag_off;
	__u8 vihl, l4[14];

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

	if (pkt->fragment)
		return CTX_ACT_OK;
	switch (pkt->l4_proto) {
	case IPPROTO_TCP:
		/* Ports to flags (offset 13) in one read. */
		if (bpf_skb_load_bytes(skb, pkt->l4_off, l4, sizeof(l4)) == 0) {
			pkt->tcp_flags = l4[13];
			break;
		}
		/* fallthrough: too short for the flags, perhaps not for the ports */
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (bpf_skb_load_bytes(skb, pkt->l4_off, l4, 4) < 0)
			return CTX_ACT_OK;
		break;
	default:
		return CTX_ACT_OK;
	}
	__builtin_memcpy(&pkt->sport, &l4[0], sizeof(pkt->sport));
	__builtin_memcpy(&pkt->dport, &l4[2], sizeof(pkt->dport));
	pkt->l4_ports = 1;
	return CTX_ACT_OK;
}
