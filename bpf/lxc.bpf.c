/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lxc.bpf.c: the programs on every pod's host-side veth (lxc…), like
 * Cilium's bpf_lxc. One object serves every pod: the endpoint is found by
 * address in bl_lxc rather than compiled in.
 *   bl_from_container  tc ingress: packets the pod sends
 *   bl_to_container    tc egress:  packets the node's stack sends into the pod
 * Packets from a pod: ARP requests for its gateway are answered here; IPv4 is
 * validated, checked to come from the pod's own address, conntracked
 * (egress), checked against the pod's egress policy (after Service
 * translation: policy sees the backend; lib/policy.h) and routed: to a local
 * pod directly (bpf_redirect_peer, through its ingress policy), to a pod on
 * another node through the tunnel (tunnel mode) or the stack (native mode),
 * anywhere else to the stack. An address of this node's pod CIDR that
 * no endpoint has is dropped (BL_DROP_UNROUTABLE). A packet to a Service
 * frontend without a backend is refused: reported as BL_DROP_NO_SERVICE and
 * answered with an ICMP port unreachable back into the pod (lib/icmp.h). A
 * routed Service frontend (mesh, BL_LB_F_L7) is not translated: the packet
 * goes to the node proxy's mesh listener as it is (from_container_to_mesh).
 * Everything else a pod sends (IPv6, other ethertypes) is dropped as
 * BL_DROP_UNKNOWN_L3, Cilium's "Unsupported L3 protocol": beeline has no IPv6
 * datapath, and what the stack would route without policy must not leave the
 * pod (fail closed, docs/datapath.md).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "abi/common.h"
#include "abi/config.h"
#include "abi/drop.h"
#include "abi/events.h"
#include "abi/metrics.h"

#define BL_THIS_FILE BL_FILE_LXC

#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/metrics.h"
#include "lib/events.h"
#include "lib/drop.h"
#include "lib/eth.h"
#include "lib/ipv4.h"
#include "lib/arp.h"
#include "lib/ct.h"
#include "lib/ipcache.h"
#include "lib/l3.h"
#include "lib/lxc.h"
#include "lib/tunnel.h"
#include "lib/fib.h"
#include "lib/nat.h"
#include "lib/icmp.h"
#include "lib/policy.h"

/* Defaults; the loader overwrites them before load (see abi/config.h). */
const volatile struct bl_datapath_config bl_config = {
	.flags = BL_CFG_TRACE_NOTIFY | BL_CFG_DROP_NOTIFY | BL_CFG_POLICY_VERDICT_NOTIFY,
	.trace_capture_len = BL_TRACE_CAPTURE_LEN,
	.trace_aggregation = BL_TRACE_AGG_NONE,
	.routing_mode = BL_ROUTING_UNSET,
};

/*
 * ARP from the pod: a request from a known endpoint gets its answer here (the
 * pod's gateway has no address on the node for the stack to answer with).
 * Anything else passes.
 */
static __always_inline int from_container_arp(struct __sk_buff *skb, const struct pkt_meta *pkt,
					      struct trace_meta *tm)
{
	struct bl_endpoint_info *ep = NULL;
	struct arp_frame frame;
	__be32 sip;

	sip = arp_request_sender(skb, &frame);
	if (sip)
		ep = lookup_ip4_endpoint(sip);
	if (ep)
		tm->source = ep->ep_id;
	if (trace_wanted(pkt))
		send_trace_notify_meta(skb, BL_TRACE_FROM_LXC, tm, pkt);
	/* Only a pod plugged into this very veth gets an answer. */
	if (!ep || ep->ifindex != skb->ifindex)
		return CTX_ACT_OK;
	return arp_respond(skb, &frame, ep);
}

/*
 * Hands a pod's packet to the node proxy's socket on port (lib/proxy.h,
 * proxy_assign4; tuple: the packet's conntrack key) and traces it TO_PROXY
 * when trace. Returns CTX_ACT_OK (to the stack, for the proxy) or a drop.
 */
static __always_inline int from_container_to_proxy(struct __sk_buff *skb, const struct pkt_meta *pkt,
						   const struct bl_ct4_key *tuple, const struct trace_meta *tm,
						   __u16 port, bool trace)
{
	int ret;

	ret = proxy_assign4(skb, pkt, tuple, port);
	if (IS_DROP(ret))
		return ret;
	if (trace) {
		struct trace_meta to = *tm;

		/* As Cilium's TO_PROXY: dst_id is the proxy port. */
		to.dst_id = port;
		send_trace_notify_meta(skb, BL_TRACE_TO_PROXY, &to, pkt);
	}
	return CTX_ACT_OK;
}

