/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/ct.h: IPv4 connection tracking in bl_ct4 (tuple, direction and
 * timeout semantics in abi/ct.h). Per packet and observation point:
 * ct_lookup4() finds the packet's entry as a reply or as the original
 * direction, refreshes its lifetime and counters, and says whether the
 * packet is worth a trace event under the configured aggregation
 * (abi/events.h); for a new connection, ct_create4() stores the entry once
 * policy has allowed the packet.
 */
#pragma once

#include <linux/in.h>
#include <linux/ip.h>

#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/events.h"

/* The direction a packet crosses an endpoint in: the key's tuple flag. */
enum ct_dir {
	CT_EGRESS = BL_CT_TUPLE_F_OUT,	/* leaving an endpoint */
	CT_INGRESS = BL_CT_TUPLE_F_IN,	/* entering an endpoint */
};

/* What conntrack said about a packet. */
struct ct_result {
	__u8	reason;		/* enum bl_trace_reason: POLICY (new), CT_ESTABLISHED, CT_REPLY */
	bool	report;		/* worth a trace above BL_TRACE_AGG_NONE */
	__u16	rev_nat_index;	/* in: stamped on a new entry; out: the matched entry's */
	__u16	flags;		/* in: BL_CT_F_FROM_PROXY to stamp on a new entry; out: the matched entry's flags */
};

#define CT_CLOSING	(BL_CT_F_RX_CLOSING | BL_CT_F_TX_CLOSING)

/* ICMP types (RFC 792). Not from <linux/icmp.h>: it drags in libc headers
 * that a -target bpf build cannot resolve. */
#define ICMP_ECHOREPLY	0
#define ICMP_DEST_UNREACH	3
#define ICMP_ECHO	8
#define ICMP_TIME_EXCEEDED	11
#define ICMP_PARAMETERPROB	12

/*
 * Seconds of CLOCK_MONOTONIC, the clock of bl_ct_entry's times. The coarse
 * clock (CLOCK_MONOTONIC_COARSE: the same clock as of the last tick, at most
 * a tick behind) is read from memory, where bpf_ktime_get_ns() reads the
 * clocksource; at a resolution of seconds the tick makes no difference.
 */
static __always_inline __u32 ct_now(void)
{
	return bpf_ktime_get_coarse_ns() / 1000000000ULL;
}

/*
 * Fills the key's addresses, protocol and ports from the packet as it is on
 * the wire (the original-direction tuple; flags are the caller's). A first
 * fragment or unfragmented packet too short for the ports (TCP: for the
 * flags byte too; ICMP: for the echo identifier) is dropped with
 * BL_DROP_CT_INVALID_HDR. Ports come from pkt (ipv4_parse() read them);
 * bpf_skb_load_bytes() bounds-checks against the whole skb, paged data
 * included, so no pull is needed for ICMP's.
 */
static __always_inline int ct_tuple4(struct __sk_buff *skb, const struct pkt_meta *pkt,
				     struct bl_ct4_key *t)
{
	__u8 icmp[6];

	t->daddr = pkt->daddr;
	t->saddr = pkt->saddr;
	t->nexthdr = pkt->l4_proto;
	if (pkt->fragment)
		return CTX_ACT_OK;	/* no L4 header: ports stay 0 */

	switch (pkt->l4_proto) {
	case IPPROTO_TCP:
		/* Up to and including the flags byte (offset 13). */
		if (skb->len < pkt->l4_off + 14)
			return DROP(BL_DROP_CT_INVALID_HDR);
		/* fallthrough */
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (!pkt->l4_ports)
			return DROP(BL_DROP_CT_INVALID_HDR);
		t->sport = pkt->sport;
		t->dport = pkt->dport;
		break;
	case IPPROTO_ICMP:
		/* type, code, checksum, then the echo identifier at offset 4. */
		if (bpf_skb_load_bytes(skb, pkt->l4_off, icmp, sizeof(icmp)) < 0)
			return DROP(BL_DROP_CT_INVALID_HDR);
		/* The identifier stays in network byte order, like a port. */
		if (icmp[0] == ICMP_ECHO)
			__builtin_memcpy(&t->sport, &icmp[4], sizeof(t->sport));
		else if (icmp[0] == ICMP_ECHOREPLY)
			__builtin_memcpy(&t->dport, &icmp[4], sizeof(t->dport));
		/* Errors (unreachable, time exceeded …) are not yet matched to
		 * the connection they quote: tracked with ports 0. */
		break;
	default:
		break;
	}
	return CTX_ACT_OK;
}

