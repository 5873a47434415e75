/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/drop.h: the one way an entry point drops a packet: count it in
 * bl_metrics, report it to bl_events, return CTX_ACT_SHOT.
 */
#pragma once

#include "lib/common.h"
#include "lib/events.h"
#include "lib/metrics.h"

static __always_inline int _send_drop_meta(struct __sk_buff *skb, __u8 reason, __u8 dir,
					   const struct trace_meta *tm, const struct pkt_meta *pkt,
					   __u16 line, __u8 file)
{
	/* A local delivery's ingress policy drops in the receiver's direction,
	 * whichever program it runs in. */
	if (tm->drop_dir)
		dir = tm->drop_dir;
	metrics_update(reason, dir, skb->len);
	send_drop_notify_meta(skb, reason, line, file, tm, pkt);
	return CTX_ACT_SHOT;
}

static __always_inline int _send_drop(struct __sk_buff *skb, __u8 reason, __u8 dir, __u16 source,
				      const struct pkt_meta *pkt, __u16 line, __u8 file)
{
	struct trace_meta tm = { .source = source };

	return _send_drop_meta(skb, reason, dir, &tm, pkt, line, file);
}

/* Each .bpf.c defines BL_THIS_FILE (enum bl_source_file) before including lib/. */
#ifndef BL_THIS_FILE
#error "define BL_THIS_FILE (an enum bl_source_file value) before including lib/drop.h"
#endif

/* A drop in a host program: the event's source is the host endpoint. */
#define send_drop(skb, reason, dir, pkt) \
	_send_drop(skb, reason, dir, bl_config.host_endpoint_id, pkt, __LINE__, BL_THIS_FILE)

/* A drop on behalf of endpoint `source` (its id, 0 if unknown). */
#define send_drop_ep(skb, reason, dir, source, pkt) \
	_send_drop(skb, reason, dir, source, pkt, __LINE__, BL_THIS_FILE)

/* A drop with its event metadata (struct trace_meta *tm): source, identities,
 * policy cookie, and tm->drop_dir overriding dir when set. */
#define send_drop_meta(skb, reason, dir, tm, pkt) \
	_send_drop_meta(skb, reason, dir, tm, pkt, __LINE__, BL_THIS_FILE)
