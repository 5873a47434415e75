/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * abi/lb.h: Service load-balancing (kube-proxy replacement), Cilium's lb4_*
 * maps. The agent writes them from Services and EndpointSlices; the socket
 * hooks (sock.bpf.c: connect4, sendmsg4, recvmsg4, getpeername4) translate a
 * service address to a backend once per connection, before any packet exists.
 *
 *   bl_lb4_services   frontend (address, port, protocol, slot) → service
 *                     slot 0 is the master entry: backend count, service id
 *                     (rev_nat_index), flags; slots 1..count name one backend
 *                     each. Choosing a backend is one random number and two
 *                     hash lookups, whatever the number of Services.
 *   bl_lb4_backends   backend id → address, port, state
 *   bl_lb4_reverse_nat  service id → frontend address and port (replies)
 *   bl_lb4_reverse_sk socket cookie + backend → frontend, so recvmsg and
 *                     getpeername show the service address, not the backend
 *   bl_lb4_affinity   (client, service id) → backend (sessionAffinity ClientIP)
 *
 * Terminating backends are kept after the active ones: slots count+1 ..
 * count+qcount. They are chosen only when count is 0 (Kubernetes' rule: use
 * terminating endpoints only when no ready one is left).
 */
#pragma once

#include "abi/common.h"

/* Sizes; the agent may size the maps differently before load. */
enum bl_lb_limits {
	BL_LB4_SERVICES_MAX_ENTRIES = 65536,	/* frontend slots (masters + backend slots) */
	BL_LB4_BACKENDS_MAX_ENTRIES = 65536,
	BL_LB4_REVERSE_NAT_MAX_ENTRIES = 65536,
	BL_LB4_REVERSE_SK_MAX_ENTRIES = 65536,
	BL_LB4_AFFINITY_MAX_ENTRIES = 65536,
	BL_LB4_NODEPORT_NAT_MAX_ENTRIES = 65536,
};
BL_ABI_KEEP(enum bl_lb_limits, lb_limits);

/* Key of bl_lb4_services. */
struct bl_lb4_key {
	__be32	address;	/* the frontend's address (cluster IP, node IP, LB IP, external IP) */
	__be16	dport;		/* the frontend's port */
	__u16	backend_slot;	/* 0: the master entry; 1..: one backend each */
	__u8	proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8	pad0[3];
};

/* bl_lb4_service.flags. */
enum bl_lb_flags {
	BL_LB_F_AFFINITY = 1 << 0,	/* sessionAffinity ClientIP: affinity_timeout applies */
	BL_LB_F_NODEPORT = 1 << 1,	/* a NodePort frontend */
	BL_LB_F_LOADBALANCER = 1 << 2,	/* a LoadBalancer ingress address */
	BL_LB_F_EXTERNAL_IP = 1 << 3,	/* one of spec.externalIPs */
	BL_LB_F_LOCAL = 1 << 4,		/* traffic policy Local: only this node's backends are listed */
};
BL_ABI_KEEP(enum bl_lb_flags, lb_flags);

/* Value of bl_lb4_services. */
struct bl_lb4_service {
	__u32	backend_id;	/* slots 1..: the backend; master: 0 */
	__u16	count;		/* master: active backends, in slots 1..count */
	__u16	qcount;		/* master: terminating backends, in slots count+1..count+qcount */
	__u16	rev_nat_index;	/* the service (frontend) id: bl_lb4_reverse_nat key */
	__u16	flags;		/* enum bl_lb_flags */
	__u32	affinity_timeout; /* master: seconds a client keeps its backend (BL_LB_F_AFFINITY) */
};

/* bl_lb4_backend.flags: the backend's state. */
enum bl_lb_backend_state {
	BL_LB_BACKEND_ACTIVE = 0,
	BL_LB_BACKEND_TERMINATING = 1,
};
BL_ABI_KEEP(enum bl_lb_backend_state, lb_backend_state);

/* Value of bl_lb4_backends (key: __u32 backend id, never 0). */
struct bl_lb4_backend {
	__be32	address;
	__be16	port;
	__u8	proto;
	__u8	flags;		/* enum bl_lb_backend_state */
};

/* Value of bl_lb4_reverse_nat (key: __u16 service id). */
struct bl_lb4_reverse_nat {
	__be32	address;
	__be16	port;
	__u16	pad0;
};

/* Key of bl_lb4_reverse_sk: a translated socket and the backend it was sent to. */
struct bl_lb4_reverse_sk_key {
	__u64	cookie;		/* bpf_get_socket_cookie() */
	__be32	address;	/* backend address */
	__be16	port;		/* backend port */
	__u16	pad0;
};

/* Value of bl_lb4_reverse_sk: what the socket asked for. */
struct bl_lb4_reverse_sk {
	__be32	address;	/* frontend address */
	__be16	port;		/* frontend port */
	__u16	rev_nat_index;
};

/* Key of bl_lb4_affinity: one client of one service. */
struct bl_lb4_affinity_key {
	__u64	client_id;	/* socket LB: the client's network namespace cookie */
	__u16	rev_nat_index;
	__u16	pad0;
	__u32	pad1;
};

/* Value of bl_lb4_affinity. */
struct bl_lb4_affinity {
	__u64	last_used;	/* bpf_ktime_get_ns() / 1e9 of the last connection */
	__u32	backend_id;
	__u32	pad0;
};

/*
 * Key of bl_lb4_nodeport_nat: a NodePort connection this node sent on to a
 * backend on another node with its own address as the source (SNAT, keeping
 * the client's port), as the backend's reply arrives back here.
 */
struct bl_lb4_nodeport_nat_key {
	__be32	backend;	/* the reply's source address */
	__be16	backend_port;	/* the reply's source port */
	__be16	client_port;	/* the reply's destination port: the client's, kept */
	__u8	proto;
	__u8	pad0[3];
};

/* Value of bl_lb4_nodeport_nat: whom the reply goes back to. */
struct bl_lb4_nodeport_nat {
	__be32	client;		/* the client's address */
	__u16	rev_nat_index;	/* the frontend the client asked for */
	__u16	pad0;
};
