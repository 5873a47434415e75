/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/lb.h: Service lookups shared by the socket hooks and (later) the
 * packet-level load balancer: find a frontend's master entry, pick one of its
 * backends. Two hash lookups and a random number (or, for a Maglev frontend,
 * a flow hash and one more lookup): the cost does not depend on how many
 * Services or backends exist.
 */
#pragma once

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "abi/lb.h"
#include "lib/hash.h"
#include "lib/maps.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* The master entry of a frontend, or NULL: not a service address. */
static __always_inline struct bl_lb4_service *lb4_lookup_service(__be32 addr, __be16 port, __u8 proto)
{
	struct bl_lb4_key key = { .address = addr, .dport = port, .backend_slot = 0, .proto = proto };

	return bpf_map_lookup_elem(&bl_lb4_services, &key);
}

/*
 * M, the size of every Maglev table (bl_lb4_maglev), as a load-time constant:
 * the loader sets it (agent config maglevTableSize) to the M the agent builds
 * its tables with. Every object that includes this file has it.
 */
const volatile __u32 bl_lb_maglev_table_size = BL_LB_MAGLEV_TABLE_SIZE_DEFAULT;

/*
 * Packet path flow hash: the 5-tuple as it arrived with a fixed seed, so
 * every node hashes a flow to the same slot. The destination address is left
 * out on purpose: (daddr, dport, proto) already chose the frontend and so the
 * table, and daddr is the same for every flow of it, so it would add no
 * spread; without it a client reaching a NodePort through node1's address or
 * node2's (each node has its own frontend there, with the same table) gets
 * the same backend for the same source port. Fields in network byte order,
 * as loaded.
 */
static __always_inline __u32 lb4_hash_tuple(__be32 saddr, __be16 sport, __be16 dport, __u8 proto)
{
	return bl_jhash_3words(saddr, ((__u32)sport << 16) | dport, proto, BL_LB_HASH_SEED_TUPLE);
}

/*
 * A backend of the service, chosen at random among the active ones; among the
 * terminating ones only when no active one is left. 0: it has none.
 */
static __always_inline __u32 lb4_select_backend_id(__be32 addr, __be16 port, __u8 proto, const struct bl_lb4_service *svc)
{
	struct bl_lb4_key key = { .address = addr, .dport = port, .proto = proto };
	struct bl_lb4_service *slot;
	__u16 n = svc->count, first = 1;

	if (n == 0) {
		n = svc->qcount;
		first = svc->count + 1;
	}
	if (n == 0)
		return 0;
	key.backend_slot = first + (__u16)(bpf_get_prandom_u32() % n);
	slot = bpf_map_lookup_elem(&bl_lb4_services, &key);
	return slot ? slot->backend_id : 0;
}

/*
 * lb4_select_backend_id for a flow with a hash: a Maglev frontend
 * (BL_LB_F_MAGLEV) takes the backend of slot hash % M of its table, so the
 * same flow gets the same backend on every node and a backend change moves
 * few flows. Without the flag, or while the table has no entry for the slot
 * (not written yet, or a different M than the loader set), the random slot
 * choice.
 */
static __always_inline __u32 lb4_select_backend_id_hash(__be32 addr, __be16 port, __u8 proto,
							const struct bl_lb4_service *svc, __u32 hash)
{
	__u32 m = bl_lb_maglev_table_size;

	if ((svc->flags & BL_LB_F_MAGLEV) && m) {
		struct bl_lb4_maglev_key mkey = { .rev_nat_index = svc->rev_nat_index, .slot = hash % m };
		__u32 *id = bpf_map_lookup_elem(&bl_lb4_maglev, &mkey);

		if (id && *id)
			return *id;
	}
	return lb4_select_backend_id(addr, port, proto, svc);
}