/*
 * The pod's packet to a routed Service frontend (BL_LB_F_L7, lb4_egress()
 * set port): the node proxy's mesh listener on port takes the connection as
 * it is, addresses unchanged (the proxy sees the Service's address as the
 * destination and the pod as the source), later packets go to the socket
 * that accepted it (lib/proxy.h). No policy here: the destination is a
 * frontend, not an endpoint; the pod's egress policy judges the proxy's
 * upstream connection to the backend it picks (proxy_upstream_egress4, in
 * bl_to_container and at the uplink). The connection's entry in the pod's
 * egress direction, made once the proxy has the packet, lets the proxy's
 * replies (from the frontend's address, through the node's stack) into the
 * pod as replies. Traced FROM_LXC, then TO_PROXY with the port as dst_id.
 */
static __always_inline int from_container_to_mesh(struct __sk_buff *skb, struct pkt_meta *pkt,
						  struct trace_meta *tm, __u16 port)
{
	struct bl_ct4_key tuple = {};
	struct ct_result ct = {};
	bool trace;
	int ret;

	ret = ct_lookup4(skb, pkt, CT_EGRESS, &ct, &tuple);
	if (IS_DROP(ret))
		return ret;
	tm->reason = ct.reason;
	trace = trace_wanted_ct(ct.report);
	if (trace)
		send_trace_notify_meta(skb, BL_TRACE_FROM_LXC, tm, pkt);
	ret = from_container_to_proxy(skb, pkt, &tuple, tm, port, trace);
	if (IS_DROP(ret) || ct.reason != BL_TRACE_REASON_POLICY)
		return ret;
	return ct_create4(skb, pkt, &tuple, &ct);
}

/* IPv4 from the pod; tm collects the event metadata, for a drop too. */
static __always_inline int from_container_ipv4(struct __sk_buff *skb, struct pkt_meta *pkt,
					       struct trace_meta *tm)
{
	struct bl_remote_endpoint_info *remote = NULL;
	struct bl_endpoint_info *src, *dst;
	struct bl_ct4_key tuple = {};
	struct ct_result ct = {};
	bool auth_required = false;
	__u16 proxy_port = 0, mesh_port = 0;
	__u32 peer = 0;
	bool trace;
	int ret;

	ret = ipv4_parse(skb, pkt);
	if (IS_DROP(ret))
		return ret;

	/* The source must be the address of the endpoint on this veth: a pod
	 * cannot speak with another pod's address (Cilium's DROP_INVALID_SIP). */
	src = lookup_ip4_endpoint(pkt->saddr);
	if (!src || src->ifindex != skb->ifindex)
		return DROP(BL_DROP_INVALID_SIP);
	tm->source = src->ep_id;
	tm->src_identity = src->sec_identity;

	/* A Service frontend no socket hook translated: on to a backend; a
	 * routed one (mesh) to the node proxy instead. */
	ret = lb4_egress(skb, pkt, &ct.rev_nat_index, &mesh_port);
	if (IS_DROP(ret))
		return ret;
	if (mesh_port)
		return from_container_to_mesh(skb, pkt, tm, mesh_port);

	/* Route first, so that no conntrack entry is made for a packet that
	 * is about to be dropped. */
	dst = lookup_ip4_endpoint(pkt->daddr);
	if (dst) {
		/* Delivery is a routed hop (lib/lxc.h); an expiring packet goes
		 * no further, and leaves no egress entry either. */
		if (pkt->ttl <= 1)
			return DROP(BL_DROP_TTL_EXCEEDED);
		tm->dst_id = dst->ep_id;
		tm->dst_identity = dst->sec_identity;
		peer = dst->sec_identity;
	} else {
		/* An address of our pod CIDR without an endpoint: a pod that is
		 * gone or not yet plumbed. The gateway address is the
		 * exception: it is the node's, for the stack to handle. */
		if (ipv4_in_pod_cidr(pkt->daddr) && pkt->daddr != bl_config.router_ip4)
			return DROP(BL_DROP_UNROUTABLE);
		remote = ipcache_lookup4(pkt->daddr);
		if (remote) {
			tm->dst_identity = remote->sec_identity;
			peer = remote->sec_identity;
		}
	}

