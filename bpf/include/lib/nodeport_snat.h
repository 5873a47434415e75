/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/nodeport_snat.h: source port allocation for NodePort SNAT (Cilium's
 * snat_v4_new_mapping, for the one case beeline SNATs: a NodePort,
 * LoadBalancer or external IP connection sent on to another node's backend
 * with this node's address as the source).
 *
 * The reply from the backend is addressed to (node IP, SNAT port); the
 * reverse entry (backend, backend port, SNAT port, proto) must therefore be
 * unique per connection, whatever the clients' addresses. A new connection
 * keeps the client's port if that reverse entry is free (the common case,
 * and what the backend saw before), else gets the first free one of
 * BL_NODEPORT_SNAT_RETRIES ports of BL_NODEPORT_SNAT_PORT_MIN..MAX, probed
 * from a random start upwards. A port is claimed by inserting its reverse
 * entry with BPF_NOEXIST: two CPUs racing for one port cannot both win.
 * Later packets of the connection find their port in the forward map.
 */
#pragma once

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "abi/drop.h"
#include "abi/lb.h"
#include "lib/common.h"
#include "lib/maps.h"

/* Is the reverse entry the connection's own (same client address and port)? */
static __always_inline bool nodeport_snat_owns(const struct bl_lb4_nodeport_nat *rv,
					       const struct bl_lb4_nodeport_snat_key *fk)
{
	return rv->client == fk->client && rv->client_port == fk->client_port;
}

/*
 * Tries to claim port for the connection fk: true if its reverse entry is
 * now (or already was) the connection's. rk carries the backend side; its
 * nat_port is set to port.
 */
static __always_inline bool nodeport_snat_claim(struct bl_lb4_nodeport_nat_key *rk,
						const struct bl_lb4_nodeport_nat *rv,
						const struct bl_lb4_nodeport_snat_key *fk, __u16 port)
{
	struct bl_lb4_nodeport_nat *cur;

	rk->nat_port = bpf_htons(port);
	cur = bpf_map_lookup_elem(&bl_lb4_nodeport_nat, rk);
	if (cur)
		return nodeport_snat_owns(cur, fk);
	return bpf_map_update_elem(&bl_lb4_nodeport_nat, rk, rv, BPF_NOEXIST) == 0;
}

/*
 * The source port (network byte order, in *nat_port) for connection fk to a
 * backend of frontend rev_nat_index; its reverse entry exists on return.
 * CTX_ACT_OK, or DROP(BL_DROP_NAT_NO_MAPPING) when the client's port and
 * every probed one are taken towards this backend (Cilium drops with the
 * same reason when its SNAT retries run out) or the forward entry cannot be
 * written.
 */
static __always_inline int nodeport_snat_port(const struct bl_lb4_nodeport_snat_key *fk, __u16 rev_nat_index,
					      __be16 *nat_port)
{
	struct bl_lb4_nodeport_nat_key rk = {
		.backend = fk->backend,
		.backend_port = fk->backend_port,
		.proto = fk->proto,
	};
	struct bl_lb4_nodeport_nat rv = {
		.client = fk->client,
		.client_port = fk->client_port,
		.rev_nat_index = rev_nat_index,
	};
	struct bl_lb4_nodeport_snat fv = {}, *known;
	const __u32 range = BL_NODEPORT_SNAT_PORT_MAX - BL_NODEPORT_SNAT_PORT_MIN + 1;
	__u16 port;
	__u32 i;

	/* A packet of a known connection: its port, as long as the reverse
	 * entry is still its own (re-created if the LRU evicted it). */
	known = bpf_map_lookup_elem(&bl_lb4_nodeport_snat, fk);
	if (known && nodeport_snat_claim(&rk, &rv, fk, bpf_ntohs(known->nat_port))) {
		*nat_port = known->nat_port;
		return CTX_ACT_OK;
	}

	/* A new connection (or one whose port another took after eviction). */
	port = bpf_ntohs(fk->client_port);
	if (nodeport_snat_claim(&rk, &rv, fk, port))
		goto claimed;
	port = BL_NODEPORT_SNAT_PORT_MIN + (__u16)(bpf_get_prandom_u32() % range);
	/* Bounded: the verifier (kernel >= 5.3) accepts the loop as is, without
	 * unrolling BL_NODEPORT_SNAT_RETRIES copies of two map calls. */
	for (i = 0; i < BL_NODEPORT_SNAT_RETRIES; i++) {
		if (nodeport_snat_claim(&rk, &rv, fk, port))
			goto claimed;
		port = port == BL_NODEPORT_SNAT_PORT_MAX ? BL_NODEPORT_SNAT_PORT_MIN : port + 1;
	}
	return DROP(BL_DROP_NAT_NO_MAPPING);

claimed:
	fv.nat_port = rk.nat_port;
	if (bpf_map_update_elem(&bl_lb4_nodeport_snat, fk, &fv, BPF_ANY) < 0) {
		bpf_map_delete_elem(&bl_lb4_nodeport_nat, &rk);
		return DROP(BL_DROP_NAT_NO_MAPPING);
	}
	*nat_port = rk.nat_port;
	return CTX_ACT_OK;
}
