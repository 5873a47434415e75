/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * abi/config.h: load-time configuration of a datapath object. Each entry-point
 * file defines `const volatile struct bl_datapath_config bl_config` in .rodata
 * with its defaults; the loader overwrites it between open and load
 * (libbpf-bootstrap style), after which the verifier treats it as a constant
 * and prunes the branches it disables. No #ifdef forests.
 */
#pragma once

#include "abi/common.h"

/* Feature switches in bl_datapath_config.flags. */
enum bl_config_flags {
	BL_CFG_TRACE_NOTIFY = 1 << 0,	/* emit trace events (subject to trace_aggregation) */
	BL_CFG_DROP_NOTIFY = 1 << 1,	/* emit drop events */
	BL_CFG_HOST_ROUTING = 1 << 2,	/* native routing: forward pod egress with a FIB lookup
					 * and a redirect instead of the node's stack */
	BL_CFG_POLICY_VERDICT_NOTIFY = 1 << 3,	/* emit policy verdict events (abi/events.h) */
};
BL_ABI_KEEP(enum bl_config_flags, config_flags);

/* How packets for pods on other nodes leave this node (bl_datapath_config.routing_mode). */
enum bl_routing_mode {
	BL_ROUTING_UNSET = 0,	/* not configured: like native, remote pods are left to the stack */
	BL_ROUTING_TUNNEL = 1,	/* VXLAN: encapsulated towards the node in bl_ipcache, via tunnel_ifindex */
	BL_ROUTING_NATIVE = 2,	/* the network routes pod CIDRs: pass to the stack; the uplink
				 * program delivers arriving packets to local pods */
};
BL_ABI_KEEP(enum bl_routing_mode, routing_mode);

/*
 * The configuration of one loaded object (global bl_config in .rodata). The
 * agent writes the same node-wide values into every object it loads.
 * Addresses are in network byte order.
 */
struct bl_datapath_config {
	__u32	node_id;		/* cluster-unique id of this node (0: unset) */
	__u32	flags;			/* enum bl_config_flags */
	__u16	host_endpoint_id;	/* bl_notify_hdr.source of events from host programs */
	__u16	trace_capture_len;	/* packet bytes copied into events, at most BL_TRACE_CAPTURE_LEN */
	__u8	trace_aggregation;	/* enum bl_trace_aggregation */
	__u8	routing_mode;		/* enum bl_routing_mode */
	__u8	pod_cidr4_prefixlen;	/* 0..32; 0: no pod CIDR configured */
	__u8	pad0;
	__be32	node_ip4;		/* this node's IPv4 on its uplink */
	__be32	router_ip4;		/* the pods' gateway: first address of the pod CIDR */
	__be32	pod_cidr4;		/* this node's pod CIDR (network address) */
	__u32	tunnel_ifindex;		/* ifindex of bl_vxlan in the node namespace (0: no tunnel) */
	__u32	tunnel_vni;		/* VXLAN VNI when the source endpoint has no identity yet */
	__u16	mtls_out_port;		/* the node proxy's mTLS-out listener (host byte order): pods' TCP
					 * connections that need mutual authentication go there (0: none) */
	__u16	pad1;
};
