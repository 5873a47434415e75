/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * abi/drop.h: why a packet was dropped. The numbers are Cilium's
 * (bpf/lib/drop_reasons.h, pkg/monitor/api/drop.go) wherever the meaning is
 * the same, so tooling and muscle memory carry over: 134 is "invalid packet"
 * in both. Reasons are carried as __u8 in bl_metrics_key.reason and
 * bl_notify_hdr.subtype; inside the datapath a helper returns the negated
 * value (-BL_DROP_INVALID) to say "drop" (see lib/common.h).
 */
#pragma once

#include "abi/common.h"

/* Drop reasons; 0 is not a drop (metrics count forwarded packets under it). */
enum bl_drop_reason {
	BL_DROP_SUCCESS = 0,			/* not a drop: see enum bl_forward_reason */
	BL_DROP_INVALID_SMAC = 130,		/* Cilium has since retired 130/131 (DROP_UNUSED1/2) */
	BL_DROP_INVALID_DMAC = 131,
	BL_DROP_INVALID_SIP = 132,		/* source address is not the sending pod's own */
	BL_DROP_POLICY = 133,			/* denied by L3 policy (no allow rule) */
	BL_DROP_INVALID = 134,			/* malformed packet */
	BL_DROP_CT_INVALID_HDR = 135,		/* conntrack: truncated or invalid L4 header */
	BL_DROP_FRAG_NEEDED = 136,
	BL_DROP_CT_UNKNOWN_PROTO = 137,
	BL_DROP_UNKNOWN_L3 = 139,
	BL_DROP_MISSED_TAIL_CALL = 140,
	BL_DROP_WRITE_ERROR = 141,		/* a packet rewrite helper failed */
	BL_DROP_UNKNOWN_L4 = 142,
	BL_DROP_UNKNOWN_ICMP4_CODE = 143,
	BL_DROP_UNKNOWN_ICMP4_TYPE = 144,
	BL_DROP_UNKNOWN_ICMP6_CODE = 145,
	BL_DROP_UNKNOWN_ICMP6_TYPE = 146,
	BL_DROP_NO_TUNNEL_KEY = 147,
	BL_DROP_UNKNOWN_TARGET = 150,		/* unknown L3 target address */
	BL_DROP_UNROUTABLE = 151,		/* "stale or unroutable IP": in this node's pod CIDR (or
						 * arrived through the tunnel) but no local endpoint has it */
	BL_DROP_CSUM_L3 = 153,
	BL_DROP_CSUM_L4 = 154,
	BL_DROP_CT_CREATE_FAILED = 155,
	BL_DROP_INVALID_EXTHDR = 156,
	BL_DROP_FRAG_NOSUPPORT = 157,
	BL_DROP_NO_SERVICE = 158,		/* service has no backend */
	BL_DROP_UNSUPP_SERVICE_PROTO = 159,
	BL_DROP_NO_TUNNEL_ENDPOINT = 160,
	BL_DROP_UNKNOWN_CT = 163,
	BL_DROP_HOST_UNREACHABLE = 164,
	BL_DROP_NO_CONFIG = 165,
	BL_DROP_UNSUPPORTED_L2 = 166,
	BL_DROP_NAT_NO_MAPPING = 167,
	BL_DROP_NAT_UNSUPP_PROTO = 168,
	BL_DROP_NO_FIB = 169,			/* FIB lookup failed */
	BL_DROP_INVALID_IDENTITY = 171,
	BL_DROP_UNKNOWN_SENDER = 172,
	BL_DROP_FRAG_NOT_FOUND = 175,
	BL_DROP_SOCKET_LOOKUP_FAILED = 178,	/* L7 redirect: the node proxy has no socket for the connection (not running?) */
	BL_DROP_SOCKET_ASSIGN_FAILED = 179,	/* L7 redirect: bpf_sk_assign() refused the proxy's socket */
	BL_DROP_POLICY_DENY = 181,		/* denied by an explicit deny rule */
	BL_DROP_INVALID_VNI = 183,
	BL_DROP_POLICY_AUTH_REQUIRED = 189,	/* "Authentication required": allowed by an entry with
						 * BL_POLICY_F_AUTH_REQUIRED, not through the node proxy's mTLS side */
	BL_DROP_TTL_EXCEEDED = 196,		/* TTL would reach 0 on a routed hop */
	BL_DROP_RATE_LIMITED = 198,
};
BL_ABI_KEEP(enum bl_drop_reason, drop_reason);
