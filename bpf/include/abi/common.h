/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * abi/common.h: what every ABI header shares. Fixed-width types, the limits
 * both sides must agree on, packet directions, and BL_ABI_KEEP.
 *
 * Everything under bpf/include/abi/ crosses the kernel/user boundary. The
 * TypeScript codecs in src/datapath/generated/abi.ts are generated from the
 * compiled objects' BTF (`make gen`), and `make build` fails when the two
 * drift apart. The rules that make that work:
 *   - fixed-width types only: __u8..__u64, __s8..__s64, and __be16/__be32 for
 *     fields in network byte order (the typedef name survives into BTF, so
 *     the generator knows to encode them big-endian);
 *   - explicit padding fields named pad*; the generator rejects holes, so
 *     every byte of a key is written and hash lookups never see garbage;
 *   - no bitfields, no pointers, no enum-typed fields (enums have no fixed
 *     width in C; fields are __u8/__u16/__u32 and say which enum they carry);
 *   - constants live in enums, not #defines, so that they reach BTF too.
 */
#pragma once

#include <linux/types.h>

/*
 * BTF only keeps types something global refers to, and ring-buffer events or
 * enums are never a map's key or value. BL_ABI_KEEP(type, name) declares a
 * never-read variable of that type in section ".bl_abi": clang emits the type
 * into BTF, libbpf skips the unrecognised section (it creates no map for it),
 * and the generator treats the section's variables as ABI roots.
 */
#define BL_ABI_KEEP(type, name) \
	static const type bl_abi_keep_##name __attribute__((section(".bl_abi"), used))

/* Limits and sizes both sides must agree on. */
enum bl_limits {
	BL_METRICS_MAX_ENTRIES = 1024,		/* bl_metrics: 256 reasons x 3 directions fit */
	BL_EVENTS_RINGBUF_SIZE = 1 << 20,	/* bl_events: bytes; a power of 2, a multiple of the page size */
	BL_EVENTS_LOST_MAX_ENTRIES = 8,		/* bl_events_lost: one slot per enum bl_event_type */
	BL_TRACE_CAPTURE_LEN = 128,		/* packet bytes an event can carry (data[]) */
	BL_LXC_MAX_ENTRIES = 4096,		/* bl_lxc: local endpoint addresses */
	BL_IPCACHE_MAX_ENTRIES = 16384,		/* bl_ipcache: prefixes */
	/* bl_ct4: the object's default; the agent sets the real size before
	 * load (bpf_map__set_max_entries), the same in every object. */
	BL_CT_MAX_ENTRIES_DEFAULT = 65536,
};
BL_ABI_KEEP(enum bl_limits, limits);

/* Direction of a packet, as in Cilium's metrics (METRIC_INGRESS/EGRESS). */
enum bl_direction {
	BL_DIR_UNKNOWN = 0,
	BL_DIR_INGRESS = 1,	/* towards the endpoint / node */
	BL_DIR_EGRESS = 2,	/* away from the endpoint / node */
};
BL_ABI_KEEP(enum bl_direction, direction);
