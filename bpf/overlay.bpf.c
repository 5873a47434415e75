/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * overlay.bpf.c: the programs on the node's VXLAN device bl_vxlan, a
 * collect-metadata ("external") device, like Cilium's bpf_overlay.
 *   bl_from_overlay  tc ingress: packets from pods on other nodes, already
 *                    decapsulated; delivered straight to the local endpoint
 *                    they are for (its ingress policy judging the sender by
 *                    the identity in the VNI), or dropped (BL_DROP_UNROUTABLE)
 *                    when no endpoint here has the address
 *   bl_to_overlay    tc egress: packets about to be encapsulated (lxc.bpf.c
 *                    set their tunnel key); counted and traced only
 * Non-IPv4 frames from the tunnel pass to the stack untouched.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "abi/common.h"
#include "abi/config.h"
#include "abi/drop.h"
#include "abi/events.h"
#include "abi/metrics.h"

#define BL_THIS_FILE BL_FILE_OVERLAY

#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/metrics.h"
#include "lib/events.h"
#include "lib/drop.h"
#include "lib/eth.h"
#include "lib/ipv4.h"
#include "lib/ipcache.h"
#include "lib/lxc.h"

/* Defaults; the loader overwrites them before load (see abi/config.h). */
const volatile struct bl_datapath_config bl_config = {
	.flags = BL_CFG_TRACE_NOTIFY | BL_CFG_DROP_NOTIFY | BL_CFG_POLICY_VERDICT_NOTIFY,
	.trace_capture_len = BL_TRACE_CAPTURE_LEN,
	.trace_aggregation = BL_TRACE_AGG_NONE,
	.routing_mode = BL_ROUTING_TUNNEL,
};

/*
 * The sender's identity: the sending node put its endpoint's identity in the
 * VNI (lib/tunnel.h, tunnel_vni()); the cluster-wide VNI means it had none,
 * and then, as without tunnel metadata, the ipcache says (else the world).
 * A node's own packets carry host, which is only ever this node here: to
 * this node the sender is remote-node (as Cilium's bpf_overlay maps it).
 */
static __always_inline __u32 overlay_src_identity(struct __sk_buff *skb, __be32 saddr)
{
	struct bpf_tunnel_key key = {};

	if (bpf_skb_get_tunnel_key(skb, &key, sizeof(key), 0) == 0 && key.tunnel_id &&
	    key.tunnel_id != bl_config.tunnel_vni)
		return key.tunnel_id == BL_IDENTITY_HOST ? BL_IDENTITY_REMOTE_NODE : key.tunnel_id;
	return ipcache_identity4(saddr);
}

static __always_inline int from_overlay_ipv4(struct __sk_buff *skb, struct pkt_meta *pkt,
					     struct trace_meta *tm)
{
	struct bl_endpoint_info *ep;
	int ret;

	ret = ipv4_parse(skb, pkt);
	if (IS_DROP(ret))
		return ret;
	/* The sending node routed by our pod CIDR; a miss is a pod that is
	 * gone, or a stale ipcache entry over there. */
	ep = lookup_ip4_endpoint(pkt->daddr);
	if (!ep)
		return DROP(BL_DROP_UNROUTABLE);
	tm->src_identity = overlay_src_identity(skb, pkt->saddr);
	return ipv4_local_delivery(skb, pkt, ep, BL_TRACE_FROM_OVERLAY, tm, 0);
}

SEC("tc")
int bl_from_overlay(struct __sk_buff *skb)
{
	struct trace_meta tm = { .source = bl_config.host_endpoint_id };
	struct pkt_meta pkt = {};
	int ret;

	eth_parse(skb, &pkt);
	if (pkt.l3_proto == bpf_htons(ETH_P_IP)) {
		ret = from_overlay_ipv4(skb, &pkt, &tm);
	} else {
		tm.reason = BL_TRACE_REASON_UNKNOWN;
		if (trace_wanted(&pkt))
			send_trace_notify_meta(skb, BL_TRACE_FROM_OVERLAY, &tm, &pkt);
		ret = CTX_ACT_OK;
	}
	if (IS_DROP(ret))
		return send_drop_meta(skb, -ret, BL_DIR_INGRESS, &tm, &pkt);
	metrics_update(BL_REASON_FORWARDED, BL_DIR_INGRESS, skb->len);
	return ret;
}

/*
 * Egress of bl_vxlan: counts what is encapsulated. No trace here: every
 * packet that reaches the tunnel was redirected by bl_from_container, which
 * already reported it TO_OVERLAY with its endpoint and conntrack state; a
 * second, stateless event would only duplicate it.
 */
SEC("tc")
int bl_to_overlay(struct __sk_buff *skb)
{
	metrics_update(BL_REASON_FORWARDED, BL_DIR_EGRESS, skb->len);
	return CTX_ACT_OK;
}

/* Matches the SPDX line; see host.bpf.c. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";
