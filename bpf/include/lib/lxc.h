/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/lxc.h: the node's local endpoints (bl_lxc, abi/lxc.h): finding one by
 * address, telling whether an address belongs to this node's pod CIDR, and
 * delivering a packet straight into an endpoint (with its ingress policy),
 * the one local-delivery path shared by the pod, overlay and uplink programs.
 */
#pragma once

#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/events.h"
#include "lib/ct.h"
#include "lib/l3.h"
#include "lib/nat.h"
#include "lib/policy.h"
#include "lib/proxy.h"

/* "No observation point" for ipv4_local_delivery()'s from_obs. */
#define TRACE_POINT_NONE	0xff

/* The local endpoint with address ip4 (network byte order), or NULL. */
static __always_inline struct bl_endpoint_info *lookup_ip4_endpoint(__be32 ip4)
{
	/* Designated initialiser: pad0 is zero, as the agent writes it. */
	struct bl_endpoint_key key = { .ip4 = ip4 };

	return bpf_map_lookup_elem(&bl_lxc, &key);
}

/* Whether ip4 is inside this node's pod CIDR; false when none is configured. */
static __always_inline bool ipv4_in_pod_cidr(__be32 ip4)
{
	__u8 plen = bl_config.pod_cidr4_prefixlen;
	__u32 mask;

	if (plen == 0 || plen > 32)
		return false;
	/* Compare in host order, where the prefix is the high bits. A shift
	 * by 32 is undefined in C, hence the /32 case apart. */
	mask = plen == 32 ? 0xffffffffU : ~(0xffffffffU >> plen);
	return (bpf_ntohl(ip4) & mask) == (bpf_ntohl(bl_config.pod_cidr4) & mask);
}

/*
 * Delivers an IPv4 packet to local endpoint ep, as Cilium's
 * ipv4_local_delivery(): conntrack in the endpoint's ingress direction, its
 * ingress policy (lib/policy.h) for every packet that is not a reply, the
 * hop's rewrites (Ethernet addresses from ep, TTL - 1 with its checksum), a
 * TO_LXC trace, and bpf_redirect_peer() into the pod's eth0: straight to the
 * device in the pod's namespace, skipping the host-side veth and a second pass
 * through the node's stack. redirect_peer works from tc ingress only, which is
 * where every caller runs.
 *
 * from_obs: when not TRACE_POINT_NONE, the point the packet entered through
 * (FROM_OVERLAY, FROM_NETWORK), reported first with the same conntrack
 * result; TRACE_POINT_NONE: the sender is a local pod (bl_from_container);
 * from: its event metadata: source endpoint, and src_identity, the identity
 * ingress policy judges the sender by (every caller fills it); on a policy
 * drop it is rewritten to report the drop for ep, in its ingress direction,
 * with the policy cookie. rev_nat: the service a NodePort packet was
 * translated for (0: none), stamped on the endpoint's new ingress entry so
 * that its replies are translated back. A connection the endpoint's ingress
 * policy hands to the node proxy (an L7 rule) goes to the proxy's socket
 * instead (lib/proxy.h), traced TO_PROXY. An allow that requires mutual
 * authentication drops every packet delivered here (BL_DROP_POLICY_AUTH_REQUIRED):
 * authenticated connections come from the node proxy, through the node's
 * stack and bl_to_container. Returns CTX_ACT_REDIRECT,
 * CTX_ACT_OK (to the proxy, through the node's stack) or a drop.
 */
static __always_inline int ipv4_local_delivery(struct __sk_buff *skb, struct pkt_meta *pkt,
					       const struct bl_endpoint_info *ep, __u8 from_obs,
					       struct trace_meta *from, __u16 rev_nat)
{
	struct ct_result ct = { .rev_nat_index = rev_nat };
	struct bl_ct4_key tuple = {};
	struct trace_meta tm = {};
	__u16 proxy_port = 0;
	bool auth_required;
	bool trace;
	int ret;