	/* Look up, decide, then create: a packet policy drops leaves no entry. */
	ret = ct_lookup4(skb, pkt, CT_EGRESS, &ct, &tuple);
	if (IS_DROP(ret))
		return ret;
	if (ct.reason == BL_TRACE_REASON_CT_REPLY) {
		/* The endpoint answering the node proxy's upstream connection
		 * (an L7 rule of its ingress): back to the proxy's socket, which
		 * holds the client's address. */
		if (ct.flags & BL_CT_F_FROM_PROXY) {
			ret = proxy_assign4(skb, pkt, &tuple, 0);
			if (IS_DROP(ret))
				return ret;
			tm->reason = ct.reason;
			if (trace_wanted_ct(ct.report))
				send_trace_notify_meta(skb, BL_TRACE_TO_PROXY, tm, pkt);
			return CTX_ACT_OK;
		}
		/* Replies pass: policy allowed their connection. A backend's
		 * reply to a NodePort connection delivered here: from the
		 * frontend again. */
		if (ct.rev_nat_index) {
			ret = lb4_rev_nat(skb, pkt, ct.rev_nat_index);
			if (IS_DROP(ret))
				return ret;
			/* Its source is now this node's address: the stack would take it for a martian. */
			if (pkt->saddr == bl_config.node_ip4) {
				ret = fib_redirect4(skb, pkt);
				if (ret != CTX_ACT_OK)
					return ret;
			}
		}
	} else if (ct.reason != BL_TRACE_REASON_CT_RELATED) {
		/* Mutual authentication (issue 15): a TCP connection can be
		 * handed to the node proxy's mTLS-out listener when the node has
		 * one; otherwise an egress allow that requires it drops here. */
		bool mtls = bl_config.mtls_out_port && pkt->l4_proto == IPPROTO_TCP;

		/* Every packet that is not a reply: a policy change cuts an
		 * established connection on its next packet. */
		ret = policy_enforce(skb, pkt, &tuple, ct.reason, src, BL_DIR_EGRESS, peer,
				     dst ? dst->ep_id : 0, tm, &proxy_port, mtls, &auth_required);
		if (IS_DROP(ret))
			return ret;
		/* Its egress allow, or the destination's ingress (the ipcache
		 * flag its agent publishes, for a local pod too), requires
		 * mutual authentication: the connection goes to the mTLS-out
		 * listener, every packet of it (the first to the listener, the
		 * others to the socket that accepted it, as egress L7 rules do).
		 * Egress L7 rules (proxy_port) keep the connection: their
		 * upstream is not authenticated, and the destination's node
		 * drops it (fail closed). Without a listener the connection goes
		 * as it is, and the destination drops it with
		 * BL_DROP_POLICY_AUTH_REQUIRED. */
		if (mtls && !proxy_port &&
		    (auth_required || ipcache_auth_required(dst ? ipcache_lookup4(pkt->daddr) : remote)))
			proxy_port = bl_config.mtls_out_port;
		if (ct.reason == BL_TRACE_REASON_POLICY) {
			ret = ct_create4(skb, pkt, &tuple, &ct);
			if (IS_DROP(ret))
				return ret;
		}
	}
	tm->reason = ct.reason;
	trace = trace_wanted_ct(ct.report);
	if (trace)
		send_trace_notify_meta(skb, BL_TRACE_FROM_LXC, tm, pkt);

	/* Egress L7 rules or mutual authentication: the node proxy takes the
	 * connection here, at the source's node, wherever its destination is. */
	if (proxy_port)
		return from_container_to_proxy(skb, pkt, &tuple, tm, proxy_port, trace);

	if (dst) {
		ret = ipv4_local_delivery(skb, pkt, dst, TRACE_POINT_NONE, tm, 0);
		/* Refused by the receiver (its ingress policy): a connection
		 * this packet opened must not stay behind in the sender's
		 * egress direction either. */
		if (IS_DROP(ret) && ct.reason == BL_TRACE_REASON_POLICY)
			bpf_map_delete_elem(&bl_ct4, &tuple);
		return ret;
	}

