/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/eth.h: the Ethernet header. tc programs on an Ethernet device see the
 * frame from its MAC header on.
 */
#pragma once

#include <linux/if_ether.h>

#include "lib/common.h"

/*
 * Reads the ethertype into pkt (network byte order, compared against
 * bpf_htons() constants, which fold at compile time). A frame too short for
 * an Ethernet header is not ours to judge: it continues with l3_proto 0.
 * VLAN tags are normally offloaded into skb->vlan_tci; an in-band 802.1Q
 * frame continues as "not IPv4".
 */
static __always_inline int eth_parse(struct __sk_buff *skb, struct pkt_meta *pkt)
{
	void *data, *data_end;
	struct ethhdr *eth;

	if (!revalidate_data(skb, sizeof(*eth), &data, &data_end))
		return CTX_ACT_OK;
	eth = data;
	pkt->l3_proto = eth->h_proto;
	pkt->l3_off = sizeof(*eth);
	return CTX_ACT_OK;
}
