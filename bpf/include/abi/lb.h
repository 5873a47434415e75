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
 *   bl_lb4_maglev     (service id, slot) → backend: Maglev frontends' tables
 *   bl_lb4_nodeport_snat  NodePort connection to another node's backend
 *                     (client, backend) → the source port this node gave it
 *   bl_lb4_nodeport_nat   (backend, that port) → the client, for the replies
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
	BL_LB4_NODEPORT_SNAT_MAX_ENTRIES = 65536,
	BL_LB4_MAGLEV_MAX_ENTRIES = 1 << 20,	/* Maglev slots: M per Maglev frontend (64 frontends at M=16381) */
	BL_LB_MAGLEV_TABLE_SIZE_DEFAULT = 16381, /* M unless the loader sets bl_lb_maglev_table_size (Cilium's default) */
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
	BL_LB_F_MAGLEV = 1 << 5,	/* Maglev: the backend is bl_lb4_maglev[flow hash % M], not a random slot */
	BL_LB_F_L7 = 1 << 6,		/* a routed (mesh) ClusterIP TCP frontend: pods' connections go to the
					 * node proxy's mesh listener, whose port the master's backend_id holds */
};
BL_ABI_KEEP(enum bl_lb_flags, lb_flags);

/* Value of bl_lb4_services. */
struct bl_lb4_service {
	__u32	backend_id;	/* slots 1..: the backend; master: 0, or with BL_LB_F_L7 the proxy port */
	__u16	count;		/* master: active backends, in slots 1..count */
	__u16	qcount;		/* master: terminating backends, in slots count+1..count+qcount */
	__u16	rev_nat_index;	/* the service (frontend) id: bl_lb4_reverse_nat key */
	__u16	flags;		/* enum bl_lb_flags */
	__u32	affinity_timeout; /* master: seconds a client keeps its backend (BL_LB_F_AFFINITY) */
};

/*
 * Key of bl_lb4_maglev (value: __u32 backend id): one slot of a Maglev
 * frontend's M-slot lookup table (src/service/maglev.ts fills it). A flow
 * hashes to a slot; every node holds the same table (by backend address, not
 * by its per-node id), so every node picks the same backend for a flow.
 */
struct bl_lb4_maglev_key {
	__u16	rev_nat_index;	/* the frontend (bl_lb4_service.rev_nat_index) */
	__u16	pad0;
	__u32	slot;		/* 0..M-1: the flow's hash % bl_lb_maglev_table_size */
};

/* Fixed seeds of the flow hashes (lib/hash.h): the same on every node, so nodes agree. */
enum bl_lb_hash {
	BL_LB_HASH_SEED_TUPLE = 0x626c6d67,	/* packet path: the 5-tuple */
	BL_LB_HASH_SEED_SOCK = 0x626c736b,	/* socket path: netns cookie, frontend */
};
BL_ABI_KEEP(enum bl_lb_hash, lb_hash);

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
	__u64	last_used;	/* bpf_ktime_get_coarse_ns() / 1e9 of the last connection */
	__u32	backend_id;
	__u32	pad0;
};

/*
 * NodePort SNAT source ports (Cilium's NODEPORT_PORT_MIN_NAT ..
 * NODEPORT_PORT_MAX_NAT, SNAT_COLLISION_RETRIES). A connection sent on to
 * another node's backend keeps the client's port when no other client holds
 * it towards that backend; else it gets a free port of this range, probed
 * from a random start. Above the NodePort range (30000-32767), so a reply
 * never looks like a new NodePort connection.
 */
enum bl_nodeport_snat {
	BL_NODEPORT_SNAT_PORT_MIN = 32768,
	BL_NODEPORT_SNAT_PORT_MAX = 65535,
	BL_NODEPORT_SNAT_RETRIES = 32,		/* ports probed after the client's own; then BL_DROP_NAT_NO_MAPPING */
};
BL_ABI_KEEP(enum bl_nodeport_snat, nodeport_snat);

/*
 * Key of bl_lb4_nodeport_snat: a NodePort connection this node sends on to a
 * backend on another node, as it arrived (after DNAT, before SNAT). Every
 * packet of the connection finds the source port it was given here.
 */
struct bl_lb4_nodeport_snat_key {
	__be32	client;		/* the client's address (the packet's source before SNAT) */
	__be32	backend;	/* the backend's address (the destination after DNAT) */
	__be16	client_port;	/* the client's source port */
	__be16	backend_port;	/* the backend's port */
	__u8	proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8	pad0[3];
};

/* Value of bl_lb4_nodeport_snat. */
struct bl_lb4_nodeport_snat {
	__be16	nat_port;	/* the source port towards the backend (bl_lb4_nodeport_nat_key.nat_port) */
	__u16	pad0;
};

/*
 * Key of bl_lb4_nodeport_nat: a NodePort connection this node sent on to a
 * backend on another node with its own address as the source (SNAT), as the
 * backend's reply arrives back here. One entry per (backend, port): it is
 * inserted with BPF_NOEXIST, which is how a port is claimed.
 */
struct bl_lb4_nodeport_nat_key {
	__be32	backend;	/* the reply's source address */
	__be16	backend_port;	/* the reply's source port */
	__be16	nat_port;	/* the reply's destination port: the port SNAT gave the connection */
	__u8	proto;
	__u8	pad0[3];
};

/* Value of bl_lb4_nodeport_nat: whom the reply goes back to. */
struct bl_lb4_nodeport_nat {
	__be32	client;		/* the client's address */
	__be16	client_port;	/* the client's own port (nat_port unless that was taken) */
	__u16	rev_nat_index;	/* the frontend the client asked for */
};
