/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * abi/events.h: events the datapath writes into the bl_events ring buffer,
 * modelled on Cilium's monitor messages: the same message types, observation
 * points and aggregation levels, a common header, then a packet capture.
 * Every event starts with struct bl_notify_hdr; readers switch on hdr.type.
 */
#pragma once

#include "abi/common.h"

/* Event types: Cilium's monitor message types (CILIUM_NOTIFY_*). */
enum bl_event_type {
	BL_EVENT_UNSPEC = 0,
	BL_EVENT_DROP = 1,		/* struct bl_drop_notify */
	BL_EVENT_DEBUG = 2,		/* reserved */
	BL_EVENT_CAPTURE = 3,		/* reserved */
	BL_EVENT_TRACE = 4,		/* struct bl_trace_notify */
	BL_EVENT_POLICY_VERDICT = 5,	/* struct bl_policy_verdict_notify */
	BL_EVENT_RECORD_CAPTURE = 6,	/* reserved */
	BL_EVENT_TRACE_SOCK = 7,	/* struct bl_trace_sock_notify */
};
BL_ABI_KEEP(enum bl_event_type, event_type);

/* Observation points of trace events: Cilium's enum trace_point (TRACE_*). */
enum bl_trace_point {
	BL_TRACE_TO_LXC = 0,
	BL_TRACE_TO_PROXY = 1,
	BL_TRACE_TO_HOST = 2,
	BL_TRACE_TO_STACK = 3,
	BL_TRACE_TO_OVERLAY = 4,
	BL_TRACE_FROM_LXC = 5,
	BL_TRACE_FROM_PROXY = 6,
	BL_TRACE_FROM_HOST = 7,
	BL_TRACE_FROM_STACK = 8,
	BL_TRACE_FROM_OVERLAY = 9,
	BL_TRACE_FROM_NETWORK = 10,	/* entered the node from its uplink */
	BL_TRACE_TO_NETWORK = 11,	/* left the node through its uplink */
	BL_TRACE_FROM_CRYPTO = 12,
	BL_TRACE_TO_CRYPTO = 13,
};
BL_ABI_KEEP(enum bl_trace_point, trace_point);

/* Why a traced packet was forwarded: Cilium's enum trace_reason (CT state). */
enum bl_trace_reason {
	BL_TRACE_REASON_POLICY = 0,		/* new connection, allowed by policy */
	BL_TRACE_REASON_CT_ESTABLISHED = 1,
	BL_TRACE_REASON_CT_REPLY = 2,
	BL_TRACE_REASON_CT_RELATED = 3,
	BL_TRACE_REASON_UNKNOWN = 5,		/* no connection tracking at this point */
};
BL_ABI_KEEP(enum bl_trace_reason, trace_reason);

/*
 * How many trace events to emit (bl_datapath_config.trace_aggregation), with
 * the levels of Cilium's monitor aggregation option. Drops are always
 * reported (if BL_CFG_DROP_NOTIFY).
 *   NONE:            a trace event for every packet at every observation point.
 *   LOWEST, LOW:     at points that consult conntrack (every IPv4 packet of
 *                    a pod: FROM_LXC, TO_LXC, TO_STACK, TO_OVERLAY,
 *                    FROM_OVERLAY, FROM_NETWORK before local delivery), only
 *                    packets that
 *                      - create a conntrack entry,
 *                      - are the first reply of an entry (or more generally
 *                        the first packet of their direction),
 *                      - carry TCP flags not yet seen in their direction,
 *                    and, as in Cilium, at most one packet per
 *                    BL_CT_REPORT_INTERVAL seconds of an otherwise quiet
 *                    active entry, so long flows stay visible.
 *   MEDIUM, MAXIMUM: like LOW, but only new SYN, FIN or RST bits count as a
 *                    flag change (Cilium's medium: open and close only).
 * Each point judges with its own conntrack entry; a packet delivered pod to
 * pod on one node is judged at FROM_LXC by the sender's egress entry and at
 * TO_LXC by the receiver's ingress entry.
 * Points without conntrack (the uplink for anything not delivered to a local
 * pod, non-IPv4 such as ARP) keep the stateless rule: above NONE only TCP
 * packets with SYN, FIN or RST set are traced.
 * bl_trace_notify.reason carries the conntrack result: POLICY for a packet
 * that created an entry (as Cilium reports new connections), CT_ESTABLISHED,
 * CT_REPLY; UNKNOWN where no conntrack ran.
 */
enum bl_trace_aggregation {
	BL_TRACE_AGG_NONE = 0,
	BL_TRACE_AGG_LOWEST = 1,
	BL_TRACE_AGG_LOW = 2,
	BL_TRACE_AGG_MEDIUM = 3,
	BL_TRACE_AGG_MAXIMUM = 4,
};
BL_ABI_KEEP(enum bl_trace_aggregation, trace_aggregation);

/* Which datapath source file reported a drop (bl_drop_notify.file). */
enum bl_source_file {
	BL_FILE_UNKNOWN = 0,
	BL_FILE_HOST = 1,		/* bpf/host.bpf.c */
	BL_FILE_LXC = 2,		/* bpf/lxc.bpf.c */
	BL_FILE_OVERLAY = 3,		/* bpf/overlay.bpf.c */
};
BL_ABI_KEEP(enum bl_source_file, source_file);

/* Version of the event layout below (bl_notify_hdr.version). */
enum bl_notify_version {
	BL_NOTIFY_VERSION = 1,
};
BL_ABI_KEEP(enum bl_notify_version, notify_version);

