/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/nat.h: packet-level Service translation (Cilium's lb4_local and
 * lb4_rev_nat), for packets no socket hook translated: a pod's packet to a
 * Service frontend is rewritten to a backend (DNAT) at the pod's egress, and
 * the backend's replies are rewritten back to the frontend where they are
 * delivered to the pod.
 *
 * A connection keeps its backend: the first packet's choice is remembered in
 * a BL_CT_TUPLE_F_SERVICE entry of bl_ct4 keyed by the untranslated tuple, so
 * map changes never move a live connection; only a backend that is gone is
 * chosen anew. The translated connection's own conntrack entry carries the
 * service id (rev_nat_index); a reply matched to it is translated back.
 */
#pragma once

#include <stddef.h>
#include <linux/in.h>
#include <linux/ip.h>

#include "lib/common.h"
#include "lib/ct.h"
#include "lib/lb.h"

/* L4 header offsets (RFC 9293, RFC 768). Not from <linux/tcp.h>: its
 * TCP_FLAG_* enum collides with lib/common.h's flag-byte constants. TCP and
 * UDP put their ports at the same offsets. */
#define L4_SPORT_OFF	0
#define L4_DPORT_OFF	2
#define TCP_CSUM_OFF	16
#define UDP_CSUM_OFF	6

/* Checksum offsets in the L4 header; 0: the protocol is not translated. */
static __always_inline __u32 l4_csum_off(__u8 proto)
{
	if (proto == IPPROTO_TCP)
		return TCP_CSUM_OFF;
	if (proto == IPPROTO_UDP)
		return UDP_CSUM_OFF;
	return 0;
}

/*
 * Rewrites one address (at l3 offset addr_off: saddr or daddr) and one port
 * (at l4 offset port_off: source or dest), patching the IPv4 header checksum
 * and the L4 checksum (which covers the addresses through its pseudo-header;
 * a UDP checksum of 0 means "none" and stays 0: BPF_F_MARK_MANGLED_0).
 * pkt's port follows (its address is the caller's to update).
 */
static __always_inline int nat_rewrite(struct __sk_buff *skb, struct pkt_meta *pkt, __u32 addr_off,
				       __be32 old_addr, __be32 new_addr, __u32 port_off, __be16 old_port,
				       __be16 new_port)
{
	__u32 csum = pkt->l4_off + l4_csum_off(pkt->l4_proto);
	__u64 mangled = pkt->l4_proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

	if (bpf_l3_csum_replace(skb, pkt->l3_off + offsetof(struct iphdr, check), old_addr, new_addr, 4) < 0)
		return DROP(BL_DROP_CSUM_L3);
	if (bpf_l4_csum_replace(skb, csum, old_addr, new_addr, BPF_F_PSEUDO_HDR | mangled | 4) < 0)
		return DROP(BL_DROP_CSUM_L4);
	if (bpf_skb_store_bytes(skb, pkt->l3_off + addr_off, &new_addr, 4, 0) < 0)
		return DROP(BL_DROP_WRITE_ERROR);
	if (old_port != new_port) {
		if (bpf_l4_csum_replace(skb, csum, old_port, new_port, mangled | 2) < 0)
			return DROP(BL_DROP_CSUM_L4);
		if (bpf_skb_store_bytes(skb, pkt->l4_off + port_off, &new_port, 2, 0) < 0)
			return DROP(BL_DROP_WRITE_ERROR);
		if (port_off == L4_SPORT_OFF)
			pkt->sport = new_port;
		else
			pkt->dport = new_port;
	}
	return CTX_ACT_OK;
}

/*
 * How busy a pod's tuple from sport to backend be is in conntrack (its egress
 * entry): 0 free (no entry, or a dead one), 1 closing (FIN or RST seen: the
 * backend may hold it in TIME_WAIT), 2 live.
 */
static __always_inline int lb4_backend_tuple_use(const struct pkt_meta *pkt, __be16 sport,
						 const struct bl_lb4_backend *be, __u32 now)
{
	struct bl_ct4_key k = {};
	struct bl_ct_entry *e;

	k.saddr = pkt->saddr;
	k.daddr = be->address;
	k.sport = sport;
	k.dport = be->port;
	k.nexthdr = pkt->l4_proto;
	k.flags = CT_EGRESS;
	e = bpf_map_lookup_elem(&bl_ct4, &k);
	if (!e || (__s32)(now - e->lifetime) > 0)
		return 0;
	return (e->flags & CT_CLOSING) ? 1 : 2;
}

/* How many backend slots a re-choice looks at, at most. */
#define LB4_RECHOOSE_SLOTS 16

