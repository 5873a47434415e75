/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/events.h: writing trace and drop events (abi/events.h) into the
 * bl_events ring buffer, counting the ones that did not fit, and the trace
 * aggregation rules (which packets get a trace event).
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

/*
 * Who an event is about, beyond the packet itself. Zero means unknown; the
 * host programs leave everything but source at zero.
 */
struct trace_meta {
	__u16	source;		/* bl_notify_hdr.source: the endpoint whose program emitted it */
	__u16	dst_id;		/* destination endpoint id (traces only) */
	__u32	src_identity;
	__u32	dst_identity;
	__u8	reason;		/* enum bl_trace_reason (traces only) */
	__u8	drop_dir;	/* drops: the direction that dropped when it is not the
				 * program's (ingress policy at a local delivery); 0: the program's */
	__u32	cookie;		/* policy drops: the deciding bl_policy_entry.cookie */
};

static __always_inline void notify_hdr_fill(struct bl_notify_hdr *hdr, struct __sk_buff *skb,
					    __u8 type, __u8 subtype, __be16 proto,
					    const struct trace_meta *tm)
{
	hdr->type = type;
	hdr->subtype = subtype;
	hdr->source = tm->source;
	hdr->hash = bpf_get_hash_recalc(skb);
	hdr->len_orig = skb->len;
	hdr->version = BL_NOTIFY_VERSION;
	hdr->ktime_ns = bpf_ktime_get_ns();
	hdr->ifindex = skb->ifindex;
	hdr->src_identity = tm->src_identity;
	hdr->dst_identity = tm->dst_identity;
	hdr->proto = proto;
	/* len_cap and padding: zeroed by the caller's memset. */
}

/*
 * Whether this packet gets a trace event at a point without connection
 * tracking (see enum bl_trace_aggregation): the only per-connection signal
 * there is the TCP flags, so above NONE only connection open/close (SYN,
 * FIN, RST) is traced.
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

/*
 * At a point that consulted conntrack: report is conntrack's verdict on
 * whether the packet changed anything worth seeing (lib/ct.h, judged with
 * trace_agg_tcp_flags()).
 */
static __always_inline bool trace_wanted_ct(bool report)
{
	if (!(bl_config.flags & BL_CFG_TRACE_NOTIFY))
		return false;
	return bl_config.trace_aggregation == BL_TRACE_AGG_NONE || report;
}

/* The TCP flags whose first appearance in a direction is worth a trace. */
static __always_inline __u8 trace_agg_tcp_flags(void)
{
	if (bl_config.trace_aggregation >= BL_TRACE_AGG_MEDIUM)
		return TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST;
	return 0xff;
}

/* Reports a packet passing observation point obs (enum bl_trace_point). */
static __always_inline void send_trace_notify_meta(struct __sk_buff *skb, __u8 obs,
						   const struct trace_meta *tm,
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
	notify_hdr_fill(&ev->hdr, skb, BL_EVENT_TRACE, obs, pkt->l3_proto, tm);
	ev->dst_id = tm->dst_id;
	ev->reason = tm->reason;
	ev->hdr.len_cap = capture_packet(skb, ev->data);
	bpf_ringbuf_submit(ev, 0);
}

/* A trace from a host program: source is the configured host endpoint id. */
static __always_inline void send_trace_notify(struct __sk_buff *skb, __u8 obs, __u8 reason,
					      const struct pkt_meta *pkt)
{
	struct trace_meta tm = {
		.source = bl_config.host_endpoint_id,
		.reason = reason,
	};

	send_trace_notify_meta(skb, obs, &tm, pkt);
}

/*
 * Reports a drop with its reason and the source line that decided it; tm
 * says on whose behalf (source), between which identities and, for a policy
 * drop, with which policy cookie.
 */
static __always_inline void send_drop_notify_meta(struct __sk_buff *skb, __u8 reason, __u16 line,
						  __u8 file, const struct trace_meta *tm,
						  const struct pkt_meta *pkt)
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
	notify_hdr_fill(&ev->hdr, skb, BL_EVENT_DROP, reason, pkt->l3_proto, tm);
	ev->line = line;
	ev->file = file;
	if (reason == BL_DROP_POLICY || reason == BL_DROP_POLICY_DENY || reason == BL_DROP_POLICY_AUTH_REQUIRED)
		ev->cookie = tm->cookie;
	ev->hdr.len_cap = capture_packet(skb, ev->data);
	bpf_ringbuf_submit(ev, 0);
}

/* A drop known only by the endpoint it happened on behalf of. */
static __always_inline void send_drop_notify(struct __sk_buff *skb, __u8 reason, __u16 line,
					     __u8 file, __u16 source, const struct pkt_meta *pkt)
{
	struct trace_meta tm = { .source = source };

	send_drop_notify_meta(skb, reason, line, file, &tm, pkt);
}
