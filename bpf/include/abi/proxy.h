/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * abi/proxy.h: handing connections to the node's L7 proxy (one per node,
 * never a sidecar). A policy entry with a proxy port (abi/policy.h) makes the
 * datapath give the connection's packets to the proxy's transparent socket
 * with bpf_sk_assign() at tc ingress, marked so that the node's routing
 * delivers them locally although their destination is a pod's address: the
 * agent installs, in the node's network namespace,
 *   ip rule add fwmark BL_PROXY_MARK/BL_PROXY_MARK_MASK lookup BL_PROXY_ROUTE_TABLE pref BL_PROXY_RULE_PREF
 *   ip route add local 0.0.0.0/0 dev lo table BL_PROXY_ROUTE_TABLE
 * (the TPROXY recipe; Cilium uses the same mark and table numbers).
 */
#pragma once

#include "abi/common.h"

enum bl_proxy_consts {
	BL_PROXY_MARK = 0x200,		/* skb->mark of packets handed to the proxy (Cilium's MARK_MAGIC_TO_PROXY) */
	BL_PROXY_MARK_MASK = 0xf00,
	BL_PROXY_ROUTE_TABLE = 2004,	/* routing table with the local default route */
	BL_PROXY_RULE_PREF = 9,		/* priority of the fwmark rule: before the main table */
};
BL_ABI_KEEP(enum bl_proxy_consts, proxy_consts);
