/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * abi/policy.h: L3/L4 identity-based network policy (Cilium's policy map),
 * map bl_policy: one LPM trie for every local endpoint, written by the agent
 * from the policy engine's output (src/policy/), read by lib/policy.h where
 * a connection's first packet enters or leaves an endpoint whose direction
 * is enforced (bl_endpoint_info.flags, abi/lxc.h). The engine materialises
 * deny precedence and defaults; the datapath only looks up.
 */
#pragma once

#include "abi/common.h"

/*
 * Key of bl_policy, an LPM trie (bpf_lpm_trie_key: prefixlen, then the data
 * matched bit by bit). prefixlen counts the significant bits after itself:
 *   64       ep_id, egress, pad0, sec_identity: any protocol, any port;
 *   80       … and protocol (+ pad1): this protocol, any port;
 *   80 + k   … and the first k bits of dport: a port range aligned to 2^(16-k)
 *            (k = 16: one port). dport is in network byte order so that its
 *            leading bits are its high bits.
 * The datapath looks up full keys (prefixlen 96) twice: with the peer's
 * identity, then with identity 0 ("any identity"). For ICMP the "port" is
 * the ICMP type (bpf_htons(type)). Bits past prefixlen must be written as 0.
 *
 * The key's data is padded to 16 bytes (pad2, never matched: prefixlen is at
 * most 96) so that the value behind it in the trie node starts 8-byte
 * aligned: with 12 bytes of data the entry's 64-bit counters sat 4 bytes off
 * alignment and, in every other node, across a cache line, and the datapath's
 * atomic adds on them became split locks (about +1.3 µs a packet on half of
 * the endpoints, bench/datapath.ts).
 */
struct bl_policy_key {
	__u32	prefixlen;	/* host byte order, as the kernel reads it: 64, 80..96 */
	__u16	ep_id;		/* the local endpoint the entry is for (bl_endpoint_info.ep_id) */
	__u8	egress;		/* 1: egress (from the endpoint), 0: ingress (into it) */
	__u8	pad0;
	__u32	sec_identity;	/* the peer's security identity (0: any identity) */
	__u8	protocol;	/* IPPROTO_* (significant from prefixlen 80 on) */
	__u8	pad1;
	__be16	dport;		/* destination port (ICMP: type), network byte order */
	__u32	pad2;		/* alignment of the value (see above); always 0, never matched */
};

/* bl_policy_entry.verdict. */
enum bl_policy_verdict {
	BL_POLICY_ALLOW = 1,		/* allowed */
	BL_POLICY_DENY = 2,		/* an explicit deny rule: BL_DROP_POLICY_DENY */
	BL_POLICY_DEFAULT_DENY = 3,	/* the endpoint's default in a direction (identity 0, prefixlen 64):
					 * BL_DROP_POLICY, with the cookie of the policies that made it.
					 * A direction enforced with default allow (enableDefaultDeny
					 * false) holds an ALLOW on that key instead. */
};
BL_ABI_KEEP(enum bl_policy_verdict, policy_verdict);

/*
 * bl_policy_entry.flags: what the entry's own key leaves open. An LPM lookup
 * returns the value only, not the prefix that matched; the datapath needs
 * these for the match type it reports (Cilium's wildcard_protocol/dport).
 */
enum bl_policy_entry_flags {
	BL_POLICY_F_ANY_PROTO = 1 << 0,	/* the key's prefixlen is 64: any protocol, any port */
	BL_POLICY_F_ANY_PORT = 1 << 1,	/* the key's prefixlen is at most 80: any port */
	BL_POLICY_F_AUTH_REQUIRED = 1 << 2,	/* ALLOW: a rule with `authentication: {mode: required}`
						 * (Cilium's auth_type): ingress, a connection must come
						 * through the node proxy's mTLS side (proxy_sent), else
						 * BL_DROP_POLICY_AUTH_REQUIRED; egress, it is handed to the
						 * node proxy's mTLS-out listener (bl_config.mtls_out_port) */
};
BL_ABI_KEEP(enum bl_policy_entry_flags, policy_entry_flags);

/* Value of bl_policy. The counters belong to the datapath; the agent writes them 0. */
struct bl_policy_entry {
	__u8	verdict;	/* enum bl_policy_verdict */
	__u8	flags;		/* enum bl_policy_entry_flags: what the key leaves open, and auth (the agent sets them) */
	__u16	proxy_port;	/* ALLOW: the node proxy's listener (host byte order) the connection is
				 * handed to (L7 rules, lib/proxy.h); 0: none */
	__u32	cookie;		/* which policies decided: an id the agent maps to policy names */
	__u64	packets;	/* packets this entry decided (atomic adds) */
	__u64	bytes;		/* their skb->len */
};

/* How the deciding entry matched (Cilium's PolicyMatchType, same numbers). */
enum bl_policy_match {
	BL_POLICY_MATCH_NONE = 0,	/* no entry (default deny without an entry, audit) */
	BL_POLICY_MATCH_L3_ONLY = 1,	/* the peer's identity, any protocol and port */
	BL_POLICY_MATCH_L3_L4 = 2,	/* the peer's identity and a protocol (and port) */
	BL_POLICY_MATCH_L4_ONLY = 3,	/* any identity, a protocol (and port) */
	BL_POLICY_MATCH_ALL = 4,	/* any identity, any protocol and port */
};
BL_ABI_KEEP(enum bl_policy_match, policy_match);

/* What the datapath did with a packet policy was consulted for (bl_policy_verdict_notify.action). */
enum bl_policy_action {
	BL_POLICY_ACTION_ALLOW = 0,
	BL_POLICY_ACTION_DENY = 1,
	BL_POLICY_ACTION_AUDIT = 2,	/* policy would drop it; audit mode let it through */
};
BL_ABI_KEEP(enum bl_policy_action, policy_action);

/* Limits of bl_policy. */
enum bl_policy_limits {
	/* bl_policy max_entries, all endpoints together: the object's default; the
	 * agent sets the real size before load (agent config policyMapSize). */
	BL_POLICY_MAX_ENTRIES_DEFAULT = 1 << 18,
	/* Entries one endpoint may have (Cilium's --bpf-policy-map-max); enforced
	 * by the agent (agent config policyMapMax), not the kernel. */
	BL_POLICY_EP_MAX_ENTRIES_DEFAULT = 16384,
	/* prefixlen of a full lookup key (every bit after prefixlen). */
	BL_POLICY_FULL_PREFIXLEN = 96,
	/* prefixlen of "any protocol, any port" and of "this protocol, any port". */
	BL_POLICY_L3_PREFIXLEN = 64,
	BL_POLICY_PROTO_PREFIXLEN = 80,
};
BL_ABI_KEEP(enum bl_policy_limits, policy_limits);
