/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/common.h: the datapath's return convention and the per-packet parse
 * state shared by the helpers in lib/. BPF-only; nothing here crosses to
 * userspace (that is abi/).
 */
#pragma once

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "abi/drop.h"

/*
 * One return convention for every helper (as in Cilium and katran):
 *   CTX_ACT_OK (0)  continue with the next step;
 *   > 0             a final, non-drop TC verdict (CTX_ACT_REDIRECT): stop
 *                   processing; the entry point counts the packet as
 *                   forwarded and returns the verdict as is;
 *   < 0             drop, with reason -ret (enum bl_drop_reason). Only the
 *                   entry point turns it into CTX_ACT_SHOT, after counting it
 *                   and reporting it, so every drop is accounted for once.
 * Drop reasons start at 130, so a negated one never reads as TC_ACT_UNSPEC (-1).
 */
#define CTX_ACT_OK		TC_ACT_OK
#define CTX_ACT_SHOT		TC_ACT_SHOT
#define CTX_ACT_REDIRECT	TC_ACT_REDIRECT

#define DROP(reason)		(-(int)(reason))
#define IS_DROP(ret)		((ret) < 0)

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * What the parsers learned about the packet. Deliberately not named bl_*:
 * it lives on the stack only and is not part of the ABI.
 */
struct pkt_meta {
	__be16	l3_proto;	/* ethertype, network byte order (0: no Ethernet header) */
	__u8	l4_proto;	/* IPPROTO_* for IPv4, 0 otherwise */
	__u8	tcp_flags;	/* byte 13 of the TCP header (FIN 0x01, SYN 0x02, RST 0x04 …) */
	__u32	l3_off;		/* offset of the network header from skb->data */
	__u32	l4_off;		/* IPv4: offset of the L4 header (l3_off + ihl * 4) */
	__be32	saddr;		/* IPv4 addresses, network byte order (0: not IPv4) */
	__be32	daddr;
	__u8	fragment;	/* IPv4: a non-first fragment, without L4 header */
	__u8	ttl;		/* IPv4: time to live as received */
	__u8	l4_ports;	/* TCP, UDP, SCTP: sport and dport were read (header long enough) */
	__be16	sport;		/* as in the packet now (lib/nat.h's rewrites keep them current) */
	__be16	dport;
};

/* TCP flag bits of byte 13 of the TCP header (RFC 9293). */
#define TCP_FLAG_FIN	0x01
#define TCP_FLAG_SYN	0x02
#define TCP_FLAG_RST	0x04
#define TCP_FLAG_ACK	0x10

/*
 * Makes the first `len` bytes of the packet readable through skb->data and
 * returns the fresh data/data_end, or false if the packet is shorter than
 * that. Headers are normally in the linear part of the skb, but not always
 * (GRO, some drivers): bpf_skb_pull_data() linearises them. Pulling
 * invalidates every packet pointer the verifier knows about, which is why
 * callers take data/data_end from here rather than keeping their own.
 */
static __always_inline bool revalidate_data(struct __sk_buff *skb, __u32 len,
					    void **data, void **data_end)
{
	*data = (void *)(long)skb->data;
	*data_end = (void *)(long)skb->data_end;
	if (*data + len <= *data_end)
		return true;
	if (skb->len < len || bpf_skb_pull_data(skb, len) < 0)
		return false;
	*data = (void *)(long)skb->data;
	*data_end = (void *)(long)skb->data_end;
	return *data + len <= *data_end;
}
