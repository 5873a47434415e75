/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lib/tunnel.h: sending a packet to another node through the VXLAN device
 * bl_vxlan, a collect-metadata ("external") device: the outer header comes
 * from the tunnel key set here, not from the device's configuration.
 */
#pragma once

#include "lib/common.h"
#include "lib/config.h"

#define TUNNEL_TTL	64
#define VNI_MAX		0xffffff	/* VXLAN network identifiers are 24 bits */

/*
 * The VNI of a packet from an endpoint: its security identity, as Cilium
 * does, so the receiving node learns the source identity from the header;
 * until identities exist (0) or when one does not fit, the configured
 * cluster-wide VNI.
 */
static __always_inline __u32 tunnel_vni(__u32 src_identity)
{
	if (src_identity && src_identity <= VNI_MAX)
		return src_identity;
	return bl_config.tunnel_vni;
}

/*
 * Sets the outer destination (tunnel_endpoint, a node IP in network byte
 * order) and VNI, and redirects to the egress of the tunnel device, which
 * encapsulates. Returns CTX_ACT_REDIRECT or a drop.
 */
static __always_inline int encap_and_redirect4(struct __sk_buff *skb, __be32 tunnel_endpoint,
					       __u32 vni)
{
	struct bpf_tunnel_key key = {};

	if (!bl_config.tunnel_ifindex)
		return DROP(BL_DROP_NO_TUNNEL_ENDPOINT);	/* tunnel mode without a device */
	/* Unlike every other address here, the helper takes remote_ipv4 in
	 * host byte order. */
	key.remote_ipv4 = bpf_ntohl(tunnel_endpoint);
	key.tunnel_id = vni;
	key.tunnel_ttl = TUNNEL_TTL;
	/* BPF_F_ZERO_CSUM_TX: no outer UDP checksum, as VXLAN over IPv4 allows. */
	if (bpf_skb_set_tunnel_key(skb, &key, sizeof(key), BPF_F_ZERO_CSUM_TX) < 0)
		return DROP(BL_DROP_WRITE_ERROR);
	return bpf_redirect(bl_config.tunnel_ifindex, 0);
}
