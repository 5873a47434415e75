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
 * (overlay.bpf.c) instead. Everything else, and IPv6, ARP and other
 * ethertypes, passes to the stack untouched.
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

/* Defaults; the loader overwrites them before load (see abi/config.h). */
const volatile struct bl_datapath_config bl_config = {
	.node_id = 0,
	.flags = BL_CFG_TRACE_NOTIFY | BL_CFG_DROP_NOTIFY,
	.host_endpoint_id = 0,
	.trace_capture_len = BL_TRACE_CAPTURE_LEN,
	.trace_aggregation = BL_TRACE_AGG_NONE,
	.routing_mode = BL_ROUTING_UNSET,
};

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
			ret = ipv4_local_delivery(skb, &pkt, ep, obs, &tm);
			if (IS_DROP(ret))
				return send_drop(skb, -ret, dir, &pkt);
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