/* Header every event starts with (Cilium's NOTIFY_CAPTURE_HDR, plus more). */
struct bl_notify_hdr {
	__u8	type;		/* enum bl_event_type */
	__u8	subtype;	/* trace: enum bl_trace_point; drop: enum bl_drop_reason */
	__u16	source;		/* id of the endpoint whose program emitted it (0: host) */
	__u32	hash;		/* skb hash: equal for the packets of one flow */
	__u32	len_orig;	/* length of the whole packet (skb->len) */
	__u16	len_cap;	/* bytes of it valid in data[] */
	__u8	version;	/* BL_NOTIFY_VERSION */
	__u8	pad0;
	__u64	ktime_ns;	/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32	ifindex;	/* device the program runs on */
	__u32	src_identity;	/* security identity of the source (0: unknown) */
	__u32	dst_identity;	/* security identity of the destination (0: unknown) */
	__be16	proto;		/* ethertype, in network byte order as on the wire */
	__u16	pad1;
};

/* A packet passed an observation point (type BL_EVENT_TRACE). */
struct bl_trace_notify {
	struct bl_notify_hdr hdr;	/* hdr.subtype: enum bl_trace_point */
	__u16	dst_id;		/* destination endpoint id (0: unknown) */
	__u8	reason;		/* enum bl_trace_reason */
	__u8	pad0;
	__be32	orig_ip4;	/* original IPv4 address before translation (0: none) */
	__u8	data[BL_TRACE_CAPTURE_LEN];	/* first hdr.len_cap bytes of the packet */
};
BL_ABI_KEEP(struct bl_trace_notify, trace_notify);

/* A packet was dropped (type BL_EVENT_DROP). */
struct bl_drop_notify {
	struct bl_notify_hdr hdr;	/* hdr.subtype: enum bl_drop_reason */
	__u16	line;		/* source line that dropped it */
	__u8	file;		/* enum bl_source_file */
	__s8	ext_error;	/* extended error, e.g. a helper's negative errno (0: none) */
	__u32	cookie;		/* policy drops (BL_DROP_POLICY, BL_DROP_POLICY_DENY): the deciding
				 * bl_policy_entry.cookie (0: none); 0 for other drops */
	__u8	data[BL_TRACE_CAPTURE_LEN];	/* first hdr.len_cap bytes of the packet */
};
BL_ABI_KEEP(struct bl_drop_notify, drop_notify);

/*
 * Policy was consulted for a packet (type BL_EVENT_POLICY_VERDICT, Cilium's
 * PolicyVerdictNotify with its packed flags as separate fields): the first
 * packet of every new connection in an enforced direction, and every packet
 * policy drops (BL_CFG_POLICY_VERDICT_NOTIFY). hdr.source is the local
 * endpoint whose policy decided; hdr.src_identity/dst_identity are the
 * packet's source and destination as usual.
 */
struct bl_policy_verdict_notify {
	struct bl_notify_hdr hdr;	/* hdr.subtype: 0 */
	__u32	remote_identity;	/* the peer's identity, the one looked up */
	__s32	verdict;	/* 0: allowed by an entry; > 0: allowed and handed to the node proxy
				 * on this port (L7 rules; Hubble: REDIRECTED); else -drop reason
				 * (BL_DROP_POLICY, BL_DROP_POLICY_DENY), also when audit let the packet through */
	__u32	cookie;		/* the deciding bl_policy_entry.cookie (0: none) */
	__be16	dport;		/* the destination port looked up (ICMP: type), network byte order */
	__u8	proto;		/* IPPROTO_* */
	__u8	dir;		/* enum bl_direction: BL_DIR_INGRESS or BL_DIR_EGRESS of hdr.source */
	__u8	action;		/* enum bl_policy_action */
	__u8	match_type;	/* enum bl_policy_match */
	__u16	dst_id;		/* the other local endpoint, when the peer is one (0: not local) */
	__u32	pad0;
	__u8	data[BL_TRACE_CAPTURE_LEN];	/* first hdr.len_cap bytes of the packet */
};
BL_ABI_KEEP(struct bl_policy_verdict_notify, policy_verdict_notify);

/* Where a socket-level translation happened (Cilium's enum xlate_point). */
enum bl_sock_xlate_point {
	BL_SOCK_XLATE_UNKNOWN = 0,
	BL_SOCK_XLATE_PRE_FWD = 1,	/* before service translation */
	BL_SOCK_XLATE_POST_FWD = 2,	/* after it: the backend chosen */
	BL_SOCK_XLATE_PRE_REV = 3,
	BL_SOCK_XLATE_POST_REV = 4,
};
BL_ABI_KEEP(enum bl_sock_xlate_point, sock_xlate_point);

/*
 * A socket's destination was translated from a Service to a backend at
 * connect() or sendmsg() (type BL_EVENT_TRACE_SOCK, Cilium's
 * TraceSockNotify): one event per translation, after it (POST_FWD),
 * carrying the Service address asked for as well. No packet exists yet:
 * hdr.len_orig and hdr.len_cap are 0; hdr.source 0 (the socket's pod is
 * found by its cgroup).
 */
struct bl_trace_sock_notify {
	struct bl_notify_hdr hdr;	/* hdr.subtype: enum bl_sock_xlate_point */
	__u64	sock_cookie;	/* bpf_get_socket_cookie() */
	__u64	cgroup_id;	/* cgroup v2 id of the process that called connect()/sendmsg() */
	__be32	dst_ip4;	/* the destination at this point (POST_FWD: the backend) */
	__be16	dst_port;
	__u8	l4_proto;	/* IPPROTO_TCP or IPPROTO_UDP */
	__u8	pad0;
	__be32	orig_ip4;	/* POST_FWD: the Service address asked for (0: none) */
	__be16	orig_port;
	__u16	pad1;
};
BL_ABI_KEEP(struct bl_trace_sock_notify, trace_sock_notify);

