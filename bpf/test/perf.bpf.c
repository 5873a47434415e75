/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * perf.bpf.c: programs for the per-packet benchmark (bench/datapath.ts), not
 * part of the datapath. Built by `make bpf` into build/bpf/test/ (outside the
 * objects gen-abi reads) with the datapath's flags; loaded only by the
 * benchmark, through BPF_PROG_TEST_RUN, never attached.
 *
 *   bl_perf_empty          returns TC_ACT_OK: what BPF_PROG_TEST_RUN reports
 *                          for a program that does nothing (its timer, the
 *                          bh disable/enable around the run). Subtracted from
 *                          every datapath arm.
 *   bl_perf_lpm12_lookup   one lookup in an LPM trie whose key data is 12
 *                          bytes (bl_policy's layout) and value is a copy of
 *                          struct bl_policy_entry; no write.
 *   bl_perf_lpm12_count    the same lookup, then lib/policy.h's two atomic
 *                          adds on the value's 64-bit counters.
 *   bl_perf_lpm16_count    the same with 16 bytes of key data.
 *
 * Why the LPM pair: the kernel stores an LPM value right after the key data
 * (lpm_trie_node: 24-byte header, data, value), in objects of the 96-byte
 * kmalloc class. With 12 bytes of data, the value's 8-byte counters sit 4
 * bytes off 8-byte alignment, and in every other 96-byte slot one of them
 * crosses a cache line: an atomic add there is a split (bus) lock. With 16
 * bytes of data they are aligned. Which entry lands where is up to the slab,
 * so the benchmark writes 32 entries and reports each one's cost.
 *
 * A packet names the entry it looks up: the 32-bit word at byte 14 (right
 * after the Ethernet header), host byte order.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* Key of perf_lpm12: bl_policy_key's shape, 12 bytes of data after prefixlen. */
struct perf_lpm12_key {
	__u32	prefixlen;
	__u32	index;
	__u32	pad0;
	__u32	pad1;
};

/* Key of perf_lpm16: 16 bytes of data after prefixlen. */
struct perf_lpm16_key {
	__u32	prefixlen;
	__u32	index;
	__u32	pad0;
	__u32	pad1;
	__u32	pad2;
};

/* The value of both tries: struct bl_policy_entry's layout (abi/policy.h). */
struct perf_lpm_value {
	__u8	verdict;
	__u8	flags;
	__u16	proxy_port;
	__u32	cookie;
	__u64	packets;
	__u64	bytes;
};

enum perf_limits {
	PERF_LPM_MAX_ENTRIES = 1024,
	PERF_LPM12_PREFIXLEN = 96,
	PERF_LPM16_PREFIXLEN = 128,
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PERF_LPM_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct perf_lpm12_key);
	__type(value, struct perf_lpm_value);
} perf_lpm12 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PERF_LPM_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct perf_lpm16_key);
	__type(value, struct perf_lpm_value);
} perf_lpm16 SEC(".maps");

SEC("tc")
int bl_perf_empty(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

/* The entry index the packet carries, or -1 when it is too short. */
static __always_inline long perf_index(struct __sk_buff *skb)
{
	__u32 index;

	if (bpf_skb_load_bytes(skb, 14, &index, sizeof(index)) < 0)
		return -1;
	return index;
}

/* lib/policy.h's accounting of a deciding entry, as it is there. */
static __always_inline void perf_count(struct perf_lpm_value *v, __u32 len)
{
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, len);
}

SEC("tc")
int bl_perf_lpm12_lookup(struct __sk_buff *skb)
{
	struct perf_lpm12_key key = { .prefixlen = PERF_LPM12_PREFIXLEN };
	long index = perf_index(skb);

	if (index < 0)
		return TC_ACT_SHOT;
	key.index = index;
	return bpf_map_lookup_elem(&perf_lpm12, &key) ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("tc")
int bl_perf_lpm12_count(struct __sk_buff *skb)
{
	struct perf_lpm12_key key = { .prefixlen = PERF_LPM12_PREFIXLEN };
	struct perf_lpm_value *v;
	long index = perf_index(skb);

	if (index < 0)
		return TC_ACT_SHOT;
	key.index = index;
	v = bpf_map_lookup_elem(&perf_lpm12, &key);
	if (!v)
		return TC_ACT_SHOT;
	perf_count(v, skb->len);
	return TC_ACT_OK;
}

SEC("tc")
int bl_perf_lpm16_count(struct __sk_buff *skb)
{
	struct perf_lpm16_key key = { .prefixlen = PERF_LPM16_PREFIXLEN };
	struct perf_lpm_value *v;
	long index = perf_index(skb);

	if (index < 0)
		return TC_ACT_SHOT;
	key.index = index;
	v = bpf_map_lookup_elem(&perf_lpm16, &key);
	if (!v)
		return TC_ACT_SHOT;
	perf_count(v, skb->len);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * The flow pipeline benchmark (bench/observer.ts): bl_perf_emit writes
 * `count` copies of a datapath event into perf_events, a ring buffer of
 * bl_events' size, the way the datapath writes its own (reserve, fill,
 * submit); what does not fit is counted in perf_events_lost, as the
 * datapath's bl_events_lost does. The event is a template user space puts
 * in perf_event_tmpl (a real bl_trace_notify, 176 bytes); the packet's
 * 32-bit word at byte 14 is the count (at most PERF_EMIT_MAX a run).
 */
enum perf_emit_limits {
	PERF_EMIT_MAX = 256,
	PERF_EVENT_SIZE = 176,
	PERF_EVENTS_RINGBUF_SIZE = 1 << 20,
};

struct perf_event_tmpl {
	__u8	data[PERF_EVENT_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PERF_EVENTS_RINGBUF_SIZE);
} perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct perf_event_tmpl);
} perf_event_tmpl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} perf_events_lost SEC(".maps");

SEC("tc")
int bl_perf_emit(struct __sk_buff *skb)
{
	struct perf_event_tmpl *tmpl, *ev;
	__u32 zero = 0;
	__u64 *lost;
	long count = perf_index(skb);
	int i;

	tmpl = bpf_map_lookup_elem(&perf_event_tmpl, &zero);
	lost = bpf_map_lookup_elem(&perf_events_lost, &zero);
	if (!tmpl || !lost || count < 0)
		return TC_ACT_SHOT;
	for (i = 0; i < PERF_EMIT_MAX; i++) {
		if (i >= count)
			break;
		ev = bpf_ringbuf_reserve(&perf_events, sizeof(*ev), 0);
		if (!ev) {
			__sync_fetch_and_add(lost, 1);
			continue;
		}
		__builtin_memcpy(ev, tmpl, sizeof(*ev));
		bpf_ringbuf_submit(ev, 0);
	}
	return TC_ACT_OK;
}
