/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/metrics.h: counting verdicts in bl_metrics. Every entry point counts
 * every packet exactly once: forwarded (reason 0) or dropped (drop reason).
 */
#pragma once

#include "lib/common.h"
#include "lib/maps.h"

static __always_inline void metrics_update(__u8 reason, __u8 dir, __u64 bytes)
{
	/* Designated initialiser: the explicit pad fields are zeroed too, so
	 * equal keys hash equally. */
	struct bl_metrics_key key = { .reason = reason, .dir = dir };
	struct bl_metrics_value *val, init = { .count = 1, .bytes = bytes };

	/* Per-CPU value: only this CPU writes it, plain adds are safe. */
	val = bpf_map_lookup_elem(&bl_metrics, &key);
	if (val) {
		val->count += 1;
		val->bytes += bytes;
		return;
	}
	/* First packet for this key. BPF_NOEXIST loses the race against another
	 * CPU creating it at the same moment; then the entry exists: retry. */
	if (bpf_map_update_elem(&bl_metrics, &key, &init, BPF_NOEXIST) == 0)
		return;
	val = bpf_map_lookup_elem(&bl_metrics, &key);
	if (val) {
		val->count += 1;
		val->bytes += bytes;
	}
	/* Still nothing: the map is full (BL_METRICS_MAX_ENTRIES); nothing to do. */
}
