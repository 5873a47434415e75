/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * abi/ipcache.h: map bl_ipcache, an IPv4 prefix → where it lives (Cilium's
 * cilium_ipcache). Today the agent puts every remote node's pod CIDR there
 * with that node's IP as tunnel endpoint; identities come with issue 4.
 */
#pragma once

#include "abi/common.h"

/*
 * Key of bl_ipcache, an LPM trie. prefixlen counts the significant leading
 * bits of ip4 only, 0..32: the kernel's struct bpf_lpm_trie_key header is the
 * __u32 prefixlen, and the trie matches on the bytes that follow it, here
 * just ip4. A /24 pod CIDR is { 24, 10.0.2.0 }; the datapath looks up
 * { 32, daddr }.
 */
struct bl_ipcache_key {
	__u32	prefixlen;	/* host byte order, as the kernel reads it */
	__be32	ip4;		/* network byte order; bits past prefixlen are ignored */
};

/* Value of bl_ipcache: what is known about the addresses of a prefix. */
struct bl_remote_endpoint_info {
	__u32	sec_identity;		/* security identity (0: not yet known) */
	__be32	tunnel_endpoint;	/* IPv4 of the node behind which the prefix lives (0: not behind a tunnel) */
	__u16	node_id;		/* bl_datapath_config.node_id of that node (0: unknown) */
	__u8	flags;			/* enum bl_ipcache_flags */
	__u8	pad0;
};

/* bl_remote_endpoint_info.flags. */
enum bl_ipcache_flags {
	/* The endpoint's ingress policy has an entry with BL_POLICY_F_AUTH_REQUIRED
	 * (published by the agent that owns it): a pod's TCP connection to it is
	 * handed to the node proxy's mTLS-out listener (bl_config.mtls_out_port). */
	BL_IPCACHE_F_AUTH_REQUIRED = 1 << 0,
};
BL_ABI_KEEP(enum bl_ipcache_flags, ipcache_flags);

/* Reserved identities the datapath itself names (Cilium's numbers; the rest live in userspace). */
enum bl_reserved_identity {
	BL_IDENTITY_HOST = 1,
	BL_IDENTITY_WORLD = 2,
	BL_IDENTITY_REMOTE_NODE = 6,	/* another node: what a node's own packets are to the others */
};
BL_ABI_KEEP(enum bl_reserved_identity, reserved_identity);
