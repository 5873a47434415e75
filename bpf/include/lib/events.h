/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/events.h: writing trace and drop events (abi/events.h) into the
 * bl_events ring buffer, and counting the ones that did not fit.
 */
#pragma once

#include <linux/in.h>

#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"

/* The ring buffer was full: count it where userspace can see it. */
static __always_inline void events_lost_inc(__u32 type)
{
	__u64 *lost = bpf_map_lookup_elem(&bl_events_lost, &type);

	if (lost)
		*lost += 1;	/* per-CPU slot: no atomics needed */
}

/*
 * Copies the first bytes of the packet into an event's data[] and returns how
 * many: at most bl_config.trace_capture_len and BL_TRACE_CAPTURE_LEN.
 * bpf_skb_load_bytes() also reads non-linear data, which a direct copy
 * through skb->data could not.
 */
static __always_inline __u16 capture_packet(struct __sk_buff *skb, __u8 *data)
{
	__u32 len = skb->len;
	__u32 cap = bl_config.trace_capture_len;

	if (cap > BL_TRACE_CAPTURE_LEN)
		cap = BL_TRACE_CAPTURE_LEN;
	if (len > cap)
		len = cap;
	/* The verifier wants the size provably in [1, sizeof(data)]; the checks
	 * above give the upper bound, this one the lower. */
	if (len == 0 || len > BL_TRACE_CAPTURE_LEN)
		return 0;
	if (bpf_skb_load_bytes(skb, 0, data, len) < 0)
		return 0;
	return len;
}

static __always_inline void notify_hdr_fill(struct bl_notify_hdr *hdr, struct __sk_buff *skb,
					    __u8 type, __u8 subtype, __be16 proto)
{
	hdr->type = type;
	hdr->subtype = subtype;
	hdr->source = bl_config.host_endpoint_id;
	hdr->hash = bpf_get_hash_recalc(skb);
	hdr->len_orig = skb->len;
	hdr->version = BL_NOTIFY_VERSION;
	hdr->ktime_ns = bpf_ktime_get_ns();
	hdr->ifindex = skb->ifindex;
	hdr->proto = proto;
	/* len_cap, identities and padding: zeroed by the caller's memset. */
}

/*
 * Whether this packet gets a trace event (see enum bl_trace_aggregation).
 * Without connection tracking the only per-connection signal is the TCP
 * flags, so above NONE only connection open/close (SYN, FIN, RST) is traced.
 */
static __always_inline bool trace_wanted(const struct pkt_meta *pkt)
{
	if (!(bl_config.flags & BL_CFG_TRACE_NOTIFY))
		return false;
	if (bl_config.trace_aggregation == BL_TRACE_AGG_NONE)
		return true;
	return pkt->l4_proto == IPPROTO_TCP &&
	       (pkt->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST));
}

/* Reports a packet passing observation point obs (enum bl_trace_point). */
static __always_inline void send_trace_notify(struct __sk_buff *skb, __u8 obs, __u8 reason,
					      const struct pkt_meta *pkt)
{
	struct bl_trace_notify *ev;

	ev = bpf_ringbuf_reserve(&bl_events, sizeof(*ev), 0);
	if (!ev) {
		events_lost_inc(BL_EVENT_TRACE);
		return;
	}
	/* Ring buffer memory is not zeroed: clear it so no stale bytes of an
	 * earlier event (or padding) reach userspace. */
	__builtin_memset(ev, 0, sizeof(*ev));
	notify_hdr_fill(&ev->hdr, skb, BL_EVENT_TRACE, obs, pkt->l3_proto);
	ev->reason = reason;
	ev->hdr.len_cap = capture_packet(skb, ev->data);
	bpf_ringbuf_submit(ev, 0);
}

/* Reports a drop with its reason and the source line that decided it. */
static __always_inline void send_drop_notify(struct __sk_buff *skb, __u8 reason, __u16 line,
					     __u8 file, const struct pkt_meta *pkt)
{
	struct bl_drop_notify *ev;

	if (!(bl_config.flags & BL_CFG_DROP_NOTIFY))
		return;
	ev = bpf_ringbuf_reserve(&bl_events, sizeof(*ev), 0);
	if (!ev) {
		events_lost_inc(BL_EVENT_DROP);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	notify_hdr_fill(&ev->hdr, skb, BL_EVENT_DROP, reason, pkt->l3_proto);
	ev->line = line;
	ev->file = file;
	ev->hdr.len_cap = capture_packet(skb, ev->data);
	bpf_ringbuf_submit(ev, 0);
}