/*
 * Applies one packet's TCP flags and the time to an entry: flags seen,
 * closing/reopening, lifetime. Returns whether its flags are new in its
 * direction as far as trace aggregation cares. Counters are the caller's
 * (atomically for a shared entry).
 *
 * Flag and lifetime updates are plain stores: two CPUs racing on one entry
 * can lose a bit or a refresh, which the next packet repairs (Cilium accepts
 * the same).
 */
static __always_inline bool ct_entry_update(struct bl_ct_entry *e, const struct pkt_meta *pkt,
					    bool reply, __u32 now)
{
	__u8 tcp = pkt->l4_proto == IPPROTO_TCP ? pkt->tcp_flags : 0;
	__u8 seen = reply ? e->rx_flags_seen : e->tx_flags_seen;
	__u16 flags = e->flags;
	bool new_flags;
	__u32 timeout;

	if (pkt->l4_proto != IPPROTO_TCP) {
		e->lifetime = now + BL_CT_LIFETIME_NONTCP;
		return false;
	}

	/* A fresh SYN in the original direction of a closing connection: the
	 * port pair is being reused; start over as a new handshake. */
	if ((flags & CT_CLOSING) && !reply &&
	    (tcp & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_FIN)) == TCP_FLAG_SYN) {
		flags &= ~(CT_CLOSING | BL_CT_F_SEEN_NON_SYN);
		e->rx_flags_seen = 0;
		seen = 0;
	}

	new_flags = (tcp & ~seen & trace_agg_tcp_flags()) != 0;
	if (tcp & ~seen) {
		if (reply)
			e->rx_flags_seen = seen | tcp;
		else
			e->tx_flags_seen = seen | tcp;
	}

	if (tcp & TCP_FLAG_RST)
		flags |= CT_CLOSING;
	else if (tcp & TCP_FLAG_FIN)
		flags |= reply ? BL_CT_F_RX_CLOSING : BL_CT_F_TX_CLOSING;
	if (!(tcp & TCP_FLAG_SYN))
		flags |= BL_CT_F_SEEN_NON_SYN;

	if (flags & CT_CLOSING)
		timeout = BL_CT_CLOSE_TIMEOUT;
	else if ((flags & BL_CT_F_SEEN_NON_SYN) && e->tx_packets && e->rx_packets)
		timeout = BL_CT_LIFETIME_TCP;	/* handshake done: both ways, past SYN */
	else
		timeout = BL_CT_SYN_TIMEOUT;
	e->flags = flags;
	e->lifetime = now + timeout;
	return new_flags;
}

/*
 * A BL_CT_TUPLE_F_SERVICE entry sees one direction only: the replies are
 * reverse-NATed by the connection's own entries and never look it up, so
 * ct_entry_update's "both ways carried packets" never holds for it and it
 * would stay on BL_CT_SYN_TIMEOUT for the connection's whole life. An idle
 * translated connection would then lose its backend to the garbage collector
 * after a minute and its next packet go to another. Past the SYN it lives as
 * long as an established connection (Cilium's CT_SERVICE entries do the same),
 * closing and non-TCP timeouts unchanged.
 */
static __always_inline void ct_service_refresh(struct bl_ct_entry *e, const struct pkt_meta *pkt, __u32 now)
{
	if (pkt->l4_proto == IPPROTO_TCP && (e->flags & BL_CT_F_SEEN_NON_SYN) && !(e->flags & CT_CLOSING))
		e->lifetime = now + BL_CT_LIFETIME_TCP;
}

/* Whether a packet of an existing entry is worth a trace (abi/events.h). */
static __always_inline bool ct_report(struct bl_ct_entry *e, bool first_of_dir, bool new_flags,
				      __u32 now)
{
	if (!first_of_dir && !new_flags && now - e->last_report < BL_CT_REPORT_INTERVAL)
		return false;
	e->last_report = now;
	return true;
}

/* Counts one packet of an existing entry, atomically: other CPUs share it. */
static __always_inline void ct_count(struct bl_ct_entry *e, bool reply, __u32 len)
{
	if (reply) {
		__sync_fetch_and_add(&e->rx_packets, 1);
		__sync_fetch_and_add(&e->rx_bytes, len);
	} else {
		__sync_fetch_and_add(&e->tx_packets, 1);
		__sync_fetch_and_add(&e->tx_bytes, len);
	}
}

