/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/l3.h: the rewrites of a routed hop: Ethernet addresses for the next
 * device, IPv4 TTL with its header checksum.
 */
#pragma once

#include <stddef.h>
#include <linux/if_ether.h>
#include <linux/ip.h>

#include "lib/common.h"
#include "abi/lxc.h"

/*
 * Addresses the frame to endpoint ep, as its gateway would: destination
 * ep->mac, source ep->node_mac. Those two fields are adjacent in
 * bl_endpoint_info in the order of an Ethernet header, so one 12-byte store
 * from the map value writes both.
 */
_Static_assert(offsetof(struct bl_endpoint_info, node_mac) ==
	       offsetof(struct bl_endpoint_info, mac) + ETH_ALEN,
	       "bl_endpoint_info: mac and node_mac must be adjacent (one store)");

static __always_inline int eth_store_endpoint_macs(struct __sk_buff *skb,
						   const struct bl_endpoint_info *ep)
{
	if (bpf_skb_store_bytes(skb, 0, ep->mac, 2 * ETH_ALEN, 0) < 0)
		return DROP(BL_DROP_WRITE_ERROR);
	return CTX_ACT_OK;
}

/*
 * Decrements the TTL of the IPv4 header at pkt->l3_off and patches its
 * checksum incrementally (RFC 1624). A packet whose TTL would reach 0 is
 * dropped with BL_DROP_TTL_EXCEEDED (no ICMP time exceeded is sent yet).
 *
 * The checksum sums 16-bit words, and TTL is the high byte of the word it
 * shares with the protocol; so the whole word, as raw network-order bytes, is
 * what bpf_l3_csum_replace() gets, old and new. The sum over the header does
 * not change (TTL and checksum move in step), so a CHECKSUM_COMPLETE
 * skb->csum stays valid and no BPF_F_RECOMPUTE_CSUM is needed.
 */
static __always_inline int ipv4_dec_ttl(struct __sk_buff *skb, const struct pkt_meta *pkt)
{
	__u32 off = pkt->l3_off + offsetof(struct iphdr, ttl);
	__u8 word[2];		/* ttl, protocol */
	__be16 old, new;

	if (bpf_skb_load_bytes(skb, off, word, sizeof(word)) < 0)
		return DROP(BL_DROP_INVALID);
	if (word[0] <= 1)
		return DROP(BL_DROP_TTL_EXCEEDED);
	__builtin_memcpy(&old, word, sizeof(old));
	word[0]--;
	__builtin_memcpy(&new, word, sizeof(new));

	if (bpf_l3_csum_replace(skb, pkt->l3_off + offsetof(struct iphdr, check), old, new,
				sizeof(new)) < 0)
		return DROP(BL_DROP_CSUM_L3);
	if (bpf_skb_store_bytes(skb, off, &new, sizeof(new), 0) < 0)
		return DROP(BL_DROP_WRITE_ERROR);
	return CTX_ACT_OK;
}
