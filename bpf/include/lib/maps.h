/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/maps.h: the maps every datapath object shares, BTF-defined. Their
 * names, key and value types are ABI: userspace finds them by name and the
 * generated codecs (src/datapath/generated/abi.ts) encode their entries.
 * Every object declares all of them; loaded with one pin directory, libbpf
 * reuses the pinned map of each name, so the objects share one kernel map
 * per name (host, lxc and overlay see the same endpoints and conntrack).
 */
#pragma once

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "abi/common.h"
#include "abi/metrics.h"
#include "abi/events.h"
#include "abi/lxc.h"
#include "abi/ipcache.h"
#include "abi/ct.h"
#include "abi/lb.h"
#include "abi/policy.h"

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

/* The node's local endpoints by IPv4 address (Cilium's cilium_lxc); written by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BL_LXC_MAX_ENTRIES);
	__type(key, struct bl_endpoint_key);
	__type(value, struct bl_endpoint_info);
} bl_lxc SEC(".maps");

/*
 * IPv4 prefix → where its addresses live (Cilium's cilium_ipcache); written by
 * the agent. An LPM trie must be created with BPF_F_NO_PREALLOC.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BL_IPCACHE_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bl_ipcache_key);
	__type(value, struct bl_remote_endpoint_info);
} bl_ipcache SEC(".maps");

/*
 * L3/L4 policy of every local endpoint (Cilium's cilium_policy_v2, one map
 * for all endpoints: ep_id is part of the key), see abi/policy.h; written by
 * the agent, sized by it before load. No prealloc, as an LPM trie requires.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BL_POLICY_MAX_ENTRIES_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bl_policy_key);
	__type(value, struct bl_policy_entry);
} bl_policy SEC(".maps");

/*
 * IPv4 connection tracking (Cilium's cilium_ct4_global), see abi/ct.h. LRU:
 * when full, the least recently used entry makes room instead of a new
 * connection failing. The agent sizes it (max_entries) before load and
 * deletes expired entries.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BL_CT_MAX_ENTRIES_DEFAULT);
	__type(key, struct bl_ct4_key);
	__type(value, struct bl_ct_entry);
} bl_ct4 SEC(".maps");

/*
 * Service frontends and their backend slots (Cilium's cilium_lb4_services_v2),
 * see abi/lb.h. No prealloc (Cilium's default for its LB maps too): the
 * entries come from the kernel's slab, in its linear mapping, instead of a
 * vmalloc'ed array of max_entries elements mapped page by page, so a lookup
 * among 50,000 Services does not miss the TLB on every element (and memory
 * follows the Services written, not --bpf-lb-map-max).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BL_LB4_SERVICES_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bl_lb4_key);
	__type(value, struct bl_lb4_service);
} bl_lb4_services SEC(".maps");

/* Backends by id (Cilium's cilium_lb4_backends_v3). No prealloc: see bl_lb4_services. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BL_LB4_BACKENDS_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct bl_lb4_backend);
} bl_lb4_backends SEC(".maps");

/* Service id → frontend, to translate replies back (Cilium's cilium_lb4_reverse_nat). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BL_LB4_REVERSE_NAT_MAX_ENTRIES);
	__type(key, __u16);
	__type(value, struct bl_lb4_reverse_nat);
} bl_lb4_reverse_nat SEC(".maps");

/* Translated sockets (Cilium's cilium_lb4_reverse_sk): LRU, entries need no collector. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BL_LB4_REVERSE_SK_MAX_ENTRIES);
	__type(key, struct bl_lb4_reverse_sk_key);
	__type(value, struct bl_lb4_reverse_sk);
} bl_lb4_reverse_sk SEC(".maps");

/* Session affinity (Cilium's cilium_lb4_affinity): LRU, expired entries are ignored and overwritten. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BL_LB4_AFFINITY_MAX_ENTRIES);
	__type(key, struct bl_lb4_affinity_key);
	__type(value, struct bl_lb4_affinity);
} bl_lb4_affinity SEC(".maps");

/*
 * Maglev lookup tables (Cilium's cilium_lb4_maglev, one hash instead of its
 * map of arrays): (service id, slot) → backend id, M entries per Maglev
 * frontend. No prealloc: memory follows the tables written, not max_entries.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BL_LB4_MAGLEV_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bl_lb4_maglev_key);
	__type(value, __u32);
} bl_lb4_maglev SEC(".maps");

/*
 * NodePort SNAT (lib/nodeport_snat.h, Cilium's cilium_snat_v4_external split
 * in its two directions): the reverse map (backend, SNAT port) → client, which
 * replies are translated with and ports are claimed in, and the forward map
 * (client, backend) → SNAT port, which later packets of a connection reuse.
 * Both LRU rather than tied to bl_ct4: they need no collector (the agent's
 * conntrack GC knows nothing of them), a connection's packets in either
 * direction keep its entries recent, and a full map evicts the longest idle
 * connection instead of failing new ones. The cost: an entry of a connection
 * idle while 65536 others were active can be evicted; the forward path then
 * re-creates the reverse entry, or allocates anew if another took its port.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BL_LB4_NODEPORT_NAT_MAX_ENTRIES);
	__type(key, struct bl_lb4_nodeport_nat_key);
	__type(value, struct bl_lb4_nodeport_nat);
} bl_lb4_nodeport_nat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BL_LB4_NODEPORT_SNAT_MAX_ENTRIES);
	__type(key, struct bl_lb4_nodeport_snat_key);
	__type(value, struct bl_lb4_nodeport_snat);
} bl_lb4_nodeport_snat SEC(".maps");