/*
 * Whether an ICMP error (destination unreachable, time exceeded, parameter
 * problem) quotes a packet of a connection tracked here: Cilium's
 * CT_RELATED, which passes like a reply (a "fragmentation needed" for a
 * connection policy allowed must reach its sender). The quoted packet went
 * the other way through this endpoint: either in its connection's original
 * direction there (the entry of the opposite flag, quoted tuple as is) or as
 * a reply (the entry of this direction, quoted tuple reversed). TCP, UDP and
 * SCTP quotes only; anything unreadable is not related.
 */
static __always_inline bool ct_icmp_related4(struct __sk_buff *skb, const struct pkt_meta *pkt, enum ct_dir dir)
{
	struct bl_ct4_key k = {};
	struct iphdr quoted;
	__be16 ports[2];
	__u8 type;
	__u32 off;

	if (pkt->fragment || pkt->l4_proto != IPPROTO_ICMP)
		return false;
	if (bpf_skb_load_bytes(skb, pkt->l4_off, &type, sizeof(type)) < 0)
		return false;
	if (type != ICMP_DEST_UNREACH && type != ICMP_TIME_EXCEEDED && type != ICMP_PARAMETERPROB)
		return false;
	/* The quoted IPv4 header follows the 8-byte ICMP header. */
	off = pkt->l4_off + 8;
	if (bpf_skb_load_bytes(skb, off, &quoted, sizeof(quoted)) < 0)
		return false;
	if (quoted.version != 4 || quoted.ihl < 5)
		return false;
	if (quoted.protocol != IPPROTO_TCP && quoted.protocol != IPPROTO_UDP && quoted.protocol != IPPROTO_SCTP)
		return false;
	if (bpf_skb_load_bytes(skb, off + quoted.ihl * 4, ports, sizeof(ports)) < 0)
		return false;
	k.saddr = quoted.saddr;
	k.daddr = quoted.daddr;
	k.sport = ports[0];
	k.dport = ports[1];
	k.nexthdr = quoted.protocol;
	k.flags = dir == CT_EGRESS ? CT_INGRESS : CT_EGRESS;
	if (bpf_map_lookup_elem(&bl_ct4, &k))
		return true;
	k.saddr = quoted.daddr;
	k.daddr = quoted.saddr;
	k.sport = ports[1];
	k.dport = ports[0];
	k.flags = dir;
	return bpf_map_lookup_elem(&bl_ct4, &k) != NULL;
}

/*
 * Which of a packet's two possible entries to look up first. Only one of
 * them can exist: an entry is created only after both lookups missed, and
 * while {T, D} exists a packet that would create {reverse(T), !D} finds
 * {T, D} as its reply instead. So the order decides nothing (but for two
 * CPUs creating both at the same instant, where the first found wins), it
 * only saves the miss: a connection's packets from its client mostly carry
 * an ephemeral source port above the server's port, its replies the
 * reverse; equal ports (and ICMP: identifier as sport on a request, dport
 * on a reply) read as the original direction.
 */
static __always_inline bool ct_reply_likely(const struct bl_ct4_key *tuple)
{
	return bpf_ntohs(tuple->sport) < bpf_ntohs(tuple->dport);
}

/* A packet found as a reply (entry of the opposite flag, tuple reversed). */
static __always_inline int ct_hit_reply(struct bl_ct_entry *e, const struct pkt_meta *pkt,
					struct ct_result *res, __u32 len, __u32 now)
{
	bool first = e->rx_packets == 0, new_flags;

	ct_count(e, true, len);
	new_flags = ct_entry_update(e, pkt, true, now);
	res->reason = BL_TRACE_REASON_CT_REPLY;
	res->report = ct_report(e, first, new_flags, now);
	res->rev_nat_index = e->rev_nat_index;
	res->flags = e->flags;
	return CTX_ACT_OK;
}

/* A packet found in its connection's original direction (flag dir). */
static __always_inline int ct_hit_original(struct bl_ct_entry *e, const struct pkt_meta *pkt,
					   enum ct_dir dir, struct ct_result *res, __u32 len, __u32 now)
{
	bool first = e->tx_packets == 0, new_flags;

	ct_count(e, false, len);
	new_flags = ct_entry_update(e, pkt, false, now);
	res->reason = BL_TRACE_REASON_CT_ESTABLISHED;
	res->report = ct_report(e, first, new_flags, now);
	/* The original direction says which frontend this packet came
	 * through: a client port reused for another Service that picked
	 * the same backend lands on the old connection's entry, and its
	 * replies must go back as the new frontend, not the old one. At
	 * egress every packet says (0: not translated); at ingress only
	 * the NodePort path does. */
	if (e->rev_nat_index != res->rev_nat_index && (dir == CT_EGRESS || res->rev_nat_index))
		e->rev_nat_index = res->rev_nat_index;
	res->rev_nat_index = e->rev_nat_index;
	res->flags = e->flags;
	return CTX_ACT_OK;
}

