/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * abi/lxc.h: the local endpoints of a node (pods, Cilium's "lxc"), map
 * bl_lxc. The agent writes one entry per pod IPv4 address when it plumbs the
 * pod's veth; the datapath reads it to deliver packets straight to the pod
 * (bpf_redirect_peer), to answer the pod's ARP requests for its gateway, and
 * to name the endpoint in events.
 */
#pragma once

#include "abi/common.h"

/*
 * bl_endpoint_info.flags: which directions policy (bl_policy, abi/policy.h)
 * enforces, i.e. looks up. Enforced is not the same as default deny: the
 * direction's default is the entry on (identity 0, any protocol), a
 * DEFAULT_DENY, or an ALLOW where every rule selecting the endpoint says
 * enableDefaultDeny false (only its denies drop).
 */
enum bl_endpoint_flags {
	BL_EP_F_POLICY_INGRESS = 1 << 0,	/* packets into the endpoint are looked up in bl_policy */
	BL_EP_F_POLICY_EGRESS = 1 << 1,		/* packets from the endpoint are looked up in bl_policy */
	BL_EP_F_POLICY_AUDIT = 1 << 2,		/* audit mode: what policy would drop is let through,
						 * reported with action audit */
};
BL_ABI_KEEP(enum bl_endpoint_flags, endpoint_flags);

/* Key of bl_lxc: an endpoint's IPv4 address. */
struct bl_endpoint_key {
	__be32	ip4;		/* the pod's address, network byte order */
	__u32	pad0;		/* reserved (IPv6 will need a family); always 0 */
};

/*
 * Value of bl_lxc: where an endpoint is plugged in. mac and node_mac are
 * adjacent and in that order on purpose: together they are the 12 bytes of an
 * Ethernet header's destination and source, written with one store when a
 * packet is delivered to the pod (lib/l3.h).
 */
struct bl_endpoint_info {
	__u32	ifindex;	/* the pod's host-side veth (lxc…) in the node's namespace */
	__u16	ep_id;		/* endpoint id: bl_notify_hdr.source/dst_id of its events */
	__u16	flags;		/* enum bl_endpoint_flags */
	__u8	mac[6];		/* the pod's eth0 MAC */
	__u8	node_mac[6];	/* the host-side veth's MAC: the pod's gateway MAC */
	__u32	sec_identity;	/* security identity of the pod (0: not yet known) */
};
