/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * host.bpf.c: the programs on the node's uplink, its network device.
 *   bl_from_netdev  tc ingress: packets entering the node from the network
 *   bl_to_netdev    tc egress:  packets leaving the node for the network
 * Both validate IPv4 headers and drop malformed ones (BL_DROP_INVALID),
 * count every packet in bl_metrics, and report to bl_events: drops always
 * (if BL_CFG_DROP_NOTIFY), traces as bl_config.trace_aggregation allows.
 * In native routing mode, bl_from_netdev delivers IPv4 for a local endpoint
 * straight into the pod (lib/lxc.h), as another node routed it here; in
 * tunnel mode pods' traffic from other nodes arrives through bl_vxlan
 * (overlay.bpf.c) instead. Either delivery applies the pod's ingress policy,
 * judging the sender by its ipcache identity (else the world). Everything else, and IPv6, ARP and other
 * ethertypes, passes to the stack untouched. A NodePort, LoadBalancer or
 * external IP frontend without a backend is refused: BL_DROP_NO_SERVICE,
 * answered with an ICMP port unreachable to the client (lib/icmp.h).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "abi/common.h"
#include "abi/config.h"
#include "abi/drop.h"
#include "abi/events.h"
#include "abi/metrics.h"

#define BL_THIS_FILE BL_FILE_HOST

#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/metrics.h"
#include "lib/events.h"
#include "lib/drop.h"
#include "lib/eth.h"
#include "lib/ipv4.h"
#include "lib/lxc.h"
#include "lib/ipcache.h"
#include "lib/tunnel.h"
#include "lib/fib.h"
#include "lib/icmp.h"
#include "lib/nodeport_snat.h"

/* Defaults; the loader overwrites them before load (see abi/config.h). */
const volatile struct bl_datapath_config bl_config = {
	.node_id = 0,
	.flags = BL_CFG_TRACE_NOTIFY | BL_CFG_DROP_NOTIFY | BL_CFG_POLICY_VERDICT_NOTIFY,
	.host_endpoint_id = 0,
	.trace_capture_len = BL_TRACE_CAPTURE_LEN,
	.trace_aggregation = BL_TRACE_AGG_NONE,
	.routing_mode = BL_ROUTING_UNSET,
};

/*
 * NodePort (and LoadBalancer / external IP) traffic from the network
 * (Cilium's nodeport_lb4): a reply from another node's backend to a
 * connection this node forwarded is translated back and sent to the client;
 * a new packet to a frontend is translated to a backend (lib/nat.h) and
 * delivered to it when it is local (the client's address preserved), else
 * sent to its node with this node's address as the source (SNAT: the
 * client's port when no other client holds it towards that backend, else an
 * allocated one, lib/nodeport_snat.h) so the reply comes back here.
 * CTX_ACT_OK: not for us.
 */
static __always_inline int nodeport_ingress(struct __sk_buff *skb, struct pkt_meta *pkt, __u8 obs,
					    struct trace_meta *tm)
{
	struct bl_lb4_nodeport_nat_key nk = {};
	struct bl_lb4_nodeport_snat_key fk = {};
	struct bl_lb4_nodeport_nat *nn;
	struct bl_remote_endpoint_info *remote;
	struct bl_endpoint_info *ep;
	struct bl_lb4_service *svc;
	struct bl_lb4_backend *be;
	__be32 client = pkt->saddr;
	__be16 ports[2], nat_port;
	int ret;

	if (pkt->fragment || !l4_csum_off(pkt->l4_proto))
		return CTX_ACT_OK;
	if (!pkt->l4_ports)
		return CTX_ACT_OK;
	ports[0] = pkt->sport;
	ports[1] = pkt->dport;