/*
 * Conntrack for an IPv4 packet crossing an endpoint in direction dir, the
 * lookup half: as a reply (its reversed tuple with the opposite flag) and
 * in the original direction (its tuple with flag dir), in the order
 * ct_reply_likely() picks, stopping at the first hit (only one can
 * exist, see there); a hit is counted and refreshed; an ICMP error quoting a
 * tracked connection is BL_TRACE_REASON_CT_RELATED. A miss creates nothing:
 * res->reason is BL_TRACE_REASON_POLICY (new) and *tuple holds the key for
 * ct_create4(), which the caller calls once policy (lib/policy.h) has let
 * the packet through, so a dropped packet leaves no entry behind.
 * res->rev_nat_index (in) is the service the packet was translated for; on
 * return it holds the matched entry's, so a reply can be translated back.
 * Returns CTX_ACT_OK, or BL_DROP_CT_INVALID_HDR for a truncated L4 header.
 */
static __always_inline int ct_lookup4(struct __sk_buff *skb, const struct pkt_meta *pkt,
				      enum ct_dir dir, struct ct_result *res, struct bl_ct4_key *tuple)
{
	struct bl_ct4_key rev = {};
	struct bl_ct_entry *e;
	__u32 now, len = skb->len;
	int ret;

	ret = ct_tuple4(skb, pkt, tuple);
	if (IS_DROP(ret))
		return ret;
	tuple->flags = dir;
	rev.daddr = tuple->saddr;
	rev.saddr = tuple->daddr;
	rev.dport = tuple->sport;
	rev.sport = tuple->dport;
	rev.nexthdr = tuple->nexthdr;
	rev.flags = dir == CT_EGRESS ? CT_INGRESS : CT_EGRESS;
	now = ct_now();

	/* One lookup for most packets: try first the direction the ports
	 * suggest (below), the other only on a miss. */
	if (ct_reply_likely(tuple)) {
		e = bpf_map_lookup_elem(&bl_ct4, &rev);
		if (e)
			return ct_hit_reply(e, pkt, res, len, now);
		e = bpf_map_lookup_elem(&bl_ct4, tuple);
		if (e)
			return ct_hit_original(e, pkt, dir, res, len, now);
	} else {
		e = bpf_map_lookup_elem(&bl_ct4, tuple);
		if (e)
			return ct_hit_original(e, pkt, dir, res, len, now);
		e = bpf_map_lookup_elem(&bl_ct4, &rev);
		if (e)
			return ct_hit_reply(e, pkt, res, len, now);
	}

	/* An ICMP error about a tracked connection: related, no entry of its own. */
	if (ct_icmp_related4(skb, pkt, dir)) {
		res->reason = BL_TRACE_REASON_CT_RELATED;
		res->report = true;
		return CTX_ACT_OK;
	}

	res->reason = BL_TRACE_REASON_POLICY;
	res->report = true;
	return CTX_ACT_OK;
}

/*
 * The creation half: stores the entry of a new connection (ct_lookup4() said
 * BL_TRACE_REASON_POLICY and filled *tuple), stamped with
 * res->rev_nat_index. Returns CTX_ACT_OK or BL_DROP_CT_CREATE_FAILED.
 */
static __always_inline int ct_create4(struct __sk_buff *skb, const struct pkt_meta *pkt,
				      const struct bl_ct4_key *tuple, const struct ct_result *res)
{
	struct bl_ct_entry fresh = {};
	__u32 now = ct_now();

	/* New: the stack copy is private, so plain stores. Two CPUs creating
	 * the same entry at once both succeed (BPF_ANY); the later one wins
	 * and one packet goes uncounted. */
	fresh.tx_packets = 1;
	fresh.tx_bytes = skb->len;
	fresh.created = now;
	fresh.last_report = now;
	fresh.rev_nat_index = res->rev_nat_index;
	fresh.flags = res->flags & BL_CT_F_FROM_PROXY;
	ct_entry_update(&fresh, pkt, false, now);
	if (bpf_map_update_elem(&bl_ct4, tuple, &fresh, BPF_ANY) < 0)
		return DROP(BL_DROP_CT_CREATE_FAILED);
	return CTX_ACT_OK;
}
