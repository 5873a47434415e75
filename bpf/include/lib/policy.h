/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/policy.h: L3/L4 policy enforcement (Cilium's lib/policy.h) over
 * bl_policy (abi/policy.h). The userspace engine materialises deny
 * precedence and the defaults of each direction into map entries; the
 * datapath does two LPM lookups and applies a fixed order:
 *   e1 = the peer's identity, e2 = any identity (0);
 *   a DENY (e1 first) drops with BL_DROP_POLICY_DENY;
 *   else an ALLOW (e1 first) lets the packet through;
 *   else BL_DROP_POLICY, with e2's cookie when e2 is the DEFAULT_DENY entry.
 * A direction enforced with default allow has an ALLOW on (identity 0, any
 * protocol), so only its denies drop; nothing here tells the two apart.
 * Mutual authentication (BL_POLICY_F_AUTH_REQUIRED, issue 15): an allowed
 * packet needs it when the deciding allow has the flag, or when e2 is an
 * allow with the flag (a rule for any peer asks every peer to authenticate,
 * as Cilium propagates auth to more specific entries), except for the node
 * itself (host), whose probes never come through the proxy. The caller says
 * whether the packet's connection is authenticated; if not, it is dropped
 * with BL_DROP_POLICY_AUTH_REQUIRED (189).
 * Callers consult it for every packet that is not a reply in a direction
 * the endpoint enforces (bl_endpoint_info.flags), before creating the
 * connection's conntrack entry, and report verdicts (abi/events.h).
 */
#pragma once

#include <linux/in.h>

#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/events.h"

/* What policy said about a packet. */
struct policy_result {
	__s32	verdict;	/* CTX_ACT_OK, or DROP(reason) as policy decided (before audit) */
	__u32	cookie;		/* the deciding entry's cookie (0: none) */
	__u8	action;		/* enum bl_policy_action */
	__u8	match_type;	/* enum bl_policy_match */
	__u16	proxy_port;	/* allowed by an entry with L7 rules: the node proxy's port (0: none) */
	bool	auth_required;	/* allowed by an entry that requires mutual authentication */
};

/* A peer without a known identity is the world, as in Cilium. */
static __always_inline __u32 identity_or_world(__u32 identity)
{
	return identity ? identity : BL_IDENTITY_WORLD;
}

/* The entry of the most specific prefix matching the full key, or NULL. */
static __always_inline struct bl_policy_entry *policy_lookup(__u16 ep_id, __u8 egress, __u32 identity,
							     __u8 proto, __be16 dport)
{
	/* Designated initialiser: the pad fields are zero, as in the agent's keys. */
	struct bl_policy_key key = {
		.prefixlen = BL_POLICY_FULL_PREFIXLEN,
		.ep_id = ep_id,
		.egress = egress,
		.sec_identity = identity,
		.protocol = proto,
		.dport = dport,
	};

	return bpf_map_lookup_elem(&bl_policy, &key);
}

/* Cilium's PolicyMatchType of a deciding entry: e1 (the peer's identity) or e2 (any). */
static __always_inline __u8 policy_match_type(const struct bl_policy_entry *e, bool by_identity)
{
	bool any_proto = e->flags & BL_POLICY_F_ANY_PROTO;

	if (by_identity)
		return any_proto ? BL_POLICY_MATCH_L3_ONLY : BL_POLICY_MATCH_L3_L4;
	return any_proto ? BL_POLICY_MATCH_ALL : BL_POLICY_MATCH_L4_ONLY;
}

/*
 * Whether endpoint ep_id (its bl_endpoint_info.flags in ep_flags) may send
 * (dir BL_DIR_EGRESS) or receive (BL_DIR_INGRESS) a packet of protocol proto
 * to port dport (network byte order; ICMP: the type) from or to
 * peer_identity. The deciding entry counts the packet (len bytes). Returns
 * CTX_ACT_OK or the drop; in audit mode (BL_EP_F_POLICY_AUDIT) always
 * CTX_ACT_OK, with res->action BL_POLICY_ACTION_AUDIT where policy would
 * have dropped. authenticated: the packet's connection went through the
 * node proxy's mutual authentication; an allow that requires it drops the
 * packet otherwise (BL_DROP_POLICY_AUTH_REQUIRED).
 */
static __always_inline int policy_can_access(__u16 ep_id, __u16 ep_flags, __u8 dir, __u32 peer_identity,
					     __u8 proto, __be16 dport, __u32 len, bool authenticated,
					     struct policy_result *res)
{
	__u8 egress = dir == BL_DIR_EGRESS;
	struct bl_policy_entry *e1 = NULL, *e2, *e = NULL;

	if (peer_identity)
		e1 = policy_lookup(ep_id, egress, peer_identity, proto, dport);
	e2 = policy_lookup(ep_id, egress, 0, proto, dport);

	res->match_type = BL_POLICY_MATCH_NONE;
	if (e1 && e1->verdict == BL_POLICY_DENY) {
		e = e1;
		res->verdict = DROP(BL_DROP_POLICY_DENY);
		res->match_type = policy_match_type(e1, true);
	} else if (e2 && e2->verdict == BL_POLICY_DENY) {
		e = e2;
		res->verdict = DROP(BL_DROP_POLICY_DENY);
		res->match_type = policy_match_type(e2, false);
	} else if (e1 && e1->verdict == BL_POLICY_ALLOW) {
		e = e1;
		res->verdict = CTX_ACT_OK;
		res->match_type = policy_match_type(e1, true);
	} else if (e2 && e2->verdict == BL_POLICY_ALLOW) {
		e = e2;
		res->verdict = CTX_ACT_OK;
		res->match_type = policy_match_type(e2, false);
	} else {
		/* Nothing allows it: the direction's default. Its entry (if the
		 * agent wrote one) names the policies that made the default deny. */
		if (e2 && e2->verdict == BL_POLICY_DEFAULT_DENY)
			e = e2;
		res->verdict = DROP(BL_DROP_POLICY);
	}

	res->auth_required = false;
	if (res->verdict == CTX_ACT_OK) {
		res->auth_required = (e->flags & BL_POLICY_F_AUTH_REQUIRED) ||
				     (e2 && e2->verdict == BL_POLICY_ALLOW && (e2->flags & BL_POLICY_F_AUTH_REQUIRED) &&
				      peer_identity != BL_IDENTITY_HOST);
		if (res->auth_required && !authenticated)
			res->verdict = DROP(BL_DROP_POLICY_AUTH_REQUIRED);
	}

	res->cookie = 0;
	res->proxy_port = 0;
	if (e) {
		res->cookie = e->cookie;
		if (res->verdict == CTX_ACT_OK)
			res->proxy_port = e->proxy_port;
		/* Shared by every CPU: atomic adds. */
		__sync_fetch_and_add(&e->packets, 1);
		__sync_fetch_and_add(&e->bytes, len);
	}

	if (res->verdict == CTX_ACT_OK) {
		res->action = BL_POLICY_ACTION_ALLOW;
		return CTX_ACT_OK;
	}
	if (ep_flags & BL_EP_F_POLICY_AUDIT) {
		res->action = BL_POLICY_ACTION_AUDIT;
		return CTX_ACT_OK;
	}
	res->action = BL_POLICY_ACTION_DENY;
	return res->verdict;
}

/*
 * The "port" policy matches a packet on: the destination port of TCP, UDP
 * and SCTP as conntrack read it (tuple), the type of ICMP; 0 for other
 * protocols and for non-first fragments, which carry no L4 header.
 */
static __always_inline __be16 policy_dport(struct __sk_buff *skb, const struct pkt_meta *pkt,
					   const struct bl_ct4_key *tuple)
{
	__u8 type;

	if (pkt->fragment)
		return 0;
	switch (pkt->l4_proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		return tuple->dport;
	case IPPROTO_ICMP:
		if (bpf_skb_load_bytes(skb, pkt->l4_off, &type, sizeof(type)) < 0)
			return 0;
		return bpf_htons(type);
	default:
		return 0;
	}
}

/* Reports a policy decision (type BL_EVENT_POLICY_VERDICT), if configured. */
static __always_inline void send_policy_verdict_notify(struct __sk_buff *skb, const struct pkt_meta *pkt,
						       const struct trace_meta *tm, __u8 dir,
						       __u32 remote_identity, __u8 proto, __be16 dport,
						       const struct policy_result *res)
{
	struct bl_policy_verdict_notify *ev;

	if (!(bl_config.flags & BL_CFG_POLICY_VERDICT_NOTIFY))
		return;
	ev = bpf_ringbuf_reserve(&bl_events, sizeof(*ev), 0);
	if (!ev) {
		events_lost_inc(BL_EVENT_POLICY_VERDICT);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	notify_hdr_fill(&ev->hdr, skb, BL_EVENT_POLICY_VERDICT, 0, pkt->l3_proto, tm);
	ev->remote_identity = remote_identity;
	ev->verdict = res->verdict;
	ev->cookie = res->cookie;
	ev->dport = dport;
	ev->proto = proto;
	ev->dir = dir;
	ev->action = res->action;
	ev->match_type = res->match_type;
	ev->dst_id = tm->dst_id;
	ev->hdr.len_cap = capture_packet(skb, ev->data);
	bpf_ringbuf_submit(ev, 0);
}

/*
 * Reports policy_can_access()'s decision (res) about a packet of local
 * endpoint ep in direction dir, to or from peer (its identity, never 0) and
 * peer_ep (its endpoint id when it is local, else 0).
 */
static __always_inline void policy_verdict_report(struct __sk_buff *skb, const struct pkt_meta *pkt,
						  const struct bl_endpoint_info *ep, __u8 dir, __u32 peer,
						  __u16 peer_ep, __be16 dport, const struct policy_result *res)
{
	struct trace_meta ev = {};

	ev.source = ep->ep_id;
	ev.dst_id = peer_ep;
	ev.src_identity = dir == BL_DIR_EGRESS ? ep->sec_identity : peer;
	ev.dst_identity = dir == BL_DIR_EGRESS ? peer : ep->sec_identity;
	send_policy_verdict_notify(skb, pkt, &ev, dir, peer, pkt->l4_proto, dport, res);
}

/*
 * Enforcement at one endpoint: the policy of local endpoint ep in direction
 * dir (BL_DIR_INGRESS: packets into it, BL_DIR_EGRESS: packets from it) for
 * a packet that is not a reply (ct_reason: BL_TRACE_REASON_POLICY for a new
 * connection, else CT_ESTABLISHED). peer: the other side's identity (0 is
 * taken as the world); peer_ep: its endpoint id when it is local (0: not).
 * A direction the endpoint does not enforce is not looked up. Emits the
 * verdict event for a new connection and for every drop; on a drop, tm
 * (the caller's event metadata) gets the cookie for the drop event.
 * *proxy_port: the node proxy's port when the allowing entry has L7 rules
 * (the caller hands the connection to the proxy, lib/proxy.h), else 0.
 * authenticated: the connection is (ingress) or will be (egress: handed to
 * the mTLS-out listener) mutually authenticated; *auth_required: the
 * allowing entries asked for it (policy_can_access). Returns CTX_ACT_OK or
 * the policy drop (BL_DROP_POLICY_AUTH_REQUIRED: allowed only authenticated).
 */
static __always_inline int policy_enforce(struct __sk_buff *skb, const struct pkt_meta *pkt,
					  const struct bl_ct4_key *tuple, __u8 ct_reason,
					  const struct bl_endpoint_info *ep, __u8 dir, __u32 peer,
					  __u16 peer_ep, struct trace_meta *tm, __u16 *proxy_port,
					  bool authenticated, bool *auth_required)
{
	__u16 flag = dir == BL_DIR_INGRESS ? BL_EP_F_POLICY_INGRESS : BL_EP_F_POLICY_EGRESS;
	struct policy_result res = {};
	__be16 dport;
	int ret;

	*proxy_port = 0;
	*auth_required = false;
	if (!(ep->flags & flag))
		return CTX_ACT_OK;
	peer = identity_or_world(peer);
	dport = policy_dport(skb, pkt, tuple);
	ret = policy_can_access(ep->ep_id, ep->flags, dir, peer, pkt->l4_proto, dport, skb->len, authenticated, &res);
	*auth_required = res.auth_required;
	if (IS_DROP(ret))
		tm->cookie = res.cookie;
	else if ((pkt->l4_proto == IPPROTO_TCP || pkt->l4_proto == IPPROTO_UDP) && res.proxy_port) {
		*proxy_port = res.proxy_port;
		/* Cilium's verdict event says a redirect with the proxy port as
		 * its verdict (Hubble: REDIRECTED). */
		res.verdict = res.proxy_port;
	}
	if (IS_DROP(ret) || ct_reason == BL_TRACE_REASON_POLICY)
		policy_verdict_report(skb, pkt, ep, dir, peer, peer_ep, dport, &res);
	return ret;
}