	nk.backend = pkt->saddr;
	nk.backend_port = ports[0];
	nk.nat_port = ports[1];
	nk.proto = pkt->l4_proto;
	nn = pkt->daddr == bl_config.node_ip4 ? bpf_map_lookup_elem(&bl_lb4_nodeport_nat, &nk) : NULL;
	if (nn) {
		ret = nat_rewrite(skb, pkt, offsetof(struct iphdr, daddr), pkt->daddr, nn->client,
				  L4_DPORT_OFF, ports[1], nn->client_port);
		if (IS_DROP(ret))
			return ret;
		pkt->daddr = nn->client;
		ret = lb4_rev_nat(skb, pkt, nn->rev_nat_index);
		if (IS_DROP(ret))
			return ret;
		return fib_redirect4(skb, pkt);
	}

	svc = lb4_lookup_service(pkt->daddr, ports[1], pkt->l4_proto);
	if (!svc || !(svc->flags & (BL_LB_F_NODEPORT | BL_LB_F_LOADBALANCER | BL_LB_F_EXTERNAL_IP)))
		return CTX_ACT_OK;
	ret = lb4_dnat(skb, pkt, ports, svc, &be);
	if (IS_DROP(ret))
		return ret;

	ep = lookup_ip4_endpoint(be->address);
	if (ep) {
		/* The backend's ingress policy judges the client. */
		tm->src_identity = ipcache_identity4(client);
		return ipv4_local_delivery(skb, pkt, ep, obs, tm, svc->rev_nat_index);
	}

	fk.client = client;
	fk.backend = be->address;
	fk.client_port = ports[0];
	fk.backend_port = be->port;
	fk.proto = pkt->l4_proto;
	ret = nodeport_snat_port(&fk, svc->rev_nat_index, &nat_port);
	if (IS_DROP(ret))
		return ret;
	ret = nat_rewrite(skb, pkt, offsetof(struct iphdr, saddr), client, bl_config.node_ip4,
			  L4_SPORT_OFF, ports[0], nat_port);
	if (IS_DROP(ret))
		return ret;
	pkt->saddr = bl_config.node_ip4;
	remote = ipcache_lookup4(be->address);
	if (bl_config.routing_mode == BL_ROUTING_TUNNEL && remote && remote->tunnel_endpoint)
		return encap_and_redirect4(skb, remote->tunnel_endpoint, tunnel_vni(BL_IDENTITY_WORLD));
	return fib_redirect4(skb, pkt);
}