/*
 * A client port the kernel reuses for another frontend can map onto the
 * tuple of another connection to the same backend: a live one would be
 * reset by the clash, a closing one may still sit in TIME_WAIT on the
 * backend. When the random choice (be) is such a tuple, walk the frontend's
 * slots for a backend whose tuple is free, else one that is only closing;
 * keep be when none is better. TCP and random selection only (Maglev's
 * choice is the flow's on every node and must not move).
 */
static __always_inline struct bl_lb4_backend *lb4_avoid_busy_tuple(const struct pkt_meta *pkt, const __be16 ports[2],
								    const struct bl_lb4_service *svc,
								    struct bl_lb4_backend *be, __u32 *backend_id,
								    __u32 now)
{
	struct bl_lb4_key key = { .address = pkt->daddr, .dport = ports[1], .proto = pkt->l4_proto };
	struct bl_lb4_backend *cand;
	struct bl_lb4_service *slot;
	__u16 n = svc->count, first = 1, i;
	int best;

	if (!be || pkt->l4_proto != IPPROTO_TCP || (svc->flags & BL_LB_F_MAGLEV))
		return be;
	best = lb4_backend_tuple_use(pkt, ports[0], be, now);
	if (best == 0)
		return be;
	if (n == 0) {
		n = svc->qcount;
		first = svc->count + 1;
	}
	for (i = 0; i < LB4_RECHOOSE_SLOTS && i < n; i++) {
		__u32 id;
		int use;

		key.backend_slot = first + i;
		slot = bpf_map_lookup_elem(&bl_lb4_services, &key);
		if (!slot)
			continue;
		id = slot->backend_id;
		cand = bpf_map_lookup_elem(&bl_lb4_backends, &id);
		if (!cand)
			continue;
		use = lb4_backend_tuple_use(pkt, ports[0], cand, now);
		if (use < best) {
			best = use;
			be = cand;
			*backend_id = id;
			if (use == 0)
				break;
		}
	}
	return be;
}

/*
 * The backend of a packet's connection to frontend svc (ports: its source and
 * destination port): the one its BL_CT_TUPLE_F_SERVICE entry remembers while
 * that backend exists, else a new choice (ClientIP affinity first), recorded.
 * NULL: the Service has no backend (the caller returns BL_DROP_NO_SERVICE,
 * which the entry point answers with an ICMP port unreachable, lib/icmp.h).
 */
static __always_inline struct bl_lb4_backend *lb4_pick(struct __sk_buff *skb, const struct pkt_meta *pkt,
							const __be16 ports[2], const struct bl_lb4_service *svc,
							int *err)
{
	struct bl_ct4_key skey = {};
	struct bl_ct_entry *se, fresh = {};
	struct bl_lb4_backend *be = NULL;
	__u32 backend_id = 0, now;

	skey.daddr = pkt->daddr;
	skey.saddr = pkt->saddr;
	skey.dport = ports[1];
	skey.sport = ports[0];
	skey.nexthdr = pkt->l4_proto;
	skey.flags = BL_CT_TUPLE_F_SERVICE;
	now = ct_now();
	se = bpf_map_lookup_elem(&bl_ct4, &skey);
	if (se && se->rev_nat_index == svc->rev_nat_index) {
		backend_id = se->backend_id;
		be = bpf_map_lookup_elem(&bl_lb4_backends, &backend_id);
	}
	if (be) {
		ct_count(se, false, skb->len);
		ct_entry_update(se, pkt, false, now);
		ct_service_refresh(se, pkt, now);
		return be;
	}

	struct bl_lb4_affinity_key akey = { .client_id = pkt->saddr, .rev_nat_index = svc->rev_nat_index };
	struct bl_lb4_affinity *a = NULL;

	/* sessionAffinity ClientIP: at packet level the client is its address. */
	if (svc->flags & BL_LB_F_AFFINITY)
		a = bpf_map_lookup_elem(&bl_lb4_affinity, &akey);
	if (a && now - a->last_used <= svc->affinity_timeout) {
		backend_id = a->backend_id;
		be = bpf_map_lookup_elem(&bl_lb4_backends, &backend_id);
	}
	if (!be) {
		/* Maglev hashes the flow as it arrived: any node it enters through
		 * picks the same backend. Only Maglev frontends pay for the hash. */
		__u32 hash = (svc->flags & BL_LB_F_MAGLEV) ? lb4_hash_tuple(pkt->saddr, ports[0], ports[1], pkt->l4_proto) : 0;

		backend_id = lb4_select_backend_id_hash(pkt->daddr, ports[1], pkt->l4_proto, svc, hash);
		be = backend_id ? bpf_map_lookup_elem(&bl_lb4_backends, &backend_id) : NULL;
		be = lb4_avoid_busy_tuple(pkt, ports, svc, be, &backend_id, now);
	}
	if (!be)
		return NULL;
	if (svc->flags & BL_LB_F_AFFINITY) {
		struct bl_lb4_affinity aval = { .last_used = now, .backend_id = backend_id };

		bpf_map_update_elem(&bl_lb4_affinity, &akey, &aval, BPF_ANY);
	}
	fresh.tx_packets = 1;
	fresh.tx_bytes = skb->len;
	fresh.created = now;
	fresh.last_report = now;
	fresh.backend_id = backend_id;
	fresh.rev_nat_index = svc->rev_nat_index;
	ct_entry_update(&fresh, pkt, false, now);
	ct_service_refresh(&fresh, pkt, now);
	if (bpf_map_update_elem(&bl_ct4, &skey, &fresh, BPF_ANY) < 0) {
		*err = DROP(BL_DROP_CT_CREATE_FAILED);
		return NULL;
	}
	return be;
}