	if (remote && remote->tunnel_endpoint && bl_config.routing_mode == BL_ROUTING_TUNNEL) {
		ret = encap_and_redirect4(skb, remote->tunnel_endpoint, tunnel_vni(src->sec_identity));
		if (!IS_DROP(ret) && trace)
			send_trace_notify_meta(skb, BL_TRACE_TO_OVERLAY, tm, pkt);
		return ret;
	}

	/* Native routing to another node's pods: with host routing on, the
	 * FIB says where and the packet goes there without the node's stack. */
	if (remote && remote->tunnel_endpoint && (bl_config.flags & BL_CFG_HOST_ROUTING)) {
		/* No trace here: the uplink's bl_to_netdev reports it TO_NETWORK. */
		ret = fib_redirect4(skb, pkt);
		if (ret != CTX_ACT_OK)
			return ret;
	}

	/* The node itself, the world, or a route the FIB left to the stack:
	 * the node's routing table decides. */
	if (trace)
		send_trace_notify_meta(skb, BL_TRACE_TO_STACK, tm, pkt);
	return CTX_ACT_OK;
}

SEC("tc")
int bl_from_container(struct __sk_buff *skb)
{
	struct trace_meta tm = {};
	struct pkt_meta pkt = {};
	int ret;

	eth_parse(skb, &pkt);
	if (pkt.l3_proto == bpf_htons(ETH_P_IP)) {
		ret = from_container_ipv4(skb, &pkt, &tm);
	} else if (pkt.l3_proto == bpf_htons(ETH_P_ARP)) {
		ret = from_container_arp(skb, &pkt, &tm);
	} else {
		/* No policy could judge it: dropped, not handed to the stack. The
		 * sender is named when its veth is an endpoint's. */
		ret = DROP(BL_DROP_UNKNOWN_L3);
	}
	/* A Service frontend without a backend (lb4_egress(), before anything
	 * was rewritten or conntracked): refused, back into the pod. */
	if (ret == DROP(BL_DROP_NO_SERVICE))
		return icmp4_reject_no_service(skb, &pkt, BL_DIR_EGRESS, tm.source);
	if (IS_DROP(ret))
		return send_drop_meta(skb, -ret, BL_DIR_EGRESS, &tm, &pkt);
	/* Forwarded: to the stack, or a redirect (local pod, tunnel, ARP reply). */
	metrics_update(BL_REASON_FORWARDED, BL_DIR_EGRESS, skb->len);
	return ret;
}

/*
 * Who sent a packet the node's stack delivers into a pod, as ingress policy
 * judges it: this node itself (host), a local pod whose packet went through
 * the stack, or what the ipcache says; anything else is the world. *ep_id:
 * the sending endpoint when it is local.
 */
static __always_inline __u32 to_container_src_identity(__be32 saddr, __u16 *ep_id)
{
	struct bl_endpoint_info *src;

	if (saddr == bl_config.node_ip4 || saddr == bl_config.router_ip4)
		return BL_IDENTITY_HOST;
	src = lookup_ip4_endpoint(saddr);
	if (src) {
		*ep_id = src->ep_id;
		return identity_or_world(src->sec_identity);
	}
	return ipcache_identity4(saddr);
}

/*
 * The node's stack sends into the pod (node → pod, replies from the world,
 * in tunnel mode also traffic routed in from the uplink). Packets from other
 * pods or the tunnel do not pass here: they are redirected to the pod's peer
 * device directly. The pod's ingress policy applies to what is not a reply.
 */
