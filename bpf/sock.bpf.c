/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sock.bpf.c: socket-level load balancing (Cilium's bpf_sock.c), attached to
 * a node's cgroup (the node's pods and daemons live below it). A connect() to
 * a Service address is sent to a backend before the first packet exists, so
 * the connection's packets are never NATed and conntrack sees pod to backend:
 *
 *   bl_sock4_connect      connect(): TCP, and connected UDP
 *   bl_sock4_sendmsg      sendmsg()/sendto() on unconnected UDP, per datagram
 *   bl_sock4_recvmsg      recvmsg() on UDP: the reply's source back to the service
 *   bl_sock4_getpeername  getpeername(): the service address the socket asked for
 *
 * A Service without backends refuses at once: connect() fails ECONNREFUSED.
 *
 * A routed Service frontend (mesh, BL_LB_F_L7) is not translated for a pod's
 * socket: its connection leaves the pod to the Service's address, and the
 * pod's tc program hands it to the node proxy (lxc.bpf.c). A pod is any
 * network namespace but the node's own, whose cookie the loader sets in
 * bl_sock_node_netns (the agent's, which lives in the node's namespace); the
 * node's own sockets (its daemons, the node proxy itself) keep this path.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lib/maps.h"
#include "lib/lb.h"

#define SYS_REJECT	0
#define SYS_PROCEED	1

/* Not from libc headers: the BPF target has none. */
#define BL_SOCK_STREAM	1
#define BL_SOCK_DGRAM	2
#define BL_IPPROTO_TCP	6
#define BL_IPPROTO_UDP	17
#define BL_ECONNREFUSED	111

#define NSEC_PER_SEC	1000000000ULL

/*
 * The node's network namespace cookie (SO_NETNS_COOKIE in the agent), set by
 * the loader. 0 (not set): no socket counts as the node's, so a routed
 * frontend is translated for none: the node's own connections to it then go
 * by the route to the Service's address, not to the proxy.
 */
const volatile __u64 bl_sock_node_netns = 0;

/*
 * A translation, reported for flows (Hubble's SOCK flows: which Service a
 * connection was meant for; its packets only ever show the backend). What
 * does not fit into bl_events is counted, as for every other event.
 */