/*
 * Translates a packet to frontend svc to one of its backends: picks (or
 * recalls) the backend and rewrites the destination. Returns CTX_ACT_OK with
 * *out set, or a drop (BL_DROP_NO_SERVICE when the Service has no backend;
 * then the packet is still as it arrived, for the ICMP error to quote).
 */
static __always_inline int lb4_dnat(struct __sk_buff *skb, struct pkt_meta *pkt, const __be16 ports[2],
				    const struct bl_lb4_service *svc, struct bl_lb4_backend **out)
{
	struct bl_lb4_backend *be;
	int ret, err = DROP(BL_DROP_NO_SERVICE);

	be = lb4_pick(skb, pkt, ports, svc, &err);
	if (!be)
		return err;
	ret = nat_rewrite(skb, pkt, offsetof(struct iphdr, daddr), pkt->daddr, be->address,
			  L4_DPORT_OFF, ports[1], be->port);
	if (IS_DROP(ret))
		return ret;
	pkt->daddr = be->address;
	*out = be;
	return CTX_ACT_OK;
}

/*
 * A pod's packet to a Service frontend: on to a backend. *rev_nat is set to
 * the service id when the packet was translated (0 otherwise). A routed
 * (mesh) TCP frontend (BL_LB_F_L7) is not translated: *l7_port is set to the
 * node proxy's mesh listener port its master entry holds (backend_id), for
 * the caller to hand the connection to the proxy as it is (0 otherwise).
 */
static __always_inline int lb4_egress(struct __sk_buff *skb, struct pkt_meta *pkt, __u16 *rev_nat,
				      __u16 *l7_port)
{
	struct bl_lb4_service *svc;
	struct bl_lb4_backend *be;
	__be16 ports[2];
	int ret;

	if (pkt->fragment || !l4_csum_off(pkt->l4_proto))
		return CTX_ACT_OK;
	if (!pkt->l4_ports)
		return CTX_ACT_OK;	/* conntrack judges the truncated header */
	ports[0] = pkt->sport;
	ports[1] = pkt->dport;
	svc = lb4_lookup_service(pkt->daddr, ports[1], pkt->l4_proto);
	if (!svc)
		return CTX_ACT_OK;
	/* UDP frontends are never flagged (the agent refuses); were one, it
	 * would be load-balanced as any other. */
	if ((svc->flags & BL_LB_F_L7) && pkt->l4_proto == IPPROTO_TCP && svc->backend_id &&
	    svc->backend_id <= 0xffff) {
		*l7_port = (__u16)svc->backend_id;
		return CTX_ACT_OK;
	}
	ret = lb4_dnat(skb, pkt, ports, svc, &be);
	if (IS_DROP(ret))
		return ret;
	*rev_nat = svc->rev_nat_index;
	return CTX_ACT_OK;
}

/*
 * A reply of a translated connection (its conntrack entry carries rev_nat):
 * the source goes back to the frontend the client asked for. TCP and UDP
 * ports sit at the same offsets, so tcphdr's serve both.
 */
static __always_inline int lb4_rev_nat(struct __sk_buff *skb, struct pkt_meta *pkt, __u16 rev_nat)
{
	struct bl_lb4_reverse_nat *fe;
	__be16 sport;
	int ret;

	if (!rev_nat || pkt->fragment || !l4_csum_off(pkt->l4_proto))
		return CTX_ACT_OK;
	fe = bpf_map_lookup_elem(&bl_lb4_reverse_nat, &rev_nat);
	if (!fe)
		return CTX_ACT_OK;	/* the service is gone: nothing to translate back to */
	if (!pkt->l4_ports)
		return DROP(BL_DROP_CT_INVALID_HDR);
	sport = pkt->sport;
	ret = nat_rewrite(skb, pkt, offsetof(struct iphdr, saddr), pkt->saddr, fe->address,
			  L4_SPORT_OFF, sport, fe->port);
	if (IS_DROP(ret))
		return ret;
	pkt->saddr = fe->address;
	return CTX_ACT_OK;
}
