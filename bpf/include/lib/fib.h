/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/fib.h: BPF host routing (Cilium's "BPF host routing"). In native
 * routing mode a pod's packet for another node would otherwise climb into
 * the node's IP stack only to be routed out of the uplink again; instead the
 * program asks the kernel's FIB where it goes and redirects it there itself,
 * with the routed hop's TTL decrement and MAC rewrite. Anything the FIB
 * cannot answer plainly (blackhole, unreachable, a packet too big, no route)
 * is left to the stack, which knows how to say so.
 */
#pragma once

#include <stddef.h>
#include <linux/if_ether.h>

#include "lib/common.h"
#include "lib/l3.h"

#ifndef AF_INET
#define AF_INET 2
#endif

/*
 * CTX_ACT_REDIRECT when the packet was sent on its way, CTX_ACT_OK to hand it
 * to the stack, or a drop.
 */
static __always_inline int fib_redirect4(struct __sk_buff *skb, const struct pkt_meta *pkt)
{
	struct bpf_fib_lookup fib = {};
	int rc, ret;

	fib.family = AF_INET;
	fib.ifindex = skb->ifindex;	/* looked up as if forwarded from the pod's veth */
	fib.l4_protocol = pkt->l4_proto;
	fib.ipv4_src = pkt->saddr;
	fib.ipv4_dst = pkt->daddr;
	/* tot_len 0: the helper checks skb->len against the route's MTU itself,
	 * and skips the check for GSO packets, which are segmented later. */
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return CTX_ACT_OK;

	ret = ipv4_dec_ttl(skb, pkt);
	if (IS_DROP(ret))
		return ret;
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		/* The next hop's MAC is not known yet: the kernel resolves it
		 * and queues the packet meanwhile. */
		return (int)bpf_redirect_neigh(fib.ifindex, NULL, 0, 0);
	if (bpf_skb_store_bytes(skb, 0, fib.dmac, ETH_ALEN, 0) < 0 ||
	    bpf_skb_store_bytes(skb, ETH_ALEN, fib.smac, ETH_ALEN, 0) < 0)
		return DROP(BL_DROP_WRITE_ERROR);
	return (int)bpf_redirect(fib.ifindex, 0);
}