static __always_inline void sock4_trace_xlate(struct bpf_sock_addr *ctx, __u8 proto, __be32 orig_addr, __be16 orig_port,
					      __be32 addr, __be16 port)
{
	struct bl_trace_sock_notify *ev;

	ev = bpf_ringbuf_reserve(&bl_events, sizeof(*ev), 0);
	if (!ev) {
		__u32 type = BL_EVENT_TRACE_SOCK;
		__u64 *lost = bpf_map_lookup_elem(&bl_events_lost, &type);

		if (lost)
			*lost += 1;
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->hdr.type = BL_EVENT_TRACE_SOCK;
	ev->hdr.subtype = BL_SOCK_XLATE_POST_FWD;
	ev->hdr.version = BL_NOTIFY_VERSION;
	ev->hdr.ktime_ns = bpf_ktime_get_ns();
	ev->sock_cookie = bpf_get_socket_cookie(ctx);
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->dst_ip4 = addr;
	ev->dst_port = port;
	ev->l4_proto = proto;
	ev->orig_ip4 = orig_addr;
	ev->orig_port = orig_port;
	bpf_ringbuf_submit(ev, 0);
}

static __always_inline __u8 sock_proto(const struct bpf_sock_addr *ctx)
{
	if (ctx->type == BL_SOCK_STREAM)
		return BL_IPPROTO_TCP;
	if (ctx->type == BL_SOCK_DGRAM)
		return BL_IPPROTO_UDP;
	return 0;
}

/*
 * Forward translation: service address → backend. Session affinity keys on
 * the client's network namespace (one pod), as Cilium's socket LB does.
 */
static __always_inline int sock4_xlate_fwd(struct bpf_sock_addr *ctx)
{
	struct bl_lb4_affinity_key akey = {};
	struct bl_lb4_reverse_sk_key rkey = {};
	struct bl_lb4_reverse_sk rval = {};
	struct bl_lb4_service *svc;
	struct bl_lb4_backend *be;
	__u8 proto = sock_proto(ctx);
	__be32 addr = ctx->user_ip4;
	__be16 port = (__be16)ctx->user_port;
	__u32 backend_id = 0;
	__u64 now;

	if (!proto)
		return SYS_PROCEED;
	svc = lb4_lookup_service(addr, port, proto);
	if (!svc)
		return SYS_PROCEED;
	/* A routed frontend, from a pod: left as it is, for the node proxy. */
	if ((svc->flags & BL_LB_F_L7) && proto == BL_IPPROTO_TCP && bpf_get_netns_cookie(ctx) != bl_sock_node_netns)
		return SYS_PROCEED;
	now = bpf_ktime_get_coarse_ns() / NSEC_PER_SEC;	/* the clock of lib/ct.h ct_now() */
	if (svc->flags & BL_LB_F_AFFINITY) {
		struct bl_lb4_affinity *a;

		akey.client_id = bpf_get_netns_cookie(ctx);
		akey.rev_nat_index = svc->rev_nat_index;
		a = bpf_map_lookup_elem(&bl_lb4_affinity, &akey);
		/* A remembered backend that is gone (or expired) is chosen anew. */
		if (a && now - a->last_used <= svc->affinity_timeout && bpf_map_lookup_elem(&bl_lb4_backends, &a->backend_id))
			backend_id = a->backend_id;
	}
	/*
	 * Maglev: at connect() there is no source port yet (and the source
	 * address may not be chosen), so the flow hash is the client's network
	 * namespace cookie with the frontend: each pod keeps one backend per
	 * frontend while the backends stay, and a backend change moves few
	 * pods. The cookie is per node; that is enough here, since only the
	 * client's own node translates its connections.
	 */
	if (!backend_id) {
		__u32 hash = 0;

		/* Only Maglev frontends pay for the cookie and the hash. */
		if (svc->flags & BL_LB_F_MAGLEV) {
			__u64 netns = bpf_get_netns_cookie(ctx);

			hash = bl_jhash_3words((__u32)netns, (__u32)(netns >> 32), addr, BL_LB_HASH_SEED_SOCK + port);
		}
		backend_id = lb4_select_backend_id_hash(addr, port, proto, svc, hash);
	}
	be = backend_id ? bpf_map_lookup_elem(&bl_lb4_backends, &backend_id) : NULL;
	if (!be) {
		/* No backend: refuse now instead of letting the client wait for a timeout. */
		bpf_set_retval(-BL_ECONNREFUSED);
		return SYS_REJECT;
	}
	if (svc->flags & BL_LB_F_AFFINITY) {
		struct bl_lb4_affinity aval = { .last_used = now, .backend_id = backend_id };

		bpf_map_update_elem(&bl_lb4_affinity, &akey, &aval, BPF_ANY);
	}
	rkey.cookie = bpf_get_socket_cookie(ctx);
	rkey.address = be->address;
	rkey.port = be->port;
	rval.address = addr;
	rval.port = port;
	rval.rev_nat_index = svc->rev_nat_index;
	bpf_map_update_elem(&bl_lb4_reverse_sk, &rkey, &rval, BPF_ANY);

	ctx->user_ip4 = be->address;
	ctx->user_port = (__u32)be->port;
	sock4_trace_xlate(ctx, proto, addr, port, be->address, be->port);
	return SYS_PROCEED;
}

/* Reverse translation: a backend the socket was sent to → the service it asked for. */
static __always_inline void sock4_xlate_rev(struct bpf_sock_addr *ctx)
{
	struct bl_lb4_reverse_sk_key rkey = {};
	struct bl_lb4_reverse_sk *rval;

	rkey.cookie = bpf_get_socket_cookie(ctx);
	rkey.address = ctx->user_ip4;
	rkey.port = (__be16)ctx->user_port;
	rval = bpf_map_lookup_elem(&bl_lb4_reverse_sk, &rkey);
	/* Only while the service exists: a deleted one is not resurrected in replies. */
	if (!rval || !bpf_map_lookup_elem(&bl_lb4_reverse_nat, &rval->rev_nat_index))
		return;
	ctx->user_ip4 = rval->address;
	ctx->user_port = (__u32)rval->port;
}

SEC("cgroup/connect4")
int bl_sock4_connect(struct bpf_sock_addr *ctx)
{
	return sock4_xlate_fwd(ctx);
}

SEC("cgroup/sendmsg4")
int bl_sock4_sendmsg(struct bpf_sock_addr *ctx)
{
	return sock4_xlate_fwd(ctx);
}

SEC("cgroup/recvmsg4")
int bl_sock4_recvmsg(struct bpf_sock_addr *ctx)
{
	sock4_xlate_rev(ctx);
	return SYS_PROCEED;
}

SEC("cgroup/getpeername4")
int bl_sock4_getpeername(struct bpf_sock_addr *ctx)
{
	sock4_xlate_rev(ctx);
	return SYS_PROCEED;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
