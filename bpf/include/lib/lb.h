/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/lb.h: Service lookups shared by the socket hooks and (later) the
 * packet-level load balancer: find a frontend's master entry, pick one of its
 * backends. Two hash lookups and a random number: the cost does not depend on
 * how many Services or backends exist.
 */
#pragma once

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "abi/lb.h"
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
