/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/maps.h: the maps every datapath object shares, BTF-defined. Their
 * names, key and value types are ABI: userspace finds them by name and the
 * generated codecs (src/datapath/generated/abi.ts) encode their entries.
 */
#pragma once

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "abi/common.h"
#include "abi/metrics.h"
#include "abi/events.h"

/* Packets and bytes per (verdict reason, direction), per CPU: no atomics needed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, BL_METRICS_MAX_ENTRIES);
	__type(key, struct bl_metrics_key);
	__type(value, struct bl_metrics_value);
} bl_metrics SEC(".maps");

/* Trace and drop events (struct bl_*_notify) for the agent's observer. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BL_EVENTS_RINGBUF_SIZE);
} bl_events SEC(".maps");

/*
 * Events that did not fit into bl_events (bpf_ringbuf_reserve failed),
 * counted per CPU and indexed by enum bl_event_type. The ring buffer itself
 * keeps no such count, and a silently incomplete flow log misleads.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BL_EVENTS_LOST_MAX_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
} bl_events_lost SEC(".maps");
