/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * abi/metrics.h: the per-CPU packet/byte counters every entry point keeps in
 * map bl_metrics, keyed by (reason, direction) like Cilium's metrics map.
 * Userspace sums the per-CPU values; see lib/metrics.h for the update side.
 */
#pragma once

#include "abi/common.h"
#include "abi/drop.h"

/* Metrics reasons below 130: why a packet was let through (Cilium REASON_*). */
enum bl_forward_reason {
	BL_REASON_FORWARDED = 0,
};
BL_ABI_KEEP(enum bl_forward_reason, forward_reason);

/* Key of bl_metrics: one counter pair per verdict reason and direction. */
struct bl_metrics_key {
	__u8	reason;		/* enum bl_forward_reason (< 130) or enum bl_drop_reason */
	__u8	dir;		/* enum bl_direction */
	__u16	pad0;
	__u32	pad1;
};

/* Value of bl_metrics (one per CPU): packets and bytes (skb->len) counted. */
struct bl_metrics_value {
	__u64	count;
	__u64	bytes;
};
