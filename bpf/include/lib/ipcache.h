/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/ipcache.h: where an IPv4 address lives, from bl_ipcache (abi/ipcache.h).
 */
#pragma once

#include "lib/common.h"
#include "lib/maps.h"

/* The most specific prefix holding ip4, or NULL. */
static __always_inline struct bl_remote_endpoint_info *ipcache_lookup4(__be32 ip4)
{
	/* A full-length key: the trie returns the longest prefix containing it. */
	struct bl_ipcache_key key = { .prefixlen = 32, .ip4 = ip4 };

	return bpf_map_lookup_elem(&bl_ipcache, &key);
}

/* The security identity of address ip4 as the ipcache knows it; the world when it does not. */
static __always_inline __u32 ipcache_identity4(__be32 ip4)
{
	struct bl_remote_endpoint_info *remote = ipcache_lookup4(ip4);

	return remote && remote->sec_identity ? remote->sec_identity : BL_IDENTITY_WORLD;
}

/*
 * Whether the endpoint of an ipcache entry requires mutual authentication
 * (BL_IPCACHE_F_AUTH_REQUIRED, published by the agent that owns it).
 */
static __always_inline bool ipcache_auth_required(const struct bl_remote_endpoint_info *info)
{
	return info && (info->flags & BL_IPCACHE_F_AUTH_REQUIRED);
}
