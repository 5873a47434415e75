/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * abi/config.h: load-time configuration of a datapath object. Each entry-point
 * file defines `const volatile struct bl_datapath_config bl_config` in .rodata
 * with its defaults; the loader overwrites it between open and load
 * (libbpf-bootstrap style), after which the verifier treats it as a constant
 * and prunes the branches it disables. No #ifdef forests.
 */
#pragma once

#include "abi/common.h"

/* Feature switches in bl_datapath_config.flags. */
enum bl_config_flags {
	BL_CFG_TRACE_NOTIFY = 1 << 0,	/* emit trace events (subject to trace_aggregation) */
	BL_CFG_DROP_NOTIFY = 1 << 1,	/* emit drop events */
};
BL_ABI_KEEP(enum bl_config_flags, config_flags);

/* The configuration of one loaded object (global bl_config in .rodata). */
struct bl_datapath_config {
	__u32	node_id;		/* cluster-unique id of this node (0: unset) */
	__u32	flags;			/* enum bl_config_flags */
	__u16	host_endpoint_id;	/* bl_notify_hdr.source of events from host programs */
	__u16	trace_capture_len;	/* packet bytes copied into events, at most BL_TRACE_CAPTURE_LEN */
	__u8	trace_aggregation;	/* enum bl_trace_aggregation */
	__u8	pad0[3];
};
