/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * abi/ct.h: IPv4 connection tracking, map bl_ct4 (Cilium's cilium_ct4_global).
 * The datapath creates and refreshes entries (lib/ct.h); the agent's garbage
 * collector deletes the ones whose lifetime has passed and the CLI shows them,
 * both with the timeouts below.
 *
 * One connection has up to two entries per node, told apart by the direction
 * flag, as in Cilium:
 *   BL_CT_TUPLE_F_OUT  made by a packet leaving an endpoint (pod egress);
 *   BL_CT_TUPLE_F_IN   made by a packet entering an endpoint (pod ingress).
 * Pod A → pod B on the same node therefore makes {B,A,OUT} at A's egress and
 * {B,A,IN} at B's ingress. A packet in direction D is looked up as a reply:
 * its reversed tuple with the opposite flag (B's SYN-ACK leaving B finds
 * {B,A,IN}: B's own entry, seen from the other side), and as a packet of the
 * original direction: its tuple with flag D. Only one of the two can exist
 * (an entry is made only when both miss), so the datapath tries first the
 * one the packet's ports make likely (lib/ct.h, ct_reply_likely). A miss on
 * both creates the entry.
 */
#pragma once

#include "abi/common.h"

/* bl_ct4_key.flags: the direction the connection was first seen in. */
enum bl_ct_tuple_flags {
	BL_CT_TUPLE_F_OUT = 0,	/* created leaving an endpoint (Cilium's TUPLE_F_OUT) */
	BL_CT_TUPLE_F_IN = 1,	/* created entering an endpoint (Cilium's TUPLE_F_IN) */
	BL_CT_TUPLE_F_SERVICE = 2, /* a connection to a Service frontend, before translation:
				    * remembers its backend (Cilium's CT_SERVICE) */
};
BL_ABI_KEEP(enum bl_ct_tuple_flags, ct_tuple_flags);

/*
 * Key of bl_ct4: the first packet's addresses and ports as on the wire
 * (network byte order). Unlike Cilium's ipv4_ct_tuple, whose ports end up
 * swapped because it loads both with one 32-bit read, dport is the
 * destination port. ICMP echo request/reply use the echo identifier as the
 * port: a request is (sport = id, dport = 0), a reply (sport = 0, dport = id),
 * so a reply reversed is its request. Other ICMP types and protocols without
 * ports, and non-first fragments, have both ports 0.
 */
struct bl_ct4_key {
	__be32	daddr;
	__be32	saddr;
	__be16	dport;
	__be16	sport;
	__u8	nexthdr;	/* IPPROTO_* */
	__u8	flags;		/* enum bl_ct_tuple_flags */
	__u16	pad0;
};

/* bl_ct_entry.flags. */
enum bl_ct_entry_flags {
	BL_CT_F_RX_CLOSING = 1 << 0,	/* FIN or RST seen in the reply direction */
	BL_CT_F_TX_CLOSING = 1 << 1,	/* FIN or RST seen in the original direction */
	BL_CT_F_SEEN_NON_SYN = 1 << 2,	/* a TCP packet without SYN was seen */
	BL_CT_F_FROM_PROXY = 1 << 3,	/* the node proxy's own upstream connection into the endpoint:
					 * its replies go to the proxy's socket (lib/proxy.h) */
};
BL_ABI_KEEP(enum bl_ct_entry_flags, ct_entry_flags);

/*
 * Timeouts and the report interval, in seconds (Cilium's defaults). An entry's
 * lifetime is refreshed to now + one of these on every packet:
 *   TCP, until non-SYN packets have been seen and both directions have
 *       carried packets:                            BL_CT_SYN_TIMEOUT
 *   TCP, then:                                      BL_CT_LIFETIME_TCP
 *   TCP, once FIN or RST is seen either way:        BL_CT_CLOSE_TIMEOUT
 *       (until a new SYN in the original direction reopens it)
 *   UDP, ICMP and anything else:                    BL_CT_LIFETIME_NONTCP
 * A BL_CT_TUPLE_F_SERVICE entry sees the original direction only: it takes
 * BL_CT_LIFETIME_TCP as soon as a non-SYN packet passed (lib/ct.h,
 * ct_service_refresh).
 */
enum bl_ct_timeouts {
	BL_CT_LIFETIME_TCP = 21600,
	BL_CT_SYN_TIMEOUT = 60,
	BL_CT_CLOSE_TIMEOUT = 10,
	BL_CT_LIFETIME_NONTCP = 60,
	BL_CT_REPORT_INTERVAL = 5,	/* an active entry is traced at least this often above BL_TRACE_AGG_NONE */
};
BL_ABI_KEEP(enum bl_ct_timeouts, ct_timeouts);

/*
 * Value of bl_ct4. Times are seconds of CLOCK_MONOTONIC
 * (bpf_ktime_get_coarse_ns() / 1e9, at most a tick behind): the collector
 * compares lifetime with its own clock_gettime(CLOCK_MONOTONIC). "tx" is the direction of the packet that
 * created the entry, "rx" the replies.
 */
struct bl_ct_entry {
	__u32	lifetime;	/* absolute: the entry is dead once now > lifetime */
	__u8	tx_flags_seen;	/* TCP flags (byte 13) seen in the original direction, OR-ed */
	__u8	rx_flags_seen;	/* … in the reply direction */
	__u16	flags;		/* enum bl_ct_entry_flags */
	__u64	tx_packets;
	__u64	tx_bytes;	/* skb->len, Ethernet header included */
	__u64	rx_packets;
	__u64	rx_bytes;
	__u32	created;	/* when the first packet was seen */
	__u32	last_report;	/* when a packet of it was last traced (trace aggregation) */
	__u32	backend_id;	/* BL_CT_TUPLE_F_SERVICE entries: the backend chosen (bl_lb4_backends) */
	__u16	rev_nat_index;	/* non-zero: the connection was sent to a backend of this service;
				 * its replies are rewritten back to the frontend (bl_lb4_reverse_nat) */
	__u16	pad0;
};