SEC("tc")
int bl_to_container(struct __sk_buff *skb)
{
	struct bl_endpoint_info *ep;
	struct bl_ct4_key tuple = {};
	struct trace_meta tm = {};
	struct pkt_meta pkt = {};
	struct ct_result ct = {};
	bool auth_required;
	__u16 proxy_port = 0;
	__u16 peer_ep = 0;
	bool trace;
	int ret;

	eth_parse(skb, &pkt);
	if (pkt.l3_proto == bpf_htons(ETH_P_IP)) {
		ret = ipv4_parse(skb, &pkt);
		if (IS_DROP(ret))
			return send_drop_ep(skb, -ret, BL_DIR_INGRESS, 0, &pkt);
		ep = lookup_ip4_endpoint(pkt.daddr);
		if (ep) {
			tm.source = ep->ep_id;
			tm.dst_id = ep->ep_id;
			tm.dst_identity = ep->sec_identity;
		}
		ret = ct_lookup4(skb, &pkt, CT_INGRESS, &ct, &tuple);
		if (IS_DROP(ret))
			return send_drop_meta(skb, -ret, BL_DIR_INGRESS, &tm, &pkt);
		if (ct.reason == BL_TRACE_REASON_CT_REPLY) {
			/* A Service's backend answering through the node's stack (a node address). */
			ret = lb4_rev_nat(skb, &pkt, ct.rev_nat_index);
			if (IS_DROP(ret))
				return send_drop_meta(skb, -ret, BL_DIR_INGRESS, &tm, &pkt);
		} else if (ct.reason != BL_TRACE_REASON_CT_RELATED) {
			bool upstream = proxy_sent(skb, &pkt);

			if (ep) {
				/* Mutual authentication: only the node proxy's connections
				 * (its mTLS side verified the peer) count as authenticated;
				 * an entry of theirs stays so when a later packet is not
				 * the proxy socket's own (a TIME_WAIT ACK). */
				bool authenticated = upstream ||
						     (ct.reason != BL_TRACE_REASON_POLICY && (ct.flags & BL_CT_F_FROM_PROXY));

				tm.src_identity = to_container_src_identity(pkt.saddr, &peer_ep);
				/* The node proxy's upstream connection on behalf of a
				 * local client (a routed Service's backend, L7 rules):
				 * the client's egress policy first, its drop reported
				 * as the client's (lib/proxy.h). */
				if (upstream && peer_ep) {
					struct bl_endpoint_info *client = lookup_ip4_endpoint(pkt.saddr);

					if (client) {
						struct trace_meta etm = {};

						ret = proxy_upstream_egress4(skb, &pkt, ct.reason, client, ep->sec_identity,
									     ep->ep_id, &etm);
						if (IS_DROP(ret))
							return send_drop_meta(skb, -ret, BL_DIR_EGRESS, &etm, &pkt);
					}
				}
				ret = policy_enforce(skb, &pkt, &tuple, ct.reason, ep, BL_DIR_INGRESS,
						     tm.src_identity, peer_ep, &tm, &proxy_port,
						     authenticated, &auth_required);
				if (IS_DROP(ret))
					return send_drop_meta(skb, -ret, BL_DIR_INGRESS, &tm, &pkt);
				/* A port with L7 rules (proxy_port) lets through on its
				 * L3/L4 verdict what comes from here: the node proxy's
				 * upstream side (the proxy applied the rules, those of this
				 * endpoint's ingress too when it took the connection at the
				 * source's egress), and the node's own connections, which
				 * cannot be handed to the proxy at tc egress. */
			}
			/* The proxy's upstream connection (ingress or egress L7 rules):
			 * the endpoint's replies go back to the proxy's socket. Its
			 * address and port are the client's address and a port of
			 * the node's choosing, which can be those of a connection the
			 * client made itself whose entry is still there: the proxy's
			 * connection takes the entry over. */
			if (upstream) {
				/* ct.flags: the matched entry's, for an existing one. */
				if (ct.reason != BL_TRACE_REASON_POLICY && !(ct.flags & BL_CT_F_FROM_PROXY)) {
					struct bl_ct_entry *e = bpf_map_lookup_elem(&bl_ct4, &tuple);

					if (e)
						e->flags |= BL_CT_F_FROM_PROXY; /* plain store, as ct_entry_update() writes flags */
				}
				ct.flags = BL_CT_F_FROM_PROXY;
			}
			if (ct.reason == BL_TRACE_REASON_POLICY) {
				ret = ct_create4(skb, &pkt, &tuple, &ct);
				if (IS_DROP(ret))
					return send_drop_meta(skb, -ret, BL_DIR_INGRESS, &tm, &pkt);
			}
		}
		tm.reason = ct.reason;
		trace = trace_wanted_ct(ct.report);
	} else {
		tm.reason = BL_TRACE_REASON_UNKNOWN;
		trace = trace_wanted(&pkt);
	}
	if (trace)
		send_trace_notify_meta(skb, BL_TRACE_TO_LXC, &tm, &pkt);
	metrics_update(BL_REASON_FORWARDED, BL_DIR_INGRESS, skb->len);
	return CTX_ACT_OK;
}

/* Matches the SPDX line; see host.bpf.c. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";