	/* Before conntrack, so an expiring packet leaves no entry behind;
	 * ipv4_dec_ttl() below checks again on the bytes it rewrites. */
	if (pkt->ttl <= 1)
		return DROP(BL_DROP_TTL_EXCEEDED);
	ret = ct_lookup4(skb, pkt, CT_INGRESS, &ct, &tuple);
	if (IS_DROP(ret))
		return ret;
	if (ct.reason == BL_TRACE_REASON_CT_REPLY) {
		/* The answer to the node proxy's upstream connection on behalf
		 * of this endpoint (its egress L7 rules): to the proxy's socket. */
		if (ct.flags & BL_CT_F_FROM_PROXY) {
			ret = proxy_assign4(skb, pkt, &tuple, 0);
			if (IS_DROP(ret))
				return ret;
			if (trace_wanted_ct(ct.report)) {
				tm = *from;
				tm.dst_id = 0;
				tm.dst_identity = ep->sec_identity;
				tm.reason = ct.reason;
				send_trace_notify_meta(skb, BL_TRACE_TO_PROXY, &tm, pkt);
			}
			return CTX_ACT_OK;
		}
		/* A reply from a Service's backend reads as coming from the
		 * Service. Replies pass: policy allowed their connection. */
		ret = lb4_rev_nat(skb, pkt, ct.rev_nat_index);
		if (IS_DROP(ret))
			return ret;
	} else if (ct.reason != BL_TRACE_REASON_CT_RELATED) {
		/* Never authenticated: the node proxy's mTLS side reaches the
		 * endpoint through the node's stack (bl_to_container). */
		ret = policy_enforce(skb, pkt, &tuple, ct.reason, ep, BL_DIR_INGRESS, from->src_identity,
				     from_obs == TRACE_POINT_NONE ? from->source : 0, from, &proxy_port,
				     false, &auth_required);
		if (IS_DROP(ret)) {
			from->source = ep->ep_id;
			from->dst_id = ep->ep_id;
			from->dst_identity = ep->sec_identity;
			from->drop_dir = BL_DIR_INGRESS;
			return ret;
		}
		if (ct.reason == BL_TRACE_REASON_POLICY) {
			ret = ct_create4(skb, pkt, &tuple, &ct);
			if (IS_DROP(ret))
				return ret;
		}
	}
	trace = trace_wanted_ct(ct.report);
	if (from_obs != TRACE_POINT_NONE && trace) {
		tm = *from;
		tm.dst_id = ep->ep_id;
		tm.dst_identity = ep->sec_identity;
		tm.reason = ct.reason;
		send_trace_notify_meta(skb, from_obs, &tm, pkt);
	}

	if (proxy_port) {
		/* L7 rules: the node proxy takes the connection; the pod sees it
		 * arrive from the proxy's upstream side (bl_to_container). */
		ret = proxy_assign4(skb, pkt, &tuple, proxy_port);
		if (IS_DROP(ret))
			return ret;
		if (trace) {
			/* As Cilium's TO_PROXY: dst_id is the proxy port. */
			tm = *from;
			tm.dst_id = proxy_port;
			tm.dst_identity = ep->sec_identity;
			tm.reason = ct.reason;
			send_trace_notify_meta(skb, BL_TRACE_TO_PROXY, &tm, pkt);
		}
		return CTX_ACT_OK;
	}

	ret = ipv4_dec_ttl(skb, pkt);
	if (IS_DROP(ret))
		return ret;
	ret = eth_store_endpoint_macs(skb, ep);
	if (IS_DROP(ret))
		return ret;

	if (trace) {
		/* Reported on behalf of the receiving endpoint, as Cilium's
		 * TO_LXC comes from the destination's own program. */
		tm.source = ep->ep_id;
		tm.dst_id = ep->ep_id;
		tm.src_identity = from->src_identity;
		tm.dst_identity = ep->sec_identity;
		tm.reason = ct.reason;
		send_trace_notify_meta(skb, BL_TRACE_TO_LXC, &tm, pkt);
	}
	return bpf_redirect_peer(ep->ifindex, 0);
}