/* Both directions share one path; dir and obs are constants after inlining. */
static __always_inline int handle_netdev(struct __sk_buff *skb, __u8 dir, __u8 obs)
{
	struct pkt_meta pkt = {};
	int ret;

	ret = eth_parse(skb, &pkt);
	if (ret == CTX_ACT_OK && pkt.l3_proto == bpf_htons(ETH_P_IP))
		ret = ipv4_parse(skb, &pkt);
	if (IS_DROP(ret))
		return send_drop(skb, -ret, dir, &pkt);

	/* Native routing: the network sent a local pod's packet to this node.
	 * dir is a constant, so the egress program has none of this. */
	if (dir == BL_DIR_INGRESS && bl_config.routing_mode == BL_ROUTING_NATIVE &&
	    pkt.l3_proto == bpf_htons(ETH_P_IP)) {
		struct trace_meta tm = { .source = bl_config.host_endpoint_id };
		struct bl_endpoint_info *ep = lookup_ip4_endpoint(pkt.daddr);

		if (ep) {
			/* The pod's ingress policy judges the sender by what the ipcache knows. */
			tm.src_identity = ipcache_identity4(pkt.saddr);
			ret = ipv4_local_delivery(skb, &pkt, ep, obs, &tm, 0);
			if (IS_DROP(ret))
				return send_drop_meta(skb, -ret, dir, &tm, &pkt);
			metrics_update(BL_REASON_FORWARDED, dir, skb->len);
			return ret;
		}
	}

	/* What the node itself sends (no ingress interface; forwarded packets
	 * keep their path). dir is a constant: ingress has none of it.
	 *
	 * The node proxy's upstream connection on behalf of a local pod (egress
	 * L7 rules, a routed Service's mesh hop) carries the pod's address
	 * (usesrc clientip) and leaves as the pod's own packets would, with the
	 * pod's identity, judged by the pod's egress policy (lib/proxy.h,
	 * proxy_upstream_egress4); its conntrack entry, in the pod's egress
	 * direction, flags it so that the replies go back to the proxy's socket,
	 * not into the pod.
	 *
	 * Tunnel mode: the node's own packets to another node's pods (the route
	 * to each remote pod CIDR points at that node over the uplink) go
	 * through the tunnel as pods' packets do, with the host identity, which
	 * the receiving node reads as remote-node. A node address has no tunnel
	 * endpoint, so the tunnel's own outer packets pass here untouched. */
	if (dir == BL_DIR_EGRESS && pkt.l3_proto == bpf_htons(ETH_P_IP) && skb->ingress_ifindex == 0) {
		struct bl_remote_endpoint_info *remote;
		__u32 identity = BL_IDENTITY_HOST;

		if (proxy_sent(skb, &pkt)) {
			struct bl_endpoint_info *ep = lookup_ip4_endpoint(pkt.saddr);

			if (ep) {
				struct trace_meta tm = { .source = bl_config.host_endpoint_id };

				/* The client's egress policy judges it (a policy drop
				 * is the client's, egress), then its entry. */
				ret = proxy_upstream_ct4(skb, &pkt, ep, ipcache_identity4(pkt.daddr), &tm);
				if (IS_DROP(ret))
					return send_drop_meta(skb, -ret, dir, &tm, &pkt);
				identity = ep->sec_identity;
			}
		}
		remote = bl_config.routing_mode == BL_ROUTING_TUNNEL ? ipcache_lookup4(pkt.daddr) : NULL;
		if (remote && remote->tunnel_endpoint) {
			ret = encap_and_redirect4(skb, remote->tunnel_endpoint, tunnel_vni(identity));
			if (IS_DROP(ret))
				return send_drop(skb, -ret, dir, &pkt);
			metrics_update(BL_REASON_FORWARDED, dir, skb->len);
			if (trace_wanted(&pkt))
				send_trace_notify(skb, BL_TRACE_TO_OVERLAY, BL_TRACE_REASON_UNKNOWN, &pkt);
			return ret;
		}
	}

	/* NodePort, LoadBalancer and external IPs; and replies to what this node forwarded.
	 * After local delivery, so natively routed pod traffic pays no service lookup. */
	if (dir == BL_DIR_INGRESS && pkt.l3_proto == bpf_htons(ETH_P_IP)) {
		struct trace_meta tm = { .source = bl_config.host_endpoint_id, .src_identity = BL_IDENTITY_WORLD };

		ret = nodeport_ingress(skb, &pkt, obs, &tm);
		/* A frontend without a backend: refused, back out towards the
		 * client; never passed to the stack, which has nothing on the port. */
		if (ret == DROP(BL_DROP_NO_SERVICE))
			return icmp4_reject_no_service(skb, &pkt, dir, bl_config.host_endpoint_id);
		if (IS_DROP(ret))
			return send_drop_meta(skb, -ret, dir, &tm, &pkt);
		if (ret != CTX_ACT_OK) {
			metrics_update(BL_REASON_FORWARDED, dir, skb->len);
			return ret;
		}
	}

	/* Forwarded: CTX_ACT_OK, or a final verdict such as a redirect. */
	metrics_update(BL_REASON_FORWARDED, dir, skb->len);
	if (trace_wanted(&pkt))
		send_trace_notify(skb, obs, BL_TRACE_REASON_UNKNOWN, &pkt);
	return ret;
}

SEC("tc")
int bl_from_netdev(struct __sk_buff *skb)
{
	return handle_netdev(skb, BL_DIR_INGRESS, BL_TRACE_FROM_NETWORK);
}

SEC("tc")
int bl_to_netdev(struct __sk_buff *skb)
{
	return handle_netdev(skb, BL_DIR_EGRESS, BL_TRACE_TO_NETWORK);
}

/* Matches the SPDX line. None of the helpers used here is GPL-only, but a
 * GPL-compatible licence keeps those (bpf_trace_printk, …) available. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";
