// Code generated from BTF by scripts/gen-abi.ts. DO NOT EDIT.
// Objects: host.bpf.o, lxc.bpf.o, overlay.bpf.o, sock.bpf.o. Byte order: little-endian.
// Regenerate with 'make gen' and commit; 'make build' fails when this file and the objects disagree.

/** One field of a generated struct. */
export interface FieldLayout {
  readonly name: string;
  /** Byte offset in the struct. */
  readonly offset: number;
  /** sizeof() the field. */
  readonly size: number;
  /** C type: `__u8`, `__be16`, `__u8[128]`, `struct bl_notify_hdr`, … */
  readonly type: string;
  /** Explicit padding: always encoded as zero, absent from the interface. */
  readonly padding: boolean;
}

/** Fixed-size binary codec of one C type. */
export interface Codec<T> {
  /** The C type, e.g. `struct bl_metrics_key` or `__u32`. */
  readonly ctype: string;
  /** sizeof() the C type. */
  readonly size: number;
  /** Writes value into buf at off (a new buffer of `size` bytes by default) and returns the buffer. */
  encode(value: T, buf?: Buffer, off?: number): Buffer;
  /** Reads `size` bytes of buf at off. */
  decode(buf: Uint8Array, off?: number): T;
}

/** Codec of a struct, with its layout. */
export interface StructCodec<T> extends Codec<T> {
  readonly layout: readonly FieldLayout[];
}

/** A map of a BPF object, as its BTF definition declares it. */
export interface MapSpec {
  readonly name: string;
  /** enum bpf_map_type */
  readonly type: number;
  readonly typeName: string;
  readonly keySize: number;
  readonly valueSize: number;
  /** C type of key and value; null when the map has none (ring buffers). */
  readonly keyType: string | null;
  readonly valueType: string | null;
  /** Codecs of key and value; null when there is none or the type has no codec. */
  readonly key: Codec<unknown> | null;
  readonly value: Codec<unknown> | null;
  readonly maxEntries: number;
  /** BPF_F_* map_flags. */
  readonly flags: number;
  /** LIBBPF_PIN_* (0: not pinned by libbpf). */
  readonly pinning: number;
  /**
   * Per-CPU map: a lookup returns one value per possible CPU, each
   * `valueStride` bytes (valueSize rounded up to 8) after the previous.
   */
  readonly perCpu: boolean;
  readonly valueStride: number;
}

/** A program of a BPF object. */
export interface ProgramSpec {
  readonly name: string;
  /** ELF section; tells libbpf the program type (`tc` is BPF_PROG_TYPE_SCHED_CLS). */
  readonly section: string;
}

/** A global variable; to set one before load, write its bytes into the section's initial value. */
export interface GlobalSpec {
  readonly name: string;
  /** `.rodata`, `.data`, `.bss`: libbpf's internal map for it is found under this name. */
  readonly section: string;
  /** Byte offset in the section. */
  readonly offset: number;
  readonly size: number;
  readonly type: string;
  readonly codec: Codec<unknown> | null;
}

/** A data section of a BPF object (one libbpf internal map). */
export interface DataSectionSpec {
  readonly name: string;
  readonly size: number;
}

/** What one compiled object holds. */
export interface BpfObjectSpec {
  /** File name under build/bpf/. */
  readonly file: string;
  readonly license: string | null;
  readonly maps: Readonly<Record<string, MapSpec>>;
  readonly programs: Readonly<Record<string, ProgramSpec>>;
  readonly globals: Readonly<Record<string, GlobalSpec>>;
  readonly sections: Readonly<Record<string, DataSectionSpec>>;
}

// ---- enums

/** enum bl_config_flags. */
export const BlConfigFlags = {
  BL_CFG_TRACE_NOTIFY: 1,
  BL_CFG_DROP_NOTIFY: 2,
  BL_CFG_HOST_ROUTING: 4,
  BL_CFG_POLICY_VERDICT_NOTIFY: 8,
} as const;
export type BlConfigFlags = (typeof BlConfigFlags)[keyof typeof BlConfigFlags];
const BL_CONFIG_FLAGS_NAMES = nameTable(BlConfigFlags);
/** The name of a value of enum bl_config_flags (the first, if several share it). */
export function blConfigFlagsName(value: number): string | undefined {
  return BL_CONFIG_FLAGS_NAMES.get(value);
}

/** enum bl_ct_entry_flags. */
export const BlCtEntryFlags = {
  BL_CT_F_RX_CLOSING: 1,
  BL_CT_F_TX_CLOSING: 2,
  BL_CT_F_SEEN_NON_SYN: 4,
  BL_CT_F_FROM_PROXY: 8,
} as const;
export type BlCtEntryFlags = (typeof BlCtEntryFlags)[keyof typeof BlCtEntryFlags];
const BL_CT_ENTRY_FLAGS_NAMES = nameTable(BlCtEntryFlags);
/** The name of a value of enum bl_ct_entry_flags (the first, if several share it). */
export function blCtEntryFlagsName(value: number): string | undefined {
  return BL_CT_ENTRY_FLAGS_NAMES.get(value);
}

/** enum bl_ct_timeouts. */
export const BlCtTimeouts = {
  BL_CT_REPORT_INTERVAL: 5,
  BL_CT_CLOSE_TIMEOUT: 10,
  BL_CT_LIFETIME_NONTCP: 60,
  BL_CT_SYN_TIMEOUT: 60,
  BL_CT_LIFETIME_TCP: 21600,
} as const;
export type BlCtTimeouts = (typeof BlCtTimeouts)[keyof typeof BlCtTimeouts];
const BL_CT_TIMEOUTS_NAMES = nameTable(BlCtTimeouts);
/** The name of a value of enum bl_ct_timeouts (the first, if several share it). */
export function blCtTimeoutsName(value: number): string | undefined {
  return BL_CT_TIMEOUTS_NAMES.get(value);
}

/** enum bl_ct_tuple_flags. */
export const BlCtTupleFlags = {
  BL_CT_TUPLE_F_OUT: 0,
  BL_CT_TUPLE_F_IN: 1,
  BL_CT_TUPLE_F_SERVICE: 2,
} as const;
export type BlCtTupleFlags = (typeof BlCtTupleFlags)[keyof typeof BlCtTupleFlags];
const BL_CT_TUPLE_FLAGS_NAMES = nameTable(BlCtTupleFlags);
/** The name of a value of enum bl_ct_tuple_flags (the first, if several share it). */
export function blCtTupleFlagsName(value: number): string | undefined {
  return BL_CT_TUPLE_FLAGS_NAMES.get(value);
}

/** enum bl_direction. */
export const BlDirection = {
  BL_DIR_UNKNOWN: 0,
  BL_DIR_INGRESS: 1,
  BL_DIR_EGRESS: 2,
} as const;
export type BlDirection = (typeof BlDirection)[keyof typeof BlDirection];
const BL_DIRECTION_NAMES = nameTable(BlDirection);
/** The name of a value of enum bl_direction (the first, if several share it). */
export function blDirectionName(value: number): string | undefined {
  return BL_DIRECTION_NAMES.get(value);
}

/** enum bl_drop_reason. */
export const BlDropReason = {
  BL_DROP_SUCCESS: 0,
  BL_DROP_INVALID_SMAC: 130,
  BL_DROP_INVALID_DMAC: 131,
  BL_DROP_INVALID_SIP: 132,
  BL_DROP_POLICY: 133,
  BL_DROP_INVALID: 134,
  BL_DROP_CT_INVALID_HDR: 135,
  BL_DROP_FRAG_NEEDED: 136,
  BL_DROP_CT_UNKNOWN_PROTO: 137,
  BL_DROP_UNKNOWN_L3: 139,
  BL_DROP_MISSED_TAIL_CALL: 140,
  BL_DROP_WRITE_ERROR: 141,
  BL_DROP_UNKNOWN_L4: 142,
  BL_DROP_UNKNOWN_ICMP4_CODE: 143,
  BL_DROP_UNKNOWN_ICMP4_TYPE: 144,
  BL_DROP_UNKNOWN_ICMP6_CODE: 145,
  BL_DROP_UNKNOWN_ICMP6_TYPE: 146,
  BL_DROP_NO_TUNNEL_KEY: 147,
  BL_DROP_UNKNOWN_TARGET: 150,
  BL_DROP_UNROUTABLE: 151,
  BL_DROP_CSUM_L3: 153,
  BL_DROP_CSUM_L4: 154,
  BL_DROP_CT_CREATE_FAILED: 155,
  BL_DROP_INVALID_EXTHDR: 156,
  BL_DROP_FRAG_NOSUPPORT: 157,
  BL_DROP_NO_SERVICE: 158,
  BL_DROP_UNSUPP_SERVICE_PROTO: 159,
  BL_DROP_NO_TUNNEL_ENDPOINT: 160,
  BL_DROP_UNKNOWN_CT: 163,
  BL_DROP_HOST_UNREACHABLE: 164,
  BL_DROP_NO_CONFIG: 165,
  BL_DROP_UNSUPPORTED_L2: 166,
  BL_DROP_NAT_NO_MAPPING: 167,
  BL_DROP_NAT_UNSUPP_PROTO: 168,
  BL_DROP_NO_FIB: 169,
  BL_DROP_INVALID_IDENTITY: 171,
  BL_DROP_UNKNOWN_SENDER: 172,
  BL_DROP_FRAG_NOT_FOUND: 175,
  BL_DROP_SOCKET_LOOKUP_FAILED: 178,
  BL_DROP_SOCKET_ASSIGN_FAILED: 179,
  BL_DROP_POLICY_DENY: 181,
  BL_DROP_INVALID_VNI: 183,
  BL_DROP_POLICY_AUTH_REQUIRED: 189,
  BL_DROP_TTL_EXCEEDED: 196,
  BL_DROP_RATE_LIMITED: 198,
} as const;
export type BlDropReason = (typeof BlDropReason)[keyof typeof BlDropReason];
const BL_DROP_REASON_NAMES = nameTable(BlDropReason);
/** The name of a value of enum bl_drop_reason (the first, if several share it). */
export function blDropReasonName(value: number): string | undefined {
  return BL_DROP_REASON_NAMES.get(value);
}

/** enum bl_endpoint_flags. */
export const BlEndpointFlags = {
  BL_EP_F_POLICY_INGRESS: 1,
  BL_EP_F_POLICY_EGRESS: 2,
  BL_EP_F_POLICY_AUDIT: 4,
} as const;
export type BlEndpointFlags = (typeof BlEndpointFlags)[keyof typeof BlEndpointFlags];
const BL_ENDPOINT_FLAGS_NAMES = nameTable(BlEndpointFlags);
/** The name of a value of enum bl_endpoint_flags (the first, if several share it). */
export function blEndpointFlagsName(value: number): string | undefined {
  return BL_ENDPOINT_FLAGS_NAMES.get(value);
}

/** enum bl_event_type. */
export const BlEventType = {
  BL_EVENT_UNSPEC: 0,
  BL_EVENT_DROP: 1,
  BL_EVENT_DEBUG: 2,
  BL_EVENT_CAPTURE: 3,
  BL_EVENT_TRACE: 4,
  BL_EVENT_POLICY_VERDICT: 5,
  BL_EVENT_RECORD_CAPTURE: 6,
  BL_EVENT_TRACE_SOCK: 7,
} as const;
export type BlEventType = (typeof BlEventType)[keyof typeof BlEventType];
const BL_EVENT_TYPE_NAMES = nameTable(BlEventType);
/** The name of a value of enum bl_event_type (the first, if several share it). */
export function blEventTypeName(value: number): string | undefined {
  return BL_EVENT_TYPE_NAMES.get(value);
}

/** enum bl_forward_reason. */
export const BlForwardReason = {
  BL_REASON_FORWARDED: 0,
} as const;
export type BlForwardReason = (typeof BlForwardReason)[keyof typeof BlForwardReason];
const BL_FORWARD_REASON_NAMES = nameTable(BlForwardReason);
/** The name of a value of enum bl_forward_reason (the first, if several share it). */
export function blForwardReasonName(value: number): string | undefined {
  return BL_FORWARD_REASON_NAMES.get(value);
}

/** enum bl_ipcache_flags. */
export const BlIpcacheFlags = {
  BL_IPCACHE_F_AUTH_REQUIRED: 1,
} as const;
export type BlIpcacheFlags = (typeof BlIpcacheFlags)[keyof typeof BlIpcacheFlags];
const BL_IPCACHE_FLAGS_NAMES = nameTable(BlIpcacheFlags);
/** The name of a value of enum bl_ipcache_flags (the first, if several share it). */
export function blIpcacheFlagsName(value: number): string | undefined {
  return BL_IPCACHE_FLAGS_NAMES.get(value);
}

/** enum bl_lb_backend_state. */
export const BlLbBackendState = {
  BL_LB_BACKEND_ACTIVE: 0,
  BL_LB_BACKEND_TERMINATING: 1,
} as const;
export type BlLbBackendState = (typeof BlLbBackendState)[keyof typeof BlLbBackendState];
const BL_LB_BACKEND_STATE_NAMES = nameTable(BlLbBackendState);
/** The name of a value of enum bl_lb_backend_state (the first, if several share it). */
export function blLbBackendStateName(value: number): string | undefined {
  return BL_LB_BACKEND_STATE_NAMES.get(value);
}

/** enum bl_lb_flags. */
export const BlLbFlags = {
  BL_LB_F_AFFINITY: 1,
  BL_LB_F_NODEPORT: 2,
  BL_LB_F_LOADBALANCER: 4,
  BL_LB_F_EXTERNAL_IP: 8,
  BL_LB_F_LOCAL: 16,
  BL_LB_F_MAGLEV: 32,
  BL_LB_F_L7: 64,
} as const;
export type BlLbFlags = (typeof BlLbFlags)[keyof typeof BlLbFlags];
const BL_LB_FLAGS_NAMES = nameTable(BlLbFlags);
/** The name of a value of enum bl_lb_flags (the first, if several share it). */
export function blLbFlagsName(value: number): string | undefined {
  return BL_LB_FLAGS_NAMES.get(value);
}

/** enum bl_lb_hash. */
export const BlLbHash = {
  BL_LB_HASH_SEED_TUPLE: 1651273063,
  BL_LB_HASH_SEED_SOCK: 1651274603,
} as const;
export type BlLbHash = (typeof BlLbHash)[keyof typeof BlLbHash];
const BL_LB_HASH_NAMES = nameTable(BlLbHash);
/** The name of a value of enum bl_lb_hash (the first, if several share it). */
export function blLbHashName(value: number): string | undefined {
  return BL_LB_HASH_NAMES.get(value);
}

/** enum bl_lb_limits. */
export const BlLbLimits = {
  BL_LB_MAGLEV_TABLE_SIZE_DEFAULT: 16381,
  BL_LB4_AFFINITY_MAX_ENTRIES: 65536,
  BL_LB4_BACKENDS_MAX_ENTRIES: 65536,
  BL_LB4_NODEPORT_NAT_MAX_ENTRIES: 65536,
  BL_LB4_NODEPORT_SNAT_MAX_ENTRIES: 65536,
  BL_LB4_REVERSE_NAT_MAX_ENTRIES: 65536,
  BL_LB4_REVERSE_SK_MAX_ENTRIES: 65536,
  BL_LB4_SERVICES_MAX_ENTRIES: 65536,
  BL_LB4_MAGLEV_MAX_ENTRIES: 1048576,
} as const;
export type BlLbLimits = (typeof BlLbLimits)[keyof typeof BlLbLimits];
const BL_LB_LIMITS_NAMES = nameTable(BlLbLimits);
/** The name of a value of enum bl_lb_limits (the first, if several share it). */
export function blLbLimitsName(value: number): string | undefined {
  return BL_LB_LIMITS_NAMES.get(value);
}

/** enum bl_limits. */
export const BlLimits = {
  BL_EVENTS_LOST_MAX_ENTRIES: 8,
  BL_TRACE_CAPTURE_LEN: 128,
  BL_METRICS_MAX_ENTRIES: 1024,
  BL_LXC_MAX_ENTRIES: 4096,
  BL_IPCACHE_MAX_ENTRIES: 16384,
  BL_CT_MAX_ENTRIES_DEFAULT: 65536,
  BL_EVENTS_RINGBUF_SIZE: 1048576,
} as const;
export type BlLimits = (typeof BlLimits)[keyof typeof BlLimits];
const BL_LIMITS_NAMES = nameTable(BlLimits);
/** The name of a value of enum bl_limits (the first, if several share it). */
export function blLimitsName(value: number): string | undefined {
  return BL_LIMITS_NAMES.get(value);
}

/** enum bl_nodeport_snat. */
export const BlNodeportSnat = {
  BL_NODEPORT_SNAT_RETRIES: 32,
  BL_NODEPORT_SNAT_PORT_MIN: 32768,
  BL_NODEPORT_SNAT_PORT_MAX: 65535,
} as const;
export type BlNodeportSnat = (typeof BlNodeportSnat)[keyof typeof BlNodeportSnat];
const BL_NODEPORT_SNAT_NAMES = nameTable(BlNodeportSnat);
/** The name of a value of enum bl_nodeport_snat (the first, if several share it). */
export function blNodeportSnatName(value: number): string | undefined {
  return BL_NODEPORT_SNAT_NAMES.get(value);
}

/** enum bl_notify_version. */
export const BlNotifyVersion = {
  BL_NOTIFY_VERSION: 1,
} as const;
export type BlNotifyVersion = (typeof BlNotifyVersion)[keyof typeof BlNotifyVersion];
const BL_NOTIFY_VERSION_NAMES = nameTable(BlNotifyVersion);
/** The name of a value of enum bl_notify_version (the first, if several share it). */
export function blNotifyVersionName(value: number): string | undefined {
  return BL_NOTIFY_VERSION_NAMES.get(value);
}

/** enum bl_policy_action. */
export const BlPolicyAction = {
  BL_POLICY_ACTION_ALLOW: 0,
  BL_POLICY_ACTION_DENY: 1,
  BL_POLICY_ACTION_AUDIT: 2,
} as const;
export type BlPolicyAction = (typeof BlPolicyAction)[keyof typeof BlPolicyAction];
const BL_POLICY_ACTION_NAMES = nameTable(BlPolicyAction);
/** The name of a value of enum bl_policy_action (the first, if several share it). */
export function blPolicyActionName(value: number): string | undefined {
  return BL_POLICY_ACTION_NAMES.get(value);
}

/** enum bl_policy_entry_flags. */
export const BlPolicyEntryFlags = {
  BL_POLICY_F_ANY_PROTO: 1,
  BL_POLICY_F_ANY_PORT: 2,
  BL_POLICY_F_AUTH_REQUIRED: 4,
} as const;
export type BlPolicyEntryFlags = (typeof BlPolicyEntryFlags)[keyof typeof BlPolicyEntryFlags];
const BL_POLICY_ENTRY_FLAGS_NAMES = nameTable(BlPolicyEntryFlags);
/** The name of a value of enum bl_policy_entry_flags (the first, if several share it). */
export function blPolicyEntryFlagsName(value: number): string | undefined {
  return BL_POLICY_ENTRY_FLAGS_NAMES.get(value);
}

/** enum bl_policy_limits. */
export const BlPolicyLimits = {
  BL_POLICY_L3_PREFIXLEN: 64,
  BL_POLICY_PROTO_PREFIXLEN: 80,
  BL_POLICY_FULL_PREFIXLEN: 96,
  BL_POLICY_EP_MAX_ENTRIES_DEFAULT: 16384,
  BL_POLICY_MAX_ENTRIES_DEFAULT: 262144,
} as const;
export type BlPolicyLimits = (typeof BlPolicyLimits)[keyof typeof BlPolicyLimits];
const BL_POLICY_LIMITS_NAMES = nameTable(BlPolicyLimits);
/** The name of a value of enum bl_policy_limits (the first, if several share it). */
export function blPolicyLimitsName(value: number): string | undefined {
  return BL_POLICY_LIMITS_NAMES.get(value);
}

/** enum bl_policy_match. */
export const BlPolicyMatch = {
  BL_POLICY_MATCH_NONE: 0,
  BL_POLICY_MATCH_L3_ONLY: 1,
  BL_POLICY_MATCH_L3_L4: 2,
  BL_POLICY_MATCH_L4_ONLY: 3,
  BL_POLICY_MATCH_ALL: 4,
} as const;
export type BlPolicyMatch = (typeof BlPolicyMatch)[keyof typeof BlPolicyMatch];
const BL_POLICY_MATCH_NAMES = nameTable(BlPolicyMatch);
/** The name of a value of enum bl_policy_match (the first, if several share it). */
export function blPolicyMatchName(value: number): string | undefined {
  return BL_POLICY_MATCH_NAMES.get(value);
}

/** enum bl_policy_verdict. */
export const BlPolicyVerdict = {
  BL_POLICY_ALLOW: 1,
  BL_POLICY_DENY: 2,
  BL_POLICY_DEFAULT_DENY: 3,
} as const;
export type BlPolicyVerdict = (typeof BlPolicyVerdict)[keyof typeof BlPolicyVerdict];
const BL_POLICY_VERDICT_NAMES = nameTable(BlPolicyVerdict);
/** The name of a value of enum bl_policy_verdict (the first, if several share it). */
export function blPolicyVerdictName(value: number): string | undefined {
  return BL_POLICY_VERDICT_NAMES.get(value);
}

/** enum bl_proxy_consts. */
export const BlProxyConsts = {
  BL_PROXY_RULE_PREF: 9,
  BL_PROXY_MARK: 512,
  BL_PROXY_ROUTE_TABLE: 2004,
  BL_PROXY_MARK_MASK: 3840,
} as const;
export type BlProxyConsts = (typeof BlProxyConsts)[keyof typeof BlProxyConsts];
const BL_PROXY_CONSTS_NAMES = nameTable(BlProxyConsts);
/** The name of a value of enum bl_proxy_consts (the first, if several share it). */
export function blProxyConstsName(value: number): string | undefined {
  return BL_PROXY_CONSTS_NAMES.get(value);
}

/** enum bl_reserved_identity. */
export const BlReservedIdentity = {
  BL_IDENTITY_HOST: 1,
  BL_IDENTITY_WORLD: 2,
  BL_IDENTITY_REMOTE_NODE: 6,
} as const;
export type BlReservedIdentity = (typeof BlReservedIdentity)[keyof typeof BlReservedIdentity];
const BL_RESERVED_IDENTITY_NAMES = nameTable(BlReservedIdentity);
/** The name of a value of enum bl_reserved_identity (the first, if several share it). */
export function blReservedIdentityName(value: number): string | undefined {
  return BL_RESERVED_IDENTITY_NAMES.get(value);
}

/** enum bl_routing_mode. */
export const BlRoutingMode = {
  BL_ROUTING_UNSET: 0,
  BL_ROUTING_TUNNEL: 1,
  BL_ROUTING_NATIVE: 2,
} as const;
export type BlRoutingMode = (typeof BlRoutingMode)[keyof typeof BlRoutingMode];
const BL_ROUTING_MODE_NAMES = nameTable(BlRoutingMode);
/** The name of a value of enum bl_routing_mode (the first, if several share it). */
export function blRoutingModeName(value: number): string | undefined {
  return BL_ROUTING_MODE_NAMES.get(value);
}

/** enum bl_sock_xlate_point. */
export const BlSockXlatePoint = {
  BL_SOCK_XLATE_UNKNOWN: 0,
  BL_SOCK_XLATE_PRE_FWD: 1,
  BL_SOCK_XLATE_POST_FWD: 2,
  BL_SOCK_XLATE_PRE_REV: 3,
  BL_SOCK_XLATE_POST_REV: 4,
} as const;
export type BlSockXlatePoint = (typeof BlSockXlatePoint)[keyof typeof BlSockXlatePoint];
const BL_SOCK_XLATE_POINT_NAMES = nameTable(BlSockXlatePoint);
/** The name of a value of enum bl_sock_xlate_point (the first, if several share it). */
export function blSockXlatePointName(value: number): string | undefined {
  return BL_SOCK_XLATE_POINT_NAMES.get(value);
}

/** enum bl_source_file. */
export const BlSourceFile = {
  BL_FILE_UNKNOWN: 0,
  BL_FILE_HOST: 1,
  BL_FILE_LXC: 2,
  BL_FILE_OVERLAY: 3,
} as const;
export type BlSourceFile = (typeof BlSourceFile)[keyof typeof BlSourceFile];
const BL_SOURCE_FILE_NAMES = nameTable(BlSourceFile);
/** The name of a value of enum bl_source_file (the first, if several share it). */
export function blSourceFileName(value: number): string | undefined {
  return BL_SOURCE_FILE_NAMES.get(value);
}

/** enum bl_trace_aggregation. */
export const BlTraceAggregation = {
  BL_TRACE_AGG_NONE: 0,
  BL_TRACE_AGG_LOWEST: 1,
  BL_TRACE_AGG_LOW: 2,
  BL_TRACE_AGG_MEDIUM: 3,
  BL_TRACE_AGG_MAXIMUM: 4,
} as const;
export type BlTraceAggregation = (typeof BlTraceAggregation)[keyof typeof BlTraceAggregation];
const BL_TRACE_AGGREGATION_NAMES = nameTable(BlTraceAggregation);
/** The name of a value of enum bl_trace_aggregation (the first, if several share it). */
export function blTraceAggregationName(value: number): string | undefined {
  return BL_TRACE_AGGREGATION_NAMES.get(value);
}

/** enum bl_trace_point. */
export const BlTracePoint = {
  BL_TRACE_TO_LXC: 0,
  BL_TRACE_TO_PROXY: 1,
  BL_TRACE_TO_HOST: 2,
  BL_TRACE_TO_STACK: 3,
  BL_TRACE_TO_OVERLAY: 4,
  BL_TRACE_FROM_LXC: 5,
  BL_TRACE_FROM_PROXY: 6,
  BL_TRACE_FROM_HOST: 7,
  BL_TRACE_FROM_STACK: 8,
  BL_TRACE_FROM_OVERLAY: 9,
  BL_TRACE_FROM_NETWORK: 10,
  BL_TRACE_TO_NETWORK: 11,
  BL_TRACE_FROM_CRYPTO: 12,
  BL_TRACE_TO_CRYPTO: 13,
} as const;
export type BlTracePoint = (typeof BlTracePoint)[keyof typeof BlTracePoint];
const BL_TRACE_POINT_NAMES = nameTable(BlTracePoint);
/** The name of a value of enum bl_trace_point (the first, if several share it). */
export function blTracePointName(value: number): string | undefined {
  return BL_TRACE_POINT_NAMES.get(value);
}

/** enum bl_trace_reason. */
export const BlTraceReason = {
  BL_TRACE_REASON_POLICY: 0,
  BL_TRACE_REASON_CT_ESTABLISHED: 1,
  BL_TRACE_REASON_CT_REPLY: 2,
  BL_TRACE_REASON_CT_RELATED: 3,
  BL_TRACE_REASON_UNKNOWN: 5,
} as const;
export type BlTraceReason = (typeof BlTraceReason)[keyof typeof BlTraceReason];
const BL_TRACE_REASON_NAMES = nameTable(BlTraceReason);
/** The name of a value of enum bl_trace_reason (the first, if several share it). */
export function blTraceReasonName(value: number): string | undefined {
  return BL_TRACE_REASON_NAMES.get(value);
}

// ---- structs

/** struct bl_ct4_key (16 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlCt4Key {
  /** __be32 at 0, network byte order */
  daddr: number;
  /** __be32 at 4, network byte order */
  saddr: number;
  /** __be16 at 8, network byte order */
  dport: number;
  /** __be16 at 10, network byte order */
  sport: number;
  /** __u8 at 12 */
  nexthdr: number;
  /** __u8 at 13 */
  flags: number;
}

/** sizeof(struct bl_ct4_key) */
export const BL_CT4_KEY_SIZE = 16;

/** Byte layout of struct bl_ct4_key. */
export const BL_CT4_KEY_LAYOUT: readonly FieldLayout[] = [
  { name: 'daddr', offset: 0, size: 4, type: '__be32', padding: false },
  { name: 'saddr', offset: 4, size: 4, type: '__be32', padding: false },
  { name: 'dport', offset: 8, size: 2, type: '__be16', padding: false },
  { name: 'sport', offset: 10, size: 2, type: '__be16', padding: false },
  { name: 'nexthdr', offset: 12, size: 1, type: '__u8', padding: false },
  { name: 'flags', offset: 13, size: 1, type: '__u8', padding: false },
  { name: 'pad0', offset: 14, size: 2, type: '__u16', padding: true },
];

/** Encodes struct bl_ct4_key into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlCt4Key(value: BlCt4Key, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 16, 'struct bl_ct4_key');
  b.writeUInt32BE(value.daddr, off);
  b.writeUInt32BE(value.saddr, off + 4);
  b.writeUInt16BE(value.dport, off + 8);
  b.writeUInt16BE(value.sport, off + 10);
  b.writeUInt8(value.nexthdr, off + 12);
  b.writeUInt8(value.flags, off + 13);
  return b;
}

/** Decodes struct bl_ct4_key from buf at off. */
export function decodeBlCt4Key(buf: Uint8Array, off = 0): BlCt4Key {
  const b = view(buf, off, 16, 'struct bl_ct4_key');
  return {
    daddr: b.readUInt32BE(off),
    saddr: b.readUInt32BE(off + 4),
    dport: b.readUInt16BE(off + 8),
    sport: b.readUInt16BE(off + 10),
    nexthdr: b.readUInt8(off + 12),
    flags: b.readUInt8(off + 13),
  };
}

/** Codec of struct bl_ct4_key. */
export const BL_CT4_KEY_CODEC: StructCodec<BlCt4Key> = {
  ctype: 'struct bl_ct4_key',
  size: BL_CT4_KEY_SIZE,
  layout: BL_CT4_KEY_LAYOUT,
  encode: encodeBlCt4Key,
  decode: decodeBlCt4Key,
};

/** struct bl_ct_entry (56 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlCtEntry {
  /** __u32 at 0 */
  lifetime: number;
  /** __u8 at 4 */
  tx_flags_seen: number;
  /** __u8 at 5 */
  rx_flags_seen: number;
  /** __u16 at 6 */
  flags: number;
  /** __u64 at 8 */
  tx_packets: bigint;
  /** __u64 at 16 */
  tx_bytes: bigint;
  /** __u64 at 24 */
  rx_packets: bigint;
  /** __u64 at 32 */
  rx_bytes: bigint;
  /** __u32 at 40 */
  created: number;
  /** __u32 at 44 */
  last_report: number;
  /** __u32 at 48 */
  backend_id: number;
  /** __u16 at 52 */
  rev_nat_index: number;
}

/** sizeof(struct bl_ct_entry) */
export const BL_CT_ENTRY_SIZE = 56;

/** Byte layout of struct bl_ct_entry. */
export const BL_CT_ENTRY_LAYOUT: readonly FieldLayout[] = [
  { name: 'lifetime', offset: 0, size: 4, type: '__u32', padding: false },
  { name: 'tx_flags_seen', offset: 4, size: 1, type: '__u8', padding: false },
  { name: 'rx_flags_seen', offset: 5, size: 1, type: '__u8', padding: false },
  { name: 'flags', offset: 6, size: 2, type: '__u16', padding: false },
  { name: 'tx_packets', offset: 8, size: 8, type: '__u64', padding: false },
  { name: 'tx_bytes', offset: 16, size: 8, type: '__u64', padding: false },
  { name: 'rx_packets', offset: 24, size: 8, type: '__u64', padding: false },
  { name: 'rx_bytes', offset: 32, size: 8, type: '__u64', padding: false },
  { name: 'created', offset: 40, size: 4, type: '__u32', padding: false },
  { name: 'last_report', offset: 44, size: 4, type: '__u32', padding: false },
  { name: 'backend_id', offset: 48, size: 4, type: '__u32', padding: false },
  { name: 'rev_nat_index', offset: 52, size: 2, type: '__u16', padding: false },
  { name: 'pad0', offset: 54, size: 2, type: '__u16', padding: true },
];

/** Encodes struct bl_ct_entry into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlCtEntry(value: BlCtEntry, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 56, 'struct bl_ct_entry');
  b.writeUInt32LE(value.lifetime, off);
  b.writeUInt8(value.tx_flags_seen, off + 4);
  b.writeUInt8(value.rx_flags_seen, off + 5);
  b.writeUInt16LE(value.flags, off + 6);
  b.writeBigUInt64LE(value.tx_packets, off + 8);
  b.writeBigUInt64LE(value.tx_bytes, off + 16);
  b.writeBigUInt64LE(value.rx_packets, off + 24);
  b.writeBigUInt64LE(value.rx_bytes, off + 32);
  b.writeUInt32LE(value.created, off + 40);
  b.writeUInt32LE(value.last_report, off + 44);
  b.writeUInt32LE(value.backend_id, off + 48);
  b.writeUInt16LE(value.rev_nat_index, off + 52);
  return b;
}

/** Decodes struct bl_ct_entry from buf at off. */
export function decodeBlCtEntry(buf: Uint8Array, off = 0): BlCtEntry {
  const b = view(buf, off, 56, 'struct bl_ct_entry');
  return {
    lifetime: b.readUInt32LE(off),
    tx_flags_seen: b.readUInt8(off + 4),
    rx_flags_seen: b.readUInt8(off + 5),
    flags: b.readUInt16LE(off + 6),
    tx_packets: b.readBigUInt64LE(off + 8),
    tx_bytes: b.readBigUInt64LE(off + 16),
    rx_packets: b.readBigUInt64LE(off + 24),
    rx_bytes: b.readBigUInt64LE(off + 32),
    created: b.readUInt32LE(off + 40),
    last_report: b.readUInt32LE(off + 44),
    backend_id: b.readUInt32LE(off + 48),
    rev_nat_index: b.readUInt16LE(off + 52),
  };
}

/** Codec of struct bl_ct_entry. */
export const BL_CT_ENTRY_CODEC: StructCodec<BlCtEntry> = {
  ctype: 'struct bl_ct_entry',
  size: BL_CT_ENTRY_SIZE,
  layout: BL_CT_ENTRY_LAYOUT,
  encode: encodeBlCtEntry,
  decode: decodeBlCtEntry,
};

/** struct bl_datapath_config (40 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlDatapathConfig {
  /** __u32 at 0 */
  node_id: number;
  /** __u32 at 4 */
  flags: number;
  /** __u16 at 8 */
  host_endpoint_id: number;
  /** __u16 at 10 */
  trace_capture_len: number;
  /** __u8 at 12 */
  trace_aggregation: number;
  /** __u8 at 13 */
  routing_mode: number;
  /** __u8 at 14 */
  pod_cidr4_prefixlen: number;
  /** __be32 at 16, network byte order */
  node_ip4: number;
  /** __be32 at 20, network byte order */
  router_ip4: number;
  /** __be32 at 24, network byte order */
  pod_cidr4: number;
  /** __u32 at 28 */
  tunnel_ifindex: number;
  /** __u32 at 32 */
  tunnel_vni: number;
  /** __u16 at 36 */
  mtls_out_port: number;
}

/** sizeof(struct bl_datapath_config) */
export const BL_DATAPATH_CONFIG_SIZE = 40;

/** Byte layout of struct bl_datapath_config. */
export const BL_DATAPATH_CONFIG_LAYOUT: readonly FieldLayout[] = [
  { name: 'node_id', offset: 0, size: 4, type: '__u32', padding: false },
  { name: 'flags', offset: 4, size: 4, type: '__u32', padding: false },
  { name: 'host_endpoint_id', offset: 8, size: 2, type: '__u16', padding: false },
  { name: 'trace_capture_len', offset: 10, size: 2, type: '__u16', padding: false },
  { name: 'trace_aggregation', offset: 12, size: 1, type: '__u8', padding: false },
  { name: 'routing_mode', offset: 13, size: 1, type: '__u8', padding: false },
  { name: 'pod_cidr4_prefixlen', offset: 14, size: 1, type: '__u8', padding: false },
  { name: 'pad0', offset: 15, size: 1, type: '__u8', padding: true },
  { name: 'node_ip4', offset: 16, size: 4, type: '__be32', padding: false },
  { name: 'router_ip4', offset: 20, size: 4, type: '__be32', padding: false },
  { name: 'pod_cidr4', offset: 24, size: 4, type: '__be32', padding: false },
  { name: 'tunnel_ifindex', offset: 28, size: 4, type: '__u32', padding: false },
  { name: 'tunnel_vni', offset: 32, size: 4, type: '__u32', padding: false },
  { name: 'mtls_out_port', offset: 36, size: 2, type: '__u16', padding: false },
  { name: 'pad1', offset: 38, size: 2, type: '__u16', padding: true },
];

/** Encodes struct bl_datapath_config into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlDatapathConfig(value: BlDatapathConfig, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 40, 'struct bl_datapath_config');
  b.writeUInt32LE(value.node_id, off);
  b.writeUInt32LE(value.flags, off + 4);
  b.writeUInt16LE(value.host_endpoint_id, off + 8);
  b.writeUInt16LE(value.trace_capture_len, off + 10);
  b.writeUInt8(value.trace_aggregation, off + 12);
  b.writeUInt8(value.routing_mode, off + 13);
  b.writeUInt8(value.pod_cidr4_prefixlen, off + 14);
  b.writeUInt32BE(value.node_ip4, off + 16);
  b.writeUInt32BE(value.router_ip4, off + 20);
  b.writeUInt32BE(value.pod_cidr4, off + 24);
  b.writeUInt32LE(value.tunnel_ifindex, off + 28);
  b.writeUInt32LE(value.tunnel_vni, off + 32);
  b.writeUInt16LE(value.mtls_out_port, off + 36);
  return b;
}

/** Decodes struct bl_datapath_config from buf at off. */
export function decodeBlDatapathConfig(buf: Uint8Array, off = 0): BlDatapathConfig {
  const b = view(buf, off, 40, 'struct bl_datapath_config');
  return {
    node_id: b.readUInt32LE(off),
    flags: b.readUInt32LE(off + 4),
    host_endpoint_id: b.readUInt16LE(off + 8),
    trace_capture_len: b.readUInt16LE(off + 10),
    trace_aggregation: b.readUInt8(off + 12),
    routing_mode: b.readUInt8(off + 13),
    pod_cidr4_prefixlen: b.readUInt8(off + 14),
    node_ip4: b.readUInt32BE(off + 16),
    router_ip4: b.readUInt32BE(off + 20),
    pod_cidr4: b.readUInt32BE(off + 24),
    tunnel_ifindex: b.readUInt32LE(off + 28),
    tunnel_vni: b.readUInt32LE(off + 32),
    mtls_out_port: b.readUInt16LE(off + 36),
  };
}

/** Codec of struct bl_datapath_config. */
export const BL_DATAPATH_CONFIG_CODEC: StructCodec<BlDatapathConfig> = {
  ctype: 'struct bl_datapath_config',
  size: BL_DATAPATH_CONFIG_SIZE,
  layout: BL_DATAPATH_CONFIG_LAYOUT,
  encode: encodeBlDatapathConfig,
  decode: decodeBlDatapathConfig,
};

/** struct bl_drop_notify (176 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlDropNotify {
  /** struct bl_notify_hdr at 0 */
  hdr: BlNotifyHdr;
  /** __u16 at 40 */
  line: number;
  /** __u8 at 42 */
  file: number;
  /** __s8 at 43 */
  ext_error: number;
  /** __u32 at 44 */
  cookie: number;
  /** __u8[128] at 48 */
  data: Uint8Array;
}

/** sizeof(struct bl_drop_notify) */
export const BL_DROP_NOTIFY_SIZE = 176;

/** Byte layout of struct bl_drop_notify. */
export const BL_DROP_NOTIFY_LAYOUT: readonly FieldLayout[] = [
  { name: 'hdr', offset: 0, size: 40, type: 'struct bl_notify_hdr', padding: false },
  { name: 'line', offset: 40, size: 2, type: '__u16', padding: false },
  { name: 'file', offset: 42, size: 1, type: '__u8', padding: false },
  { name: 'ext_error', offset: 43, size: 1, type: '__s8', padding: false },
  { name: 'cookie', offset: 44, size: 4, type: '__u32', padding: false },
  { name: 'data', offset: 48, size: 128, type: '__u8[128]', padding: false },
];

/** Encodes struct bl_drop_notify into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlDropNotify(value: BlDropNotify, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 176, 'struct bl_drop_notify');
  encodeBlNotifyHdr(value.hdr, b, off);
  b.writeUInt16LE(value.line, off + 40);
  b.writeUInt8(value.file, off + 42);
  b.writeInt8(value.ext_error, off + 43);
  b.writeUInt32LE(value.cookie, off + 44);
  putBytes(b, off + 48, 128, value.data, 'bl_drop_notify.data');
  return b;
}

/** Decodes struct bl_drop_notify from buf at off. */
export function decodeBlDropNotify(buf: Uint8Array, off = 0): BlDropNotify {
  const b = view(buf, off, 176, 'struct bl_drop_notify');
  return {
    hdr: decodeBlNotifyHdr(b, off),
    line: b.readUInt16LE(off + 40),
    file: b.readUInt8(off + 42),
    ext_error: b.readInt8(off + 43),
    cookie: b.readUInt32LE(off + 44),
    data: getBytes(b, off + 48, 128),
  };
}

/** Codec of struct bl_drop_notify. */
export const BL_DROP_NOTIFY_CODEC: StructCodec<BlDropNotify> = {
  ctype: 'struct bl_drop_notify',
  size: BL_DROP_NOTIFY_SIZE,
  layout: BL_DROP_NOTIFY_LAYOUT,
  encode: encodeBlDropNotify,
  decode: decodeBlDropNotify,
};

/** struct bl_endpoint_info (24 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlEndpointInfo {
  /** __u32 at 0 */
  ifindex: number;
  /** __u16 at 4 */
  ep_id: number;
  /** __u16 at 6 */
  flags: number;
  /** __u8[6] at 8 */
  mac: Uint8Array;
  /** __u8[6] at 14 */
  node_mac: Uint8Array;
  /** __u32 at 20 */
  sec_identity: number;
}

/** sizeof(struct bl_endpoint_info) */
export const BL_ENDPOINT_INFO_SIZE = 24;

/** Byte layout of struct bl_endpoint_info. */
export const BL_ENDPOINT_INFO_LAYOUT: readonly FieldLayout[] = [
  { name: 'ifindex', offset: 0, size: 4, type: '__u32', padding: false },
  { name: 'ep_id', offset: 4, size: 2, type: '__u16', padding: false },
  { name: 'flags', offset: 6, size: 2, type: '__u16', padding: false },
  { name: 'mac', offset: 8, size: 6, type: '__u8[6]', padding: false },
  { name: 'node_mac', offset: 14, size: 6, type: '__u8[6]', padding: false },
  { name: 'sec_identity', offset: 20, size: 4, type: '__u32', padding: false },
];

/** Encodes struct bl_endpoint_info into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlEndpointInfo(value: BlEndpointInfo, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 24, 'struct bl_endpoint_info');
  b.writeUInt32LE(value.ifindex, off);
  b.writeUInt16LE(value.ep_id, off + 4);
  b.writeUInt16LE(value.flags, off + 6);
  putBytes(b, off + 8, 6, value.mac, 'bl_endpoint_info.mac');
  putBytes(b, off + 14, 6, value.node_mac, 'bl_endpoint_info.node_mac');
  b.writeUInt32LE(value.sec_identity, off + 20);
  return b;
}

/** Decodes struct bl_endpoint_info from buf at off. */
export function decodeBlEndpointInfo(buf: Uint8Array, off = 0): BlEndpointInfo {
  const b = view(buf, off, 24, 'struct bl_endpoint_info');
  return {
    ifindex: b.readUInt32LE(off),
    ep_id: b.readUInt16LE(off + 4),
    flags: b.readUInt16LE(off + 6),
    mac: getBytes(b, off + 8, 6),
    node_mac: getBytes(b, off + 14, 6),
    sec_identity: b.readUInt32LE(off + 20),
  };
}

/** Codec of struct bl_endpoint_info. */
export const BL_ENDPOINT_INFO_CODEC: StructCodec<BlEndpointInfo> = {
  ctype: 'struct bl_endpoint_info',
  size: BL_ENDPOINT_INFO_SIZE,
  layout: BL_ENDPOINT_INFO_LAYOUT,
  encode: encodeBlEndpointInfo,
  decode: decodeBlEndpointInfo,
};

/** struct bl_endpoint_key (8 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlEndpointKey {
  /** __be32 at 0, network byte order */
  ip4: number;
}

/** sizeof(struct bl_endpoint_key) */
export const BL_ENDPOINT_KEY_SIZE = 8;

/** Byte layout of struct bl_endpoint_key. */
export const BL_ENDPOINT_KEY_LAYOUT: readonly FieldLayout[] = [
  { name: 'ip4', offset: 0, size: 4, type: '__be32', padding: false },
  { name: 'pad0', offset: 4, size: 4, type: '__u32', padding: true },
];

/** Encodes struct bl_endpoint_key into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlEndpointKey(value: BlEndpointKey, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 8, 'struct bl_endpoint_key');
  b.writeUInt32BE(value.ip4, off);
  return b;
}

/** Decodes struct bl_endpoint_key from buf at off. */
export function decodeBlEndpointKey(buf: Uint8Array, off = 0): BlEndpointKey {
  const b = view(buf, off, 8, 'struct bl_endpoint_key');
  return {
    ip4: b.readUInt32BE(off),
  };
}

/** Codec of struct bl_endpoint_key. */
export const BL_ENDPOINT_KEY_CODEC: StructCodec<BlEndpointKey> = {
  ctype: 'struct bl_endpoint_key',
  size: BL_ENDPOINT_KEY_SIZE,
  layout: BL_ENDPOINT_KEY_LAYOUT,
  encode: encodeBlEndpointKey,
  decode: decodeBlEndpointKey,
};

/** struct bl_ipcache_key (8 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlIpcacheKey {
  /** __u32 at 0 */
  prefixlen: number;
  /** __be32 at 4, network byte order */
  ip4: number;
}

/** sizeof(struct bl_ipcache_key) */
export const BL_IPCACHE_KEY_SIZE = 8;

/** Byte layout of struct bl_ipcache_key. */
export const BL_IPCACHE_KEY_LAYOUT: readonly FieldLayout[] = [
  { name: 'prefixlen', offset: 0, size: 4, type: '__u32', padding: false },
  { name: 'ip4', offset: 4, size: 4, type: '__be32', padding: false },
];

/** Encodes struct bl_ipcache_key into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlIpcacheKey(value: BlIpcacheKey, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 8, 'struct bl_ipcache_key');
  b.writeUInt32LE(value.prefixlen, off);
  b.writeUInt32BE(value.ip4, off + 4);
  return b;
}

/** Decodes struct bl_ipcache_key from buf at off. */
export function decodeBlIpcacheKey(buf: Uint8Array, off = 0): BlIpcacheKey {
  const b = view(buf, off, 8, 'struct bl_ipcache_key');
  return {
    prefixlen: b.readUInt32LE(off),
    ip4: b.readUInt32BE(off + 4),
  };
}

/** Codec of struct bl_ipcache_key. */
export const BL_IPCACHE_KEY_CODEC: StructCodec<BlIpcacheKey> = {
  ctype: 'struct bl_ipcache_key',
  size: BL_IPCACHE_KEY_SIZE,
  layout: BL_IPCACHE_KEY_LAYOUT,
  encode: encodeBlIpcacheKey,
  decode: decodeBlIpcacheKey,
};

/** struct bl_lb4_affinity (16 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlLb4Affinity {
  /** __u64 at 0 */
  last_used: bigint;
  /** __u32 at 8 */
  backend_id: number;
}

/** sizeof(struct bl_lb4_affinity) */
export const BL_LB4_AFFINITY_SIZE = 16;

/** Byte layout of struct bl_lb4_affinity. */
export const BL_LB4_AFFINITY_LAYOUT: readonly FieldLayout[] = [
  { name: 'last_used', offset: 0, size: 8, type: '__u64', padding: false },
  { name: 'backend_id', offset: 8, size: 4, type: '__u32', padding: false },
  { name: 'pad0', offset: 12, size: 4, type: '__u32', padding: true },
];

/** Encodes struct bl_lb4_affinity into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlLb4Affinity(value: BlLb4Affinity, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 16, 'struct bl_lb4_affinity');
  b.writeBigUInt64LE(value.last_used, off);
  b.writeUInt32LE(value.backend_id, off + 8);
  return b;
}

/** Decodes struct bl_lb4_affinity from buf at off. */
export function decodeBlLb4Affinity(buf: Uint8Array, off = 0): BlLb4Affinity {
  const b = view(buf, off, 16, 'struct bl_lb4_affinity');
  return {
    last_used: b.readBigUInt64LE(off),
    backend_id: b.readUInt32LE(off + 8),
  };
}

/** Codec of struct bl_lb4_affinity. */
export const BL_LB4_AFFINITY_CODEC: StructCodec<BlLb4Affinity> = {
  ctype: 'struct bl_lb4_affinity',
  size: BL_LB4_AFFINITY_SIZE,
  layout: BL_LB4_AFFINITY_LAYOUT,
  encode: encodeBlLb4Affinity,
  decode: decodeBlLb4Affinity,
};

/** struct bl_lb4_affinity_key (16 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlLb4AffinityKey {
  /** __u64 at 0 */
  client_id: bigint;
  /** __u16 at 8 */
  rev_nat_index: number;
}

/** sizeof(struct bl_lb4_affinity_key) */
export const BL_LB4_AFFINITY_KEY_SIZE = 16;

/** Byte layout of struct bl_lb4_affinity_key. */
export const BL_LB4_AFFINITY_KEY_LAYOUT: readonly FieldLayout[] = [
  { name: 'client_id', offset: 0, size: 8, type: '__u64', padding: false },
  { name: 'rev_nat_index', offset: 8, size: 2, type: '__u16', padding: false },
  { name: 'pad0', offset: 10, size: 2, type: '__u16', padding: true },
  { name: 'pad1', offset: 12, size: 4, type: '__u32', padding: true },
];

/** Encodes struct bl_lb4_affinity_key into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlLb4AffinityKey(value: BlLb4AffinityKey, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 16, 'struct bl_lb4_affinity_key');
  b.writeBigUInt64LE(value.client_id, off);
  b.writeUInt16LE(value.rev_nat_index, off + 8);
  return b;
}

/** Decodes struct bl_lb4_affinity_key from buf at off. */
export function decodeBlLb4AffinityKey(buf: Uint8Array, off = 0): BlLb4AffinityKey {
  const b = view(buf, off, 16, 'struct bl_lb4_affinity_key');
  return {
    client_id: b.readBigUInt64LE(off),
    rev_nat_index: b.readUInt16LE(off + 8),
  };
}

/** Codec of struct bl_lb4_affinity_key. */
export const BL_LB4_AFFINITY_KEY_CODEC: StructCodec<BlLb4AffinityKey> = {
  ctype: 'struct bl_lb4_affinity_key',
  size: BL_LB4_AFFINITY_KEY_SIZE,
  layout: BL_LB4_AFFINITY_KEY_LAYOUT,
  encode: encodeBlLb4AffinityKey,
  decode: decodeBlLb4AffinityKey,
};

/** struct bl_lb4_backend (8 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlLb4Backend {
  /** __be32 at 0, network byte order */
  address: number;
  /** __be16 at 4, network byte order */
  port: number;
  /** __u8 at 6 */
  proto: number;
  /** __u8 at 7 */
  flags: number;
}

/** sizeof(struct bl_lb4_backend) */
export const BL_LB4_BACKEND_SIZE = 8;

/** Byte layout of struct bl_lb4_backend. */
export const BL_LB4_BACKEND_LAYOUT: readonly FieldLayout[] = [
  { name: 'address', offset: 0, size: 4, type: '__be32', padding: false },
  { name: 'port', offset: 4, size: 2, type: '__be16', padding: false },
  { name: 'proto', offset: 6, size: 1, type: '__u8', padding: false },
  { name: 'flags', offset: 7, size: 1, type: '__u8', padding: false },
];

/** Encodes struct bl_lb4_backend into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlLb4Backend(value: BlLb4Backend, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 8, 'struct bl_lb4_backend');
  b.writeUInt32BE(value.address, off);
  b.writeUInt16BE(value.port, off + 4);
  b.writeUInt8(value.proto, off + 6);
  b.writeUInt8(value.flags, off + 7);
  return b;
}

/** Decodes struct bl_lb4_backend from buf at off. */
export function decodeBlLb4Backend(buf: Uint8Array, off = 0): BlLb4Backend {
  const b = view(buf, off, 8, 'struct bl_lb4_backend');
  return {
    address: b.readUInt32BE(off),
    port: b.readUInt16BE(off + 4),
    proto: b.readUInt8(off + 6),
    flags: b.readUInt8(off + 7),
  };
}

/** Codec of struct bl_lb4_backend. */
export const BL_LB4_BACKEND_CODEC: StructCodec<BlLb4Backend> = {
  ctype: 'struct bl_lb4_backend',
  size: BL_LB4_BACKEND_SIZE,
  layout: BL_LB4_BACKEND_LAYOUT,
  encode: encodeBlLb4Backend,
  decode: decodeBlLb4Backend,
};

/** struct bl_lb4_key (12 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlLb4Key {
  /** __be32 at 0, network byte order */
  address: number;
  /** __be16 at 4, network byte order */
  dport: number;
  /** __u16 at 6 */
  backend_slot: number;
  /** __u8 at 8 */
  proto: number;
}

/** sizeof(struct bl_lb4_key) */
export const BL_LB4_KEY_SIZE = 12;

/** Byte layout of struct bl_lb4_key. */
export const BL_LB4_KEY_LAYOUT: readonly FieldLayout[] = [
  { name: 'address', offset: 0, size: 4, type: '__be32', padding: false },
  { name: 'dport', offset: 4, size: 2, type: '__be16', padding: false },
  { name: 'backend_slot', offset: 6, size: 2, type: '__u16', padding: false },
  { name: 'proto', offset: 8, size: 1, type: '__u8', padding: false },
  { name: 'pad0', offset: 9, size: 3, type: '__u8[3]', padding: true },
];

/** Encodes struct bl_lb4_key into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlLb4Key(value: BlLb4Key, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 12, 'struct bl_lb4_key');
  b.writeUInt32BE(value.address, off);
  b.writeUInt16BE(value.dport, off + 4);
  b.writeUInt16LE(value.backend_slot, off + 6);
  b.writeUInt8(value.proto, off + 8);
  return b;
}

/** Decodes struct bl_lb4_key from buf at off. */
export function decodeBlLb4Key(buf: Uint8Array, off = 0): BlLb4Key {
  const b = view(buf, off, 12, 'struct bl_lb4_key');
  return {
    address: b.readUInt32BE(off),
    dport: b.readUInt16BE(off + 4),
    backend_slot: b.readUInt16LE(off + 6),
    proto: b.readUInt8(off + 8),
  };
}

/** Codec of struct bl_lb4_key. */
export const BL_LB4_KEY_CODEC: StructCodec<BlLb4Key> = {
  ctype: 'struct bl_lb4_key',
  size: BL_LB4_KEY_SIZE,
  layout: BL_LB4_KEY_LAYOUT,
  encode: encodeBlLb4Key,
  decode: decodeBlLb4Key,
};

/** struct bl_lb4_maglev_key (8 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlLb4MaglevKey {
  /** __u16 at 0 */
  rev_nat_index: number;
  /** __u32 at 4 */
  slot: number;
}

/** sizeof(struct bl_lb4_maglev_key) */
export const BL_LB4_MAGLEV_KEY_SIZE = 8;

/** Byte layout of struct bl_lb4_maglev_key. */
export const BL_LB4_MAGLEV_KEY_LAYOUT: readonly FieldLayout[] = [
  { name: 'rev_nat_index', offset: 0, size: 2, type: '__u16', padding: false },
  { name: 'pad0', offset: 2, size: 2, type: '__u16', padding: true },
  { name: 'slot', offset: 4, size: 4, type: '__u32', padding: false },
];

/** Encodes struct bl_lb4_maglev_key into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlLb4MaglevKey(value: BlLb4MaglevKey, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 8, 'struct bl_lb4_maglev_key');
  b.writeUInt16LE(value.rev_nat_index, off);
  b.writeUInt32LE(value.slot, off + 4);
  return b;
}

/** Decodes struct bl_lb4_maglev_key from buf at off. */
export function decodeBlLb4MaglevKey(buf: Uint8Array, off = 0): BlLb4MaglevKey {
  const b = view(buf, off, 8, 'struct bl_lb4_maglev_key');
  return {
    rev_nat_index: b.readUInt16LE(off),
    slot: b.readUInt32LE(off + 4),
  };
}

/** Codec of struct bl_lb4_maglev_key. */
export const BL_LB4_MAGLEV_KEY_CODEC: StructCodec<BlLb4MaglevKey> = {
  ctype: 'struct bl_lb4_maglev_key',
  size: BL_LB4_MAGLEV_KEY_SIZE,
  layout: BL_LB4_MAGLEV_KEY_LAYOUT,
  encode: encodeBlLb4MaglevKey,
  decode: decodeBlLb4MaglevKey,
};

/** struct bl_lb4_nodeport_nat (8 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlLb4NodeportNat {
  /** __be32 at 0, network byte order */
  client: number;
  /** __be16 at 4, network byte order */
  client_port: number;
  /** __u16 at 6 */
  rev_nat_index: number;
}

/** sizeof(struct bl_lb4_nodeport_nat) */
export const BL_LB4_NODEPORT_NAT_SIZE = 8;

/** Byte layout of struct bl_lb4_nodeport_nat. */
export const BL_LB4_NODEPORT_NAT_LAYOUT: readonly FieldLayout[] = [
  { name: 'client', offset: 0, size: 4, type: '__be32', padding: false },
  { name: 'client_port', offset: 4, size: 2, type: '__be16', padding: false },
  { name: 'rev_nat_index', offset: 6, size: 2, type: '__u16', padding: false },
];

/** Encodes struct bl_lb4_nodeport_nat into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlLb4NodeportNat(value: BlLb4NodeportNat, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 8, 'struct bl_lb4_nodeport_nat');
  b.writeUInt32BE(value.client, off);
  b.writeUInt16BE(value.client_port, off + 4);
  b.writeUInt16LE(value.rev_nat_index, off + 6);
  return b;
}

/** Decodes struct bl_lb4_nodeport_nat from buf at off. */
export function decodeBlLb4NodeportNat(buf: Uint8Array, off = 0): BlLb4NodeportNat {
  const b = view(buf, off, 8, 'struct bl_lb4_nodeport_nat');
  return {
    client: b.readUInt32BE(off),
    client_port: b.readUInt16BE(off + 4),
    rev_nat_index: b.readUInt16LE(off + 6),
  };
}

/** Codec of struct bl_lb4_nodeport_nat. */
export const BL_LB4_NODEPORT_NAT_CODEC: StructCodec<BlLb4NodeportNat> = {
  ctype: 'struct bl_lb4_nodeport_nat',
  size: BL_LB4_NODEPORT_NAT_SIZE,
  layout: BL_LB4_NODEPORT_NAT_LAYOUT,
  encode: encodeBlLb4NodeportNat,
  decode: decodeBlLb4NodeportNat,
};

/** struct bl_lb4_nodeport_nat_key (12 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlLb4NodeportNatKey {
  /** __be32 at 0, network byte order */
  backend: number;
  /** __be16 at 4, network byte order */
  backend_port: number;
  /** __be16 at 6, network byte order */
  nat_port: number;
  /** __u8 at 8 */
  proto: number;
}

/** sizeof(struct bl_lb4_nodeport_nat_key) */
export const BL_LB4_NODEPORT_NAT_KEY_SIZE = 12;

/** Byte layout of struct bl_lb4_nodeport_nat_key. */
export const BL_LB4_NODEPORT_NAT_KEY_LAYOUT: readonly FieldLayout[] = [
  { name: 'backend', offset: 0, size: 4, type: '__be32', padding: false },
  { name: 'backend_port', offset: 4, size: 2, type: '__be16', padding: false },
  { name: 'nat_port', offset: 6, size: 2, type: '__be16', padding: false },
  { name: 'proto', offset: 8, size: 1, type: '__u8', padding: false },
  { name: 'pad0', offset: 9, size: 3, type: '__u8[3]', padding: true },
];

/** Encodes struct bl_lb4_nodeport_nat_key into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlLb4NodeportNatKey(value: BlLb4NodeportNatKey, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 12, 'struct bl_lb4_nodeport_nat_key');
  b.writeUInt32BE(value.backend, off);
  b.writeUInt16BE(value.backend_port, off + 4);
  b.writeUInt16BE(value.nat_port, off + 6);
  b.writeUInt8(value.proto, off + 8);
  return b;
}

/** Decodes struct bl_lb4_nodeport_nat_key from buf at off. */
export function decodeBlLb4NodeportNatKey(buf: Uint8Array, off = 0): BlLb4NodeportNatKey {
  const b = view(buf, off, 12, 'struct bl_lb4_nodeport_nat_key');
  return {
    backend: b.readUInt32BE(off),
    backend_port: b.readUInt16BE(off + 4),
    nat_port: b.readUInt16BE(off + 6),
    proto: b.readUInt8(off + 8),
  };
}

/** Codec of struct bl_lb4_nodeport_nat_key. */
export const BL_LB4_NODEPORT_NAT_KEY_CODEC: StructCodec<BlLb4NodeportNatKey> = {
  ctype: 'struct bl_lb4_nodeport_nat_key',
  size: BL_LB4_NODEPORT_NAT_KEY_SIZE,
  layout: BL_LB4_NODEPORT_NAT_KEY_LAYOUT,
  encode: encodeBlLb4NodeportNatKey,
  decode: decodeBlLb4NodeportNatKey,
};

/** struct bl_lb4_nodeport_snat (4 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlLb4NodeportSnat {
  /** __be16 at 0, network byte order */
  nat_port: number;
}

/** sizeof(struct bl_lb4_nodeport_snat) */
export const BL_LB4_NODEPORT_SNAT_SIZE = 4;

/** Byte layout of struct bl_lb4_nodeport_snat. */
export const BL_LB4_NODEPORT_SNAT_LAYOUT: readonly FieldLayout[] = [
  { name: 'nat_port', offset: 0, size: 2, type: '__be16', padding: false },
  { name: 'pad0', offset: 2, size: 2, type: '__u16', padding: true },
];

/** Encodes struct bl_lb4_nodeport_snat into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlLb4NodeportSnat(value: BlLb4NodeportSnat, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 4, 'struct bl_lb4_nodeport_snat');
  b.writeUInt16BE(value.nat_port, off);
  return b;
}

/** Decodes struct bl_lb4_nodeport_snat from buf at off. */
export function decodeBlLb4NodeportSnat(buf: Uint8Array, off = 0): BlLb4NodeportSnat {
  const b = view(buf, off, 4, 'struct bl_lb4_nodeport_snat');
  return {
    nat_port: b.readUInt16BE(off),
  };
}

/** Codec of struct bl_lb4_nodeport_snat. */
export const BL_LB4_NODEPORT_SNAT_CODEC: StructCodec<BlLb4NodeportSnat> = {
  ctype: 'struct bl_lb4_nodeport_snat',
  size: BL_LB4_NODEPORT_SNAT_SIZE,
  layout: BL_LB4_NODEPORT_SNAT_LAYOUT,
  encode: encodeBlLb4NodeportSnat,
  decode: decodeBlLb4NodeportSnat,
};

/** struct bl_lb4_nodeport_snat_key (16 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlLb4NodeportSnatKey {
  /** __be32 at 0, network byte order */
  client: number;
  /** __be32 at 4, network byte order */
  backend: number;
  /** __be16 at 8, network byte order */
  client_port: number;
  /** __be16 at 10, network byte order */
  backend_port: number;
  /** __u8 at 12 */
  proto: number;
}

/** sizeof(struct bl_lb4_nodeport_snat_key) */
export const BL_LB4_NODEPORT_SNAT_KEY_SIZE = 16;

/** Byte layout of struct bl_lb4_nodeport_snat_key. */
export const BL_LB4_NODEPORT_SNAT_KEY_LAYOUT: readonly FieldLayout[] = [
  { name: 'client', offset: 0, size: 4, type: '__be32', padding: false },
  { name: 'backend', offset: 4, size: 4, type: '__be32', padding: false },
  { name: 'client_port', offset: 8, size: 2, type: '__be16', padding: false },
  { name: 'backend_port', offset: 10, size: 2, type: '__be16', padding: false },
  { name: 'proto', offset: 12, size: 1, type: '__u8', padding: false },
  { name: 'pad0', offset: 13, size: 3, type: '__u8[3]', padding: true },
];

/** Encodes struct bl_lb4_nodeport_snat_key into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlLb4NodeportSnatKey(value: BlLb4NodeportSnatKey, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 16, 'struct bl_lb4_nodeport_snat_key');
  b.writeUInt32BE(value.client, off);
  b.writeUInt32BE(value.backend, off + 4);
  b.writeUInt16BE(value.client_port, off + 8);
  b.writeUInt16BE(value.backend_port, off + 10);
  b.writeUInt8(value.proto, off + 12);
  return b;
}

/** Decodes struct bl_lb4_nodeport_snat_key from buf at off. */
export function decodeBlLb4NodeportSnatKey(buf: Uint8Array, off = 0): BlLb4NodeportSnatKey {
  const b = view(buf, off, 16, 'struct bl_lb4_nodeport_snat_key');
  return {
    client: b.readUInt32BE(off),
    backend: b.readUInt32BE(off + 4),
    client_port: b.readUInt16BE(off + 8),
    backend_port: b.readUInt16BE(off + 10),
    proto: b.readUInt8(off + 12),
  };
}

/** Codec of struct bl_lb4_nodeport_snat_key. */
export const BL_LB4_NODEPORT_SNAT_KEY_CODEC: StructCodec<BlLb4NodeportSnatKey> = {
  ctype: 'struct bl_lb4_nodeport_snat_key',
  size: BL_LB4_NODEPORT_SNAT_KEY_SIZE,
  layout: BL_LB4_NODEPORT_SNAT_KEY_LAYOUT,
  encode: encodeBlLb4NodeportSnatKey,
  decode: decodeBlLb4NodeportSnatKey,
};

/** struct bl_lb4_reverse_nat (8 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlLb4ReverseNat {
  /** __be32 at 0, network byte order */
  address: number;
  /** __be16 at 4, network byte order */
  port: number;
}

/** sizeof(struct bl_lb4_reverse_nat) */
export const BL_LB4_REVERSE_NAT_SIZE = 8;

/** Byte layout of struct bl_lb4_reverse_nat. */
export const BL_LB4_REVERSE_NAT_LAYOUT: readonly FieldLayout[] = [
  { name: 'address', offset: 0, size: 4, type: '__be32', padding: false },
  { name: 'port', offset: 4, size: 2, type: '__be16', padding: false },
  { name: 'pad0', offset: 6, size: 2, type: '__u16', padding: true },
];

/** Encodes struct bl_lb4_reverse_nat into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlLb4ReverseNat(value: BlLb4ReverseNat, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 8, 'struct bl_lb4_reverse_nat');
  b.writeUInt32BE(value.address, off);
  b.writeUInt16BE(value.port, off + 4);
  return b;
}

/** Decodes struct bl_lb4_reverse_nat from buf at off. */
export function decodeBlLb4ReverseNat(buf: Uint8Array, off = 0): BlLb4ReverseNat {
  const b = view(buf, off, 8, 'struct bl_lb4_reverse_nat');
  return {
    address: b.readUInt32BE(off),
    port: b.readUInt16BE(off + 4),
  };
}

/** Codec of struct bl_lb4_reverse_nat. */
export const BL_LB4_REVERSE_NAT_CODEC: StructCodec<BlLb4ReverseNat> = {
  ctype: 'struct bl_lb4_reverse_nat',
  size: BL_LB4_REVERSE_NAT_SIZE,
  layout: BL_LB4_REVERSE_NAT_LAYOUT,
  encode: encodeBlLb4ReverseNat,
  decode: decodeBlLb4ReverseNat,
};

/** struct bl_lb4_reverse_sk (8 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlLb4ReverseSk {
  /** __be32 at 0, network byte order */
  address: number;
  /** __be16 at 4, network byte order */
  port: number;
  /** __u16 at 6 */
  rev_nat_index: number;
}

/** sizeof(struct bl_lb4_reverse_sk) */
export const BL_LB4_REVERSE_SK_SIZE = 8;

/** Byte layout of struct bl_lb4_reverse_sk. */
export const BL_LB4_REVERSE_SK_LAYOUT: readonly FieldLayout[] = [
  { name: 'address', offset: 0, size: 4, type: '__be32', padding: false },
  { name: 'port', offset: 4, size: 2, type: '__be16', padding: false },
  { name: 'rev_nat_index', offset: 6, size: 2, type: '__u16', padding: false },
];

/** Encodes struct bl_lb4_reverse_sk into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlLb4ReverseSk(value: BlLb4ReverseSk, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 8, 'struct bl_lb4_reverse_sk');
  b.writeUInt32BE(value.address, off);
  b.writeUInt16BE(value.port, off + 4);
  b.writeUInt16LE(value.rev_nat_index, off + 6);
  return b;
}

/** Decodes struct bl_lb4_reverse_sk from buf at off. */
export function decodeBlLb4ReverseSk(buf: Uint8Array, off = 0): BlLb4ReverseSk {
  const b = view(buf, off, 8, 'struct bl_lb4_reverse_sk');
  return {
    address: b.readUInt32BE(off),
    port: b.readUInt16BE(off + 4),
    rev_nat_index: b.readUInt16LE(off + 6),
  };
}

/** Codec of struct bl_lb4_reverse_sk. */
export const BL_LB4_REVERSE_SK_CODEC: StructCodec<BlLb4ReverseSk> = {
  ctype: 'struct bl_lb4_reverse_sk',
  size: BL_LB4_REVERSE_SK_SIZE,
  layout: BL_LB4_REVERSE_SK_LAYOUT,
  encode: encodeBlLb4ReverseSk,
  decode: decodeBlLb4ReverseSk,
};

/** struct bl_lb4_reverse_sk_key (16 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlLb4ReverseSkKey {
  /** __u64 at 0 */
  cookie: bigint;
  /** __be32 at 8, network byte order */
  address: number;
  /** __be16 at 12, network byte order */
  port: number;
}

/** sizeof(struct bl_lb4_reverse_sk_key) */
export const BL_LB4_REVERSE_SK_KEY_SIZE = 16;

/** Byte layout of struct bl_lb4_reverse_sk_key. */
export const BL_LB4_REVERSE_SK_KEY_LAYOUT: readonly FieldLayout[] = [
  { name: 'cookie', offset: 0, size: 8, type: '__u64', padding: false },
  { name: 'address', offset: 8, size: 4, type: '__be32', padding: false },
  { name: 'port', offset: 12, size: 2, type: '__be16', padding: false },
  { name: 'pad0', offset: 14, size: 2, type: '__u16', padding: true },
];

/** Encodes struct bl_lb4_reverse_sk_key into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlLb4ReverseSkKey(value: BlLb4ReverseSkKey, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 16, 'struct bl_lb4_reverse_sk_key');
  b.writeBigUInt64LE(value.cookie, off);
  b.writeUInt32BE(value.address, off + 8);
  b.writeUInt16BE(value.port, off + 12);
  return b;
}

/** Decodes struct bl_lb4_reverse_sk_key from buf at off. */
export function decodeBlLb4ReverseSkKey(buf: Uint8Array, off = 0): BlLb4ReverseSkKey {
  const b = view(buf, off, 16, 'struct bl_lb4_reverse_sk_key');
  return {
    cookie: b.readBigUInt64LE(off),
    address: b.readUInt32BE(off + 8),
    port: b.readUInt16BE(off + 12),
  };
}

/** Codec of struct bl_lb4_reverse_sk_key. */
export const BL_LB4_REVERSE_SK_KEY_CODEC: StructCodec<BlLb4ReverseSkKey> = {
  ctype: 'struct bl_lb4_reverse_sk_key',
  size: BL_LB4_REVERSE_SK_KEY_SIZE,
  layout: BL_LB4_REVERSE_SK_KEY_LAYOUT,
  encode: encodeBlLb4ReverseSkKey,
  decode: decodeBlLb4ReverseSkKey,
};

/** struct bl_lb4_service (16 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlLb4Service {
  /** __u32 at 0 */
  backend_id: number;
  /** __u16 at 4 */
  count: number;
  /** __u16 at 6 */
  qcount: number;
  /** __u16 at 8 */
  rev_nat_index: number;
  /** __u16 at 10 */
  flags: number;
  /** __u32 at 12 */
  affinity_timeout: number;
}

/** sizeof(struct bl_lb4_service) */
export const BL_LB4_SERVICE_SIZE = 16;

/** Byte layout of struct bl_lb4_service. */
export const BL_LB4_SERVICE_LAYOUT: readonly FieldLayout[] = [
  { name: 'backend_id', offset: 0, size: 4, type: '__u32', padding: false },
  { name: 'count', offset: 4, size: 2, type: '__u16', padding: false },
  { name: 'qcount', offset: 6, size: 2, type: '__u16', padding: false },
  { name: 'rev_nat_index', offset: 8, size: 2, type: '__u16', padding: false },
  { name: 'flags', offset: 10, size: 2, type: '__u16', padding: false },
  { name: 'affinity_timeout', offset: 12, size: 4, type: '__u32', padding: false },
];

/** Encodes struct bl_lb4_service into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlLb4Service(value: BlLb4Service, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 16, 'struct bl_lb4_service');
  b.writeUInt32LE(value.backend_id, off);
  b.writeUInt16LE(value.count, off + 4);
  b.writeUInt16LE(value.qcount, off + 6);
  b.writeUInt16LE(value.rev_nat_index, off + 8);
  b.writeUInt16LE(value.flags, off + 10);
  b.writeUInt32LE(value.affinity_timeout, off + 12);
  return b;
}

/** Decodes struct bl_lb4_service from buf at off. */
export function decodeBlLb4Service(buf: Uint8Array, off = 0): BlLb4Service {
  const b = view(buf, off, 16, 'struct bl_lb4_service');
  return {
    backend_id: b.readUInt32LE(off),
    count: b.readUInt16LE(off + 4),
    qcount: b.readUInt16LE(off + 6),
    rev_nat_index: b.readUInt16LE(off + 8),
    flags: b.readUInt16LE(off + 10),
    affinity_timeout: b.readUInt32LE(off + 12),
  };
}

/** Codec of struct bl_lb4_service. */
export const BL_LB4_SERVICE_CODEC: StructCodec<BlLb4Service> = {
  ctype: 'struct bl_lb4_service',
  size: BL_LB4_SERVICE_SIZE,
  layout: BL_LB4_SERVICE_LAYOUT,
  encode: encodeBlLb4Service,
  decode: decodeBlLb4Service,
};

/** struct bl_metrics_key (8 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlMetricsKey {
  /** __u8 at 0 */
  reason: number;
  /** __u8 at 1 */
  dir: number;
}

/** sizeof(struct bl_metrics_key) */
export const BL_METRICS_KEY_SIZE = 8;

/** Byte layout of struct bl_metrics_key. */
export const BL_METRICS_KEY_LAYOUT: readonly FieldLayout[] = [
  { name: 'reason', offset: 0, size: 1, type: '__u8', padding: false },
  { name: 'dir', offset: 1, size: 1, type: '__u8', padding: false },
  { name: 'pad0', offset: 2, size: 2, type: '__u16', padding: true },
  { name: 'pad1', offset: 4, size: 4, type: '__u32', padding: true },
];

/** Encodes struct bl_metrics_key into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlMetricsKey(value: BlMetricsKey, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 8, 'struct bl_metrics_key');
  b.writeUInt8(value.reason, off);
  b.writeUInt8(value.dir, off + 1);
  return b;
}

/** Decodes struct bl_metrics_key from buf at off. */
export function decodeBlMetricsKey(buf: Uint8Array, off = 0): BlMetricsKey {
  const b = view(buf, off, 8, 'struct bl_metrics_key');
  return {
    reason: b.readUInt8(off),
    dir: b.readUInt8(off + 1),
  };
}

/** Codec of struct bl_metrics_key. */
export const BL_METRICS_KEY_CODEC: StructCodec<BlMetricsKey> = {
  ctype: 'struct bl_metrics_key',
  size: BL_METRICS_KEY_SIZE,
  layout: BL_METRICS_KEY_LAYOUT,
  encode: encodeBlMetricsKey,
  decode: decodeBlMetricsKey,
};

/** struct bl_metrics_value (16 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlMetricsValue {
  /** __u64 at 0 */
  count: bigint;
  /** __u64 at 8 */
  bytes: bigint;
}

/** sizeof(struct bl_metrics_value) */
export const BL_METRICS_VALUE_SIZE = 16;

/** Byte layout of struct bl_metrics_value. */
export const BL_METRICS_VALUE_LAYOUT: readonly FieldLayout[] = [
  { name: 'count', offset: 0, size: 8, type: '__u64', padding: false },
  { name: 'bytes', offset: 8, size: 8, type: '__u64', padding: false },
];

/** Encodes struct bl_metrics_value into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlMetricsValue(value: BlMetricsValue, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 16, 'struct bl_metrics_value');
  b.writeBigUInt64LE(value.count, off);
  b.writeBigUInt64LE(value.bytes, off + 8);
  return b;
}

/** Decodes struct bl_metrics_value from buf at off. */
export function decodeBlMetricsValue(buf: Uint8Array, off = 0): BlMetricsValue {
  const b = view(buf, off, 16, 'struct bl_metrics_value');
  return {
    count: b.readBigUInt64LE(off),
    bytes: b.readBigUInt64LE(off + 8),
  };
}

/** Codec of struct bl_metrics_value. */
export const BL_METRICS_VALUE_CODEC: StructCodec<BlMetricsValue> = {
  ctype: 'struct bl_metrics_value',
  size: BL_METRICS_VALUE_SIZE,
  layout: BL_METRICS_VALUE_LAYOUT,
  encode: encodeBlMetricsValue,
  decode: decodeBlMetricsValue,
};

/** struct bl_notify_hdr (40 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlNotifyHdr {
  /** __u8 at 0 */
  type: number;
  /** __u8 at 1 */
  subtype: number;
  /** __u16 at 2 */
  source: number;
  /** __u32 at 4 */
  hash: number;
  /** __u32 at 8 */
  len_orig: number;
  /** __u16 at 12 */
  len_cap: number;
  /** __u8 at 14 */
  version: number;
  /** __u64 at 16 */
  ktime_ns: bigint;
  /** __u32 at 24 */
  ifindex: number;
  /** __u32 at 28 */
  src_identity: number;
  /** __u32 at 32 */
  dst_identity: number;
  /** __be16 at 36, network byte order */
  proto: number;
}

/** sizeof(struct bl_notify_hdr) */
export const BL_NOTIFY_HDR_SIZE = 40;

/** Byte layout of struct bl_notify_hdr. */
export const BL_NOTIFY_HDR_LAYOUT: readonly FieldLayout[] = [
  { name: 'type', offset: 0, size: 1, type: '__u8', padding: false },
  { name: 'subtype', offset: 1, size: 1, type: '__u8', padding: false },
  { name: 'source', offset: 2, size: 2, type: '__u16', padding: false },
  { name: 'hash', offset: 4, size: 4, type: '__u32', padding: false },
  { name: 'len_orig', offset: 8, size: 4, type: '__u32', padding: false },
  { name: 'len_cap', offset: 12, size: 2, type: '__u16', padding: false },
  { name: 'version', offset: 14, size: 1, type: '__u8', padding: false },
  { name: 'pad0', offset: 15, size: 1, type: '__u8', padding: true },
  { name: 'ktime_ns', offset: 16, size: 8, type: '__u64', padding: false },
  { name: 'ifindex', offset: 24, size: 4, type: '__u32', padding: false },
  { name: 'src_identity', offset: 28, size: 4, type: '__u32', padding: false },
  { name: 'dst_identity', offset: 32, size: 4, type: '__u32', padding: false },
  { name: 'proto', offset: 36, size: 2, type: '__be16', padding: false },
  { name: 'pad1', offset: 38, size: 2, type: '__u16', padding: true },
];

/** Encodes struct bl_notify_hdr into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlNotifyHdr(value: BlNotifyHdr, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 40, 'struct bl_notify_hdr');
  b.writeUInt8(value.type, off);
  b.writeUInt8(value.subtype, off + 1);
  b.writeUInt16LE(value.source, off + 2);
  b.writeUInt32LE(value.hash, off + 4);
  b.writeUInt32LE(value.len_orig, off + 8);
  b.writeUInt16LE(value.len_cap, off + 12);
  b.writeUInt8(value.version, off + 14);
  b.writeBigUInt64LE(value.ktime_ns, off + 16);
  b.writeUInt32LE(value.ifindex, off + 24);
  b.writeUInt32LE(value.src_identity, off + 28);
  b.writeUInt32LE(value.dst_identity, off + 32);
  b.writeUInt16BE(value.proto, off + 36);
  return b;
}

/** Decodes struct bl_notify_hdr from buf at off. */
export function decodeBlNotifyHdr(buf: Uint8Array, off = 0): BlNotifyHdr {
  const b = view(buf, off, 40, 'struct bl_notify_hdr');
  return {
    type: b.readUInt8(off),
    subtype: b.readUInt8(off + 1),
    source: b.readUInt16LE(off + 2),
    hash: b.readUInt32LE(off + 4),
    len_orig: b.readUInt32LE(off + 8),
    len_cap: b.readUInt16LE(off + 12),
    version: b.readUInt8(off + 14),
    ktime_ns: b.readBigUInt64LE(off + 16),
    ifindex: b.readUInt32LE(off + 24),
    src_identity: b.readUInt32LE(off + 28),
    dst_identity: b.readUInt32LE(off + 32),
    proto: b.readUInt16BE(off + 36),
  };
}

/** Codec of struct bl_notify_hdr. */
export const BL_NOTIFY_HDR_CODEC: StructCodec<BlNotifyHdr> = {
  ctype: 'struct bl_notify_hdr',
  size: BL_NOTIFY_HDR_SIZE,
  layout: BL_NOTIFY_HDR_LAYOUT,
  encode: encodeBlNotifyHdr,
  decode: decodeBlNotifyHdr,
};

/** struct bl_policy_entry (24 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlPolicyEntry {
  /** __u8 at 0 */
  verdict: number;
  /** __u8 at 1 */
  flags: number;
  /** __u16 at 2 */
  proxy_port: number;
  /** __u32 at 4 */
  cookie: number;
  /** __u64 at 8 */
  packets: bigint;
  /** __u64 at 16 */
  bytes: bigint;
}

/** sizeof(struct bl_policy_entry) */
export const BL_POLICY_ENTRY_SIZE = 24;

/** Byte layout of struct bl_policy_entry. */
export const BL_POLICY_ENTRY_LAYOUT: readonly FieldLayout[] = [
  { name: 'verdict', offset: 0, size: 1, type: '__u8', padding: false },
  { name: 'flags', offset: 1, size: 1, type: '__u8', padding: false },
  { name: 'proxy_port', offset: 2, size: 2, type: '__u16', padding: false },
  { name: 'cookie', offset: 4, size: 4, type: '__u32', padding: false },
  { name: 'packets', offset: 8, size: 8, type: '__u64', padding: false },
  { name: 'bytes', offset: 16, size: 8, type: '__u64', padding: false },
];

/** Encodes struct bl_policy_entry into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlPolicyEntry(value: BlPolicyEntry, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 24, 'struct bl_policy_entry');
  b.writeUInt8(value.verdict, off);
  b.writeUInt8(value.flags, off + 1);
  b.writeUInt16LE(value.proxy_port, off + 2);
  b.writeUInt32LE(value.cookie, off + 4);
  b.writeBigUInt64LE(value.packets, off + 8);
  b.writeBigUInt64LE(value.bytes, off + 16);
  return b;
}

/** Decodes struct bl_policy_entry from buf at off. */
export function decodeBlPolicyEntry(buf: Uint8Array, off = 0): BlPolicyEntry {
  const b = view(buf, off, 24, 'struct bl_policy_entry');
  return {
    verdict: b.readUInt8(off),
    flags: b.readUInt8(off + 1),
    proxy_port: b.readUInt16LE(off + 2),
    cookie: b.readUInt32LE(off + 4),
    packets: b.readBigUInt64LE(off + 8),
    bytes: b.readBigUInt64LE(off + 16),
  };
}

/** Codec of struct bl_policy_entry. */
export const BL_POLICY_ENTRY_CODEC: StructCodec<BlPolicyEntry> = {
  ctype: 'struct bl_policy_entry',
  size: BL_POLICY_ENTRY_SIZE,
  layout: BL_POLICY_ENTRY_LAYOUT,
  encode: encodeBlPolicyEntry,
  decode: decodeBlPolicyEntry,
};

/** struct bl_policy_key (20 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlPolicyKey {
  /** __u32 at 0 */
  prefixlen: number;
  /** __u16 at 4 */
  ep_id: number;
  /** __u8 at 6 */
  egress: number;
  /** __u32 at 8 */
  sec_identity: number;
  /** __u8 at 12 */
  protocol: number;
  /** __be16 at 14, network byte order */
  dport: number;
}

/** sizeof(struct bl_policy_key) */
export const BL_POLICY_KEY_SIZE = 20;

/** Byte layout of struct bl_policy_key. */
export const BL_POLICY_KEY_LAYOUT: readonly FieldLayout[] = [
  { name: 'prefixlen', offset: 0, size: 4, type: '__u32', padding: false },
  { name: 'ep_id', offset: 4, size: 2, type: '__u16', padding: false },
  { name: 'egress', offset: 6, size: 1, type: '__u8', padding: false },
  { name: 'pad0', offset: 7, size: 1, type: '__u8', padding: true },
  { name: 'sec_identity', offset: 8, size: 4, type: '__u32', padding: false },
  { name: 'protocol', offset: 12, size: 1, type: '__u8', padding: false },
  { name: 'pad1', offset: 13, size: 1, type: '__u8', padding: true },
  { name: 'dport', offset: 14, size: 2, type: '__be16', padding: false },
  { name: 'pad2', offset: 16, size: 4, type: '__u32', padding: true },
];

/** Encodes struct bl_policy_key into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlPolicyKey(value: BlPolicyKey, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 20, 'struct bl_policy_key');
  b.writeUInt32LE(value.prefixlen, off);
  b.writeUInt16LE(value.ep_id, off + 4);
  b.writeUInt8(value.egress, off + 6);
  b.writeUInt32LE(value.sec_identity, off + 8);
  b.writeUInt8(value.protocol, off + 12);
  b.writeUInt16BE(value.dport, off + 14);
  return b;
}

/** Decodes struct bl_policy_key from buf at off. */
export function decodeBlPolicyKey(buf: Uint8Array, off = 0): BlPolicyKey {
  const b = view(buf, off, 20, 'struct bl_policy_key');
  return {
    prefixlen: b.readUInt32LE(off),
    ep_id: b.readUInt16LE(off + 4),
    egress: b.readUInt8(off + 6),
    sec_identity: b.readUInt32LE(off + 8),
    protocol: b.readUInt8(off + 12),
    dport: b.readUInt16BE(off + 14),
  };
}

/** Codec of struct bl_policy_key. */
export const BL_POLICY_KEY_CODEC: StructCodec<BlPolicyKey> = {
  ctype: 'struct bl_policy_key',
  size: BL_POLICY_KEY_SIZE,
  layout: BL_POLICY_KEY_LAYOUT,
  encode: encodeBlPolicyKey,
  decode: decodeBlPolicyKey,
};

/** struct bl_policy_verdict_notify (192 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlPolicyVerdictNotify {
  /** struct bl_notify_hdr at 0 */
  hdr: BlNotifyHdr;
  /** __u32 at 40 */
  remote_identity: number;
  /** __s32 at 44 */
  verdict: number;
  /** __u32 at 48 */
  cookie: number;
  /** __be16 at 52, network byte order */
  dport: number;
  /** __u8 at 54 */
  proto: number;
  /** __u8 at 55 */
  dir: number;
  /** __u8 at 56 */
  action: number;
  /** __u8 at 57 */
  match_type: number;
  /** __u16 at 58 */
  dst_id: number;
  /** __u8[128] at 64 */
  data: Uint8Array;
}

/** sizeof(struct bl_policy_verdict_notify) */
export const BL_POLICY_VERDICT_NOTIFY_SIZE = 192;

/** Byte layout of struct bl_policy_verdict_notify. */
export const BL_POLICY_VERDICT_NOTIFY_LAYOUT: readonly FieldLayout[] = [
  { name: 'hdr', offset: 0, size: 40, type: 'struct bl_notify_hdr', padding: false },
  { name: 'remote_identity', offset: 40, size: 4, type: '__u32', padding: false },
  { name: 'verdict', offset: 44, size: 4, type: '__s32', padding: false },
  { name: 'cookie', offset: 48, size: 4, type: '__u32', padding: false },
  { name: 'dport', offset: 52, size: 2, type: '__be16', padding: false },
  { name: 'proto', offset: 54, size: 1, type: '__u8', padding: false },
  { name: 'dir', offset: 55, size: 1, type: '__u8', padding: false },
  { name: 'action', offset: 56, size: 1, type: '__u8', padding: false },
  { name: 'match_type', offset: 57, size: 1, type: '__u8', padding: false },
  { name: 'dst_id', offset: 58, size: 2, type: '__u16', padding: false },
  { name: 'pad0', offset: 60, size: 4, type: '__u32', padding: true },
  { name: 'data', offset: 64, size: 128, type: '__u8[128]', padding: false },
];

/** Encodes struct bl_policy_verdict_notify into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlPolicyVerdictNotify(value: BlPolicyVerdictNotify, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 192, 'struct bl_policy_verdict_notify');
  encodeBlNotifyHdr(value.hdr, b, off);
  b.writeUInt32LE(value.remote_identity, off + 40);
  b.writeInt32LE(value.verdict, off + 44);
  b.writeUInt32LE(value.cookie, off + 48);
  b.writeUInt16BE(value.dport, off + 52);
  b.writeUInt8(value.proto, off + 54);
  b.writeUInt8(value.dir, off + 55);
  b.writeUInt8(value.action, off + 56);
  b.writeUInt8(value.match_type, off + 57);
  b.writeUInt16LE(value.dst_id, off + 58);
  putBytes(b, off + 64, 128, value.data, 'bl_policy_verdict_notify.data');
  return b;
}

/** Decodes struct bl_policy_verdict_notify from buf at off. */
export function decodeBlPolicyVerdictNotify(buf: Uint8Array, off = 0): BlPolicyVerdictNotify {
  const b = view(buf, off, 192, 'struct bl_policy_verdict_notify');
  return {
    hdr: decodeBlNotifyHdr(b, off),
    remote_identity: b.readUInt32LE(off + 40),
    verdict: b.readInt32LE(off + 44),
    cookie: b.readUInt32LE(off + 48),
    dport: b.readUInt16BE(off + 52),
    proto: b.readUInt8(off + 54),
    dir: b.readUInt8(off + 55),
    action: b.readUInt8(off + 56),
    match_type: b.readUInt8(off + 57),
    dst_id: b.readUInt16LE(off + 58),
    data: getBytes(b, off + 64, 128),
  };
}

/** Codec of struct bl_policy_verdict_notify. */
export const BL_POLICY_VERDICT_NOTIFY_CODEC: StructCodec<BlPolicyVerdictNotify> = {
  ctype: 'struct bl_policy_verdict_notify',
  size: BL_POLICY_VERDICT_NOTIFY_SIZE,
  layout: BL_POLICY_VERDICT_NOTIFY_LAYOUT,
  encode: encodeBlPolicyVerdictNotify,
  decode: decodeBlPolicyVerdictNotify,
};

/** struct bl_remote_endpoint_info (12 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlRemoteEndpointInfo {
  /** __u32 at 0 */
  sec_identity: number;
  /** __be32 at 4, network byte order */
  tunnel_endpoint: number;
  /** __u16 at 8 */
  node_id: number;
  /** __u8 at 10 */
  flags: number;
}

/** sizeof(struct bl_remote_endpoint_info) */
export const BL_REMOTE_ENDPOINT_INFO_SIZE = 12;

/** Byte layout of struct bl_remote_endpoint_info. */
export const BL_REMOTE_ENDPOINT_INFO_LAYOUT: readonly FieldLayout[] = [
  { name: 'sec_identity', offset: 0, size: 4, type: '__u32', padding: false },
  { name: 'tunnel_endpoint', offset: 4, size: 4, type: '__be32', padding: false },
  { name: 'node_id', offset: 8, size: 2, type: '__u16', padding: false },
  { name: 'flags', offset: 10, size: 1, type: '__u8', padding: false },
  { name: 'pad0', offset: 11, size: 1, type: '__u8', padding: true },
];

/** Encodes struct bl_remote_endpoint_info into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlRemoteEndpointInfo(value: BlRemoteEndpointInfo, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 12, 'struct bl_remote_endpoint_info');
  b.writeUInt32LE(value.sec_identity, off);
  b.writeUInt32BE(value.tunnel_endpoint, off + 4);
  b.writeUInt16LE(value.node_id, off + 8);
  b.writeUInt8(value.flags, off + 10);
  return b;
}

/** Decodes struct bl_remote_endpoint_info from buf at off. */
export function decodeBlRemoteEndpointInfo(buf: Uint8Array, off = 0): BlRemoteEndpointInfo {
  const b = view(buf, off, 12, 'struct bl_remote_endpoint_info');
  return {
    sec_identity: b.readUInt32LE(off),
    tunnel_endpoint: b.readUInt32BE(off + 4),
    node_id: b.readUInt16LE(off + 8),
    flags: b.readUInt8(off + 10),
  };
}

/** Codec of struct bl_remote_endpoint_info. */
export const BL_REMOTE_ENDPOINT_INFO_CODEC: StructCodec<BlRemoteEndpointInfo> = {
  ctype: 'struct bl_remote_endpoint_info',
  size: BL_REMOTE_ENDPOINT_INFO_SIZE,
  layout: BL_REMOTE_ENDPOINT_INFO_LAYOUT,
  encode: encodeBlRemoteEndpointInfo,
  decode: decodeBlRemoteEndpointInfo,
};

/** struct bl_trace_notify (176 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlTraceNotify {
  /** struct bl_notify_hdr at 0 */
  hdr: BlNotifyHdr;
  /** __u16 at 40 */
  dst_id: number;
  /** __u8 at 42 */
  reason: number;
  /** __be32 at 44, network byte order */
  orig_ip4: number;
  /** __u8[128] at 48 */
  data: Uint8Array;
}

/** sizeof(struct bl_trace_notify) */
export const BL_TRACE_NOTIFY_SIZE = 176;

/** Byte layout of struct bl_trace_notify. */
export const BL_TRACE_NOTIFY_LAYOUT: readonly FieldLayout[] = [
  { name: 'hdr', offset: 0, size: 40, type: 'struct bl_notify_hdr', padding: false },
  { name: 'dst_id', offset: 40, size: 2, type: '__u16', padding: false },
  { name: 'reason', offset: 42, size: 1, type: '__u8', padding: false },
  { name: 'pad0', offset: 43, size: 1, type: '__u8', padding: true },
  { name: 'orig_ip4', offset: 44, size: 4, type: '__be32', padding: false },
  { name: 'data', offset: 48, size: 128, type: '__u8[128]', padding: false },
];

/** Encodes struct bl_trace_notify into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlTraceNotify(value: BlTraceNotify, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 176, 'struct bl_trace_notify');
  encodeBlNotifyHdr(value.hdr, b, off);
  b.writeUInt16LE(value.dst_id, off + 40);
  b.writeUInt8(value.reason, off + 42);
  b.writeUInt32BE(value.orig_ip4, off + 44);
  putBytes(b, off + 48, 128, value.data, 'bl_trace_notify.data');
  return b;
}

/** Decodes struct bl_trace_notify from buf at off. */
export function decodeBlTraceNotify(buf: Uint8Array, off = 0): BlTraceNotify {
  const b = view(buf, off, 176, 'struct bl_trace_notify');
  return {
    hdr: decodeBlNotifyHdr(b, off),
    dst_id: b.readUInt16LE(off + 40),
    reason: b.readUInt8(off + 42),
    orig_ip4: b.readUInt32BE(off + 44),
    data: getBytes(b, off + 48, 128),
  };
}

/** Codec of struct bl_trace_notify. */
export const BL_TRACE_NOTIFY_CODEC: StructCodec<BlTraceNotify> = {
  ctype: 'struct bl_trace_notify',
  size: BL_TRACE_NOTIFY_SIZE,
  layout: BL_TRACE_NOTIFY_LAYOUT,
  encode: encodeBlTraceNotify,
  decode: decodeBlTraceNotify,
};

/** struct bl_trace_sock_notify (72 bytes). Padding fields are not part of the interface: they encode as zero. */
export interface BlTraceSockNotify {
  /** struct bl_notify_hdr at 0 */
  hdr: BlNotifyHdr;
  /** __u64 at 40 */
  sock_cookie: bigint;
  /** __u64 at 48 */
  cgroup_id: bigint;
  /** __be32 at 56, network byte order */
  dst_ip4: number;
  /** __be16 at 60, network byte order */
  dst_port: number;
  /** __u8 at 62 */
  l4_proto: number;
  /** __be32 at 64, network byte order */
  orig_ip4: number;
  /** __be16 at 68, network byte order */
  orig_port: number;
}

/** sizeof(struct bl_trace_sock_notify) */
export const BL_TRACE_SOCK_NOTIFY_SIZE = 72;

/** Byte layout of struct bl_trace_sock_notify. */
export const BL_TRACE_SOCK_NOTIFY_LAYOUT: readonly FieldLayout[] = [
  { name: 'hdr', offset: 0, size: 40, type: 'struct bl_notify_hdr', padding: false },
  { name: 'sock_cookie', offset: 40, size: 8, type: '__u64', padding: false },
  { name: 'cgroup_id', offset: 48, size: 8, type: '__u64', padding: false },
  { name: 'dst_ip4', offset: 56, size: 4, type: '__be32', padding: false },
  { name: 'dst_port', offset: 60, size: 2, type: '__be16', padding: false },
  { name: 'l4_proto', offset: 62, size: 1, type: '__u8', padding: false },
  { name: 'pad0', offset: 63, size: 1, type: '__u8', padding: true },
  { name: 'orig_ip4', offset: 64, size: 4, type: '__be32', padding: false },
  { name: 'orig_port', offset: 68, size: 2, type: '__be16', padding: false },
  { name: 'pad1', offset: 70, size: 2, type: '__u16', padding: true },
];

/** Encodes struct bl_trace_sock_notify into buf at off (a new buffer by default). Padding is zeroed. */
export function encodeBlTraceSockNotify(value: BlTraceSockNotify, buf?: Buffer, off = 0): Buffer {
  const b = target(buf, off, 72, 'struct bl_trace_sock_notify');
  encodeBlNotifyHdr(value.hdr, b, off);
  b.writeBigUInt64LE(value.sock_cookie, off + 40);
  b.writeBigUInt64LE(value.cgroup_id, off + 48);
  b.writeUInt32BE(value.dst_ip4, off + 56);
  b.writeUInt16BE(value.dst_port, off + 60);
  b.writeUInt8(value.l4_proto, off + 62);
  b.writeUInt32BE(value.orig_ip4, off + 64);
  b.writeUInt16BE(value.orig_port, off + 68);
  return b;
}

/** Decodes struct bl_trace_sock_notify from buf at off. */
export function decodeBlTraceSockNotify(buf: Uint8Array, off = 0): BlTraceSockNotify {
  const b = view(buf, off, 72, 'struct bl_trace_sock_notify');
  return {
    hdr: decodeBlNotifyHdr(b, off),
    sock_cookie: b.readBigUInt64LE(off + 40),
    cgroup_id: b.readBigUInt64LE(off + 48),
    dst_ip4: b.readUInt32BE(off + 56),
    dst_port: b.readUInt16BE(off + 60),
    l4_proto: b.readUInt8(off + 62),
    orig_ip4: b.readUInt32BE(off + 64),
    orig_port: b.readUInt16BE(off + 68),
  };
}

/** Codec of struct bl_trace_sock_notify. */
export const BL_TRACE_SOCK_NOTIFY_CODEC: StructCodec<BlTraceSockNotify> = {
  ctype: 'struct bl_trace_sock_notify',
  size: BL_TRACE_SOCK_NOTIFY_SIZE,
  layout: BL_TRACE_SOCK_NOTIFY_LAYOUT,
  encode: encodeBlTraceSockNotify,
  decode: decodeBlTraceSockNotify,
};

// ---- scalar codecs (map keys/values that are plain integers)

/** __u16. */
export const U16_CODEC: Codec<number> = {
  ctype: '__u16',
  size: 2,
  encode(value, buf, off = 0) {
    const b = target(buf, off, 2, '__u16');
    b.writeUInt16LE(value, off);
    return b;
  },
  decode(buf, off = 0) {
    return view(buf, off, 2, '__u16').readUInt16LE(off);
  },
};

/** __u32. */
export const U32_CODEC: Codec<number> = {
  ctype: '__u32',
  size: 4,
  encode(value, buf, off = 0) {
    const b = target(buf, off, 4, '__u32');
    b.writeUInt32LE(value, off);
    return b;
  },
  decode(buf, off = 0) {
    return view(buf, off, 4, '__u32').readUInt32LE(off);
  },
};

/** __u64. */
export const U64_CODEC: Codec<bigint> = {
  ctype: '__u64',
  size: 8,
  encode(value, buf, off = 0) {
    const b = target(buf, off, 8, '__u64');
    b.writeBigUInt64LE(value, off);
    return b;
  },
  decode(buf, off = 0) {
    return view(buf, off, 8, '__u64').readBigUInt64LE(off);
  },
};

// ---- objects

/** The compiled BPF objects, by name (host for host.bpf.o): their maps, programs and globals. */
export const BPF_OBJECTS = {
  host: {
    file: 'host.bpf.o',
    license: 'Dual BSD/GPL',
    maps: {
      bl_ct4: {
        name: 'bl_ct4',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 56,
        keyType: 'struct bl_ct4_key',
        valueType: 'struct bl_ct_entry',
        key: BL_CT4_KEY_CODEC,
        value: BL_CT_ENTRY_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 56,
      },
      bl_events: {
        name: 'bl_events',
        type: 27,
        typeName: 'BPF_MAP_TYPE_RINGBUF',
        keySize: 0,
        valueSize: 0,
        keyType: null,
        valueType: null,
        key: null,
        value: null,
        maxEntries: 1048576,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 0,
      },
      bl_events_lost: {
        name: 'bl_events_lost',
        type: 6,
        typeName: 'BPF_MAP_TYPE_PERCPU_ARRAY',
        keySize: 4,
        valueSize: 8,
        keyType: '__u32',
        valueType: '__u64',
        key: U32_CODEC,
        value: U64_CODEC,
        maxEntries: 8,
        flags: 0,
        pinning: 0,
        perCpu: true,
        valueStride: 8,
      },
      bl_ipcache: {
        name: 'bl_ipcache',
        type: 11,
        typeName: 'BPF_MAP_TYPE_LPM_TRIE',
        keySize: 8,
        valueSize: 12,
        keyType: 'struct bl_ipcache_key',
        valueType: 'struct bl_remote_endpoint_info',
        key: BL_IPCACHE_KEY_CODEC,
        value: BL_REMOTE_ENDPOINT_INFO_CODEC,
        maxEntries: 16384,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 12,
      },
      bl_lb4_affinity: {
        name: 'bl_lb4_affinity',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 16,
        keyType: 'struct bl_lb4_affinity_key',
        valueType: 'struct bl_lb4_affinity',
        key: BL_LB4_AFFINITY_KEY_CODEC,
        value: BL_LB4_AFFINITY_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 16,
      },
      bl_lb4_backends: {
        name: 'bl_lb4_backends',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 4,
        valueSize: 8,
        keyType: '__u32',
        valueType: 'struct bl_lb4_backend',
        key: U32_CODEC,
        value: BL_LB4_BACKEND_CODEC,
        maxEntries: 65536,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_maglev: {
        name: 'bl_lb4_maglev',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 8,
        valueSize: 4,
        keyType: 'struct bl_lb4_maglev_key',
        valueType: '__u32',
        key: BL_LB4_MAGLEV_KEY_CODEC,
        value: U32_CODEC,
        maxEntries: 1048576,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 4,
      },
      bl_lb4_nodeport_nat: {
        name: 'bl_lb4_nodeport_nat',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 12,
        valueSize: 8,
        keyType: 'struct bl_lb4_nodeport_nat_key',
        valueType: 'struct bl_lb4_nodeport_nat',
        key: BL_LB4_NODEPORT_NAT_KEY_CODEC,
        value: BL_LB4_NODEPORT_NAT_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_nodeport_snat: {
        name: 'bl_lb4_nodeport_snat',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 4,
        keyType: 'struct bl_lb4_nodeport_snat_key',
        valueType: 'struct bl_lb4_nodeport_snat',
        key: BL_LB4_NODEPORT_SNAT_KEY_CODEC,
        value: BL_LB4_NODEPORT_SNAT_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 4,
      },
      bl_lb4_reverse_nat: {
        name: 'bl_lb4_reverse_nat',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 2,
        valueSize: 8,
        keyType: '__u16',
        valueType: 'struct bl_lb4_reverse_nat',
        key: U16_CODEC,
        value: BL_LB4_REVERSE_NAT_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_reverse_sk: {
        name: 'bl_lb4_reverse_sk',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 8,
        keyType: 'struct bl_lb4_reverse_sk_key',
        valueType: 'struct bl_lb4_reverse_sk',
        key: BL_LB4_REVERSE_SK_KEY_CODEC,
        value: BL_LB4_REVERSE_SK_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_services: {
        name: 'bl_lb4_services',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 12,
        valueSize: 16,
        keyType: 'struct bl_lb4_key',
        valueType: 'struct bl_lb4_service',
        key: BL_LB4_KEY_CODEC,
        value: BL_LB4_SERVICE_CODEC,
        maxEntries: 65536,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 16,
      },
      bl_lxc: {
        name: 'bl_lxc',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 8,
        valueSize: 24,
        keyType: 'struct bl_endpoint_key',
        valueType: 'struct bl_endpoint_info',
        key: BL_ENDPOINT_KEY_CODEC,
        value: BL_ENDPOINT_INFO_CODEC,
        maxEntries: 4096,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 24,
      },
      bl_metrics: {
        name: 'bl_metrics',
        type: 5,
        typeName: 'BPF_MAP_TYPE_PERCPU_HASH',
        keySize: 8,
        valueSize: 16,
        keyType: 'struct bl_metrics_key',
        valueType: 'struct bl_metrics_value',
        key: BL_METRICS_KEY_CODEC,
        value: BL_METRICS_VALUE_CODEC,
        maxEntries: 1024,
        flags: 0,
        pinning: 0,
        perCpu: true,
        valueStride: 16,
      },
      bl_policy: {
        name: 'bl_policy',
        type: 11,
        typeName: 'BPF_MAP_TYPE_LPM_TRIE',
        keySize: 20,
        valueSize: 24,
        keyType: 'struct bl_policy_key',
        valueType: 'struct bl_policy_entry',
        key: BL_POLICY_KEY_CODEC,
        value: BL_POLICY_ENTRY_CODEC,
        maxEntries: 262144,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 24,
      },
    },
    programs: {
      bl_from_netdev: { name: 'bl_from_netdev', section: 'tc' },
      bl_to_netdev: { name: 'bl_to_netdev', section: 'tc' },
    },
    globals: {
      bl_lb_maglev_table_size: {
        name: 'bl_lb_maglev_table_size',
        section: '.rodata',
        offset: 0,
        size: 4,
        type: '__u32',
        codec: U32_CODEC,
      },
      bl_config: {
        name: 'bl_config',
        section: '.rodata',
        offset: 4,
        size: 40,
        type: 'struct bl_datapath_config',
        codec: BL_DATAPATH_CONFIG_CODEC,
      },
    },
    sections: {
      '.rodata': { name: '.rodata', size: 44 },
    },
  },
  lxc: {
    file: 'lxc.bpf.o',
    license: 'Dual BSD/GPL',
    maps: {
      bl_ct4: {
        name: 'bl_ct4',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 56,
        keyType: 'struct bl_ct4_key',
        valueType: 'struct bl_ct_entry',
        key: BL_CT4_KEY_CODEC,
        value: BL_CT_ENTRY_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 56,
      },
      bl_events: {
        name: 'bl_events',
        type: 27,
        typeName: 'BPF_MAP_TYPE_RINGBUF',
        keySize: 0,
        valueSize: 0,
        keyType: null,
        valueType: null,
        key: null,
        value: null,
        maxEntries: 1048576,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 0,
      },
      bl_events_lost: {
        name: 'bl_events_lost',
        type: 6,
        typeName: 'BPF_MAP_TYPE_PERCPU_ARRAY',
        keySize: 4,
        valueSize: 8,
        keyType: '__u32',
        valueType: '__u64',
        key: U32_CODEC,
        value: U64_CODEC,
        maxEntries: 8,
        flags: 0,
        pinning: 0,
        perCpu: true,
        valueStride: 8,
      },
      bl_ipcache: {
        name: 'bl_ipcache',
        type: 11,
        typeName: 'BPF_MAP_TYPE_LPM_TRIE',
        keySize: 8,
        valueSize: 12,
        keyType: 'struct bl_ipcache_key',
        valueType: 'struct bl_remote_endpoint_info',
        key: BL_IPCACHE_KEY_CODEC,
        value: BL_REMOTE_ENDPOINT_INFO_CODEC,
        maxEntries: 16384,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 12,
      },
      bl_lb4_affinity: {
        name: 'bl_lb4_affinity',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 16,
        keyType: 'struct bl_lb4_affinity_key',
        valueType: 'struct bl_lb4_affinity',
        key: BL_LB4_AFFINITY_KEY_CODEC,
        value: BL_LB4_AFFINITY_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 16,
      },
      bl_lb4_backends: {
        name: 'bl_lb4_backends',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 4,
        valueSize: 8,
        keyType: '__u32',
        valueType: 'struct bl_lb4_backend',
        key: U32_CODEC,
        value: BL_LB4_BACKEND_CODEC,
        maxEntries: 65536,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_maglev: {
        name: 'bl_lb4_maglev',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 8,
        valueSize: 4,
        keyType: 'struct bl_lb4_maglev_key',
        valueType: '__u32',
        key: BL_LB4_MAGLEV_KEY_CODEC,
        value: U32_CODEC,
        maxEntries: 1048576,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 4,
      },
      bl_lb4_nodeport_nat: {
        name: 'bl_lb4_nodeport_nat',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 12,
        valueSize: 8,
        keyType: 'struct bl_lb4_nodeport_nat_key',
        valueType: 'struct bl_lb4_nodeport_nat',
        key: BL_LB4_NODEPORT_NAT_KEY_CODEC,
        value: BL_LB4_NODEPORT_NAT_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_nodeport_snat: {
        name: 'bl_lb4_nodeport_snat',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 4,
        keyType: 'struct bl_lb4_nodeport_snat_key',
        valueType: 'struct bl_lb4_nodeport_snat',
        key: BL_LB4_NODEPORT_SNAT_KEY_CODEC,
        value: BL_LB4_NODEPORT_SNAT_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 4,
      },
      bl_lb4_reverse_nat: {
        name: 'bl_lb4_reverse_nat',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 2,
        valueSize: 8,
        keyType: '__u16',
        valueType: 'struct bl_lb4_reverse_nat',
        key: U16_CODEC,
        value: BL_LB4_REVERSE_NAT_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_reverse_sk: {
        name: 'bl_lb4_reverse_sk',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 8,
        keyType: 'struct bl_lb4_reverse_sk_key',
        valueType: 'struct bl_lb4_reverse_sk',
        key: BL_LB4_REVERSE_SK_KEY_CODEC,
        value: BL_LB4_REVERSE_SK_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_services: {
        name: 'bl_lb4_services',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 12,
        valueSize: 16,
        keyType: 'struct bl_lb4_key',
        valueType: 'struct bl_lb4_service',
        key: BL_LB4_KEY_CODEC,
        value: BL_LB4_SERVICE_CODEC,
        maxEntries: 65536,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 16,
      },
      bl_lxc: {
        name: 'bl_lxc',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 8,
        valueSize: 24,
        keyType: 'struct bl_endpoint_key',
        valueType: 'struct bl_endpoint_info',
        key: BL_ENDPOINT_KEY_CODEC,
        value: BL_ENDPOINT_INFO_CODEC,
        maxEntries: 4096,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 24,
      },
      bl_metrics: {
        name: 'bl_metrics',
        type: 5,
        typeName: 'BPF_MAP_TYPE_PERCPU_HASH',
        keySize: 8,
        valueSize: 16,
        keyType: 'struct bl_metrics_key',
        valueType: 'struct bl_metrics_value',
        key: BL_METRICS_KEY_CODEC,
        value: BL_METRICS_VALUE_CODEC,
        maxEntries: 1024,
        flags: 0,
        pinning: 0,
        perCpu: true,
        valueStride: 16,
      },
      bl_policy: {
        name: 'bl_policy',
        type: 11,
        typeName: 'BPF_MAP_TYPE_LPM_TRIE',
        keySize: 20,
        valueSize: 24,
        keyType: 'struct bl_policy_key',
        valueType: 'struct bl_policy_entry',
        key: BL_POLICY_KEY_CODEC,
        value: BL_POLICY_ENTRY_CODEC,
        maxEntries: 262144,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 24,
      },
    },
    programs: {
      bl_from_container: { name: 'bl_from_container', section: 'tc' },
      bl_to_container: { name: 'bl_to_container', section: 'tc' },
    },
    globals: {
      bl_lb_maglev_table_size: {
        name: 'bl_lb_maglev_table_size',
        section: '.rodata',
        offset: 0,
        size: 4,
        type: '__u32',
        codec: U32_CODEC,
      },
      bl_config: {
        name: 'bl_config',
        section: '.rodata',
        offset: 4,
        size: 40,
        type: 'struct bl_datapath_config',
        codec: BL_DATAPATH_CONFIG_CODEC,
      },
    },
    sections: {
      '.rodata': { name: '.rodata', size: 44 },
    },
  },
  overlay: {
    file: 'overlay.bpf.o',
    license: 'Dual BSD/GPL',
    maps: {
      bl_ct4: {
        name: 'bl_ct4',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 56,
        keyType: 'struct bl_ct4_key',
        valueType: 'struct bl_ct_entry',
        key: BL_CT4_KEY_CODEC,
        value: BL_CT_ENTRY_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 56,
      },
      bl_events: {
        name: 'bl_events',
        type: 27,
        typeName: 'BPF_MAP_TYPE_RINGBUF',
        keySize: 0,
        valueSize: 0,
        keyType: null,
        valueType: null,
        key: null,
        value: null,
        maxEntries: 1048576,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 0,
      },
      bl_events_lost: {
        name: 'bl_events_lost',
        type: 6,
        typeName: 'BPF_MAP_TYPE_PERCPU_ARRAY',
        keySize: 4,
        valueSize: 8,
        keyType: '__u32',
        valueType: '__u64',
        key: U32_CODEC,
        value: U64_CODEC,
        maxEntries: 8,
        flags: 0,
        pinning: 0,
        perCpu: true,
        valueStride: 8,
      },
      bl_ipcache: {
        name: 'bl_ipcache',
        type: 11,
        typeName: 'BPF_MAP_TYPE_LPM_TRIE',
        keySize: 8,
        valueSize: 12,
        keyType: 'struct bl_ipcache_key',
        valueType: 'struct bl_remote_endpoint_info',
        key: BL_IPCACHE_KEY_CODEC,
        value: BL_REMOTE_ENDPOINT_INFO_CODEC,
        maxEntries: 16384,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 12,
      },
      bl_lb4_affinity: {
        name: 'bl_lb4_affinity',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 16,
        keyType: 'struct bl_lb4_affinity_key',
        valueType: 'struct bl_lb4_affinity',
        key: BL_LB4_AFFINITY_KEY_CODEC,
        value: BL_LB4_AFFINITY_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 16,
      },
      bl_lb4_backends: {
        name: 'bl_lb4_backends',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 4,
        valueSize: 8,
        keyType: '__u32',
        valueType: 'struct bl_lb4_backend',
        key: U32_CODEC,
        value: BL_LB4_BACKEND_CODEC,
        maxEntries: 65536,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_maglev: {
        name: 'bl_lb4_maglev',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 8,
        valueSize: 4,
        keyType: 'struct bl_lb4_maglev_key',
        valueType: '__u32',
        key: BL_LB4_MAGLEV_KEY_CODEC,
        value: U32_CODEC,
        maxEntries: 1048576,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 4,
      },
      bl_lb4_nodeport_nat: {
        name: 'bl_lb4_nodeport_nat',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 12,
        valueSize: 8,
        keyType: 'struct bl_lb4_nodeport_nat_key',
        valueType: 'struct bl_lb4_nodeport_nat',
        key: BL_LB4_NODEPORT_NAT_KEY_CODEC,
        value: BL_LB4_NODEPORT_NAT_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_nodeport_snat: {
        name: 'bl_lb4_nodeport_snat',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 4,
        keyType: 'struct bl_lb4_nodeport_snat_key',
        valueType: 'struct bl_lb4_nodeport_snat',
        key: BL_LB4_NODEPORT_SNAT_KEY_CODEC,
        value: BL_LB4_NODEPORT_SNAT_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 4,
      },
      bl_lb4_reverse_nat: {
        name: 'bl_lb4_reverse_nat',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 2,
        valueSize: 8,
        keyType: '__u16',
        valueType: 'struct bl_lb4_reverse_nat',
        key: U16_CODEC,
        value: BL_LB4_REVERSE_NAT_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_reverse_sk: {
        name: 'bl_lb4_reverse_sk',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 8,
        keyType: 'struct bl_lb4_reverse_sk_key',
        valueType: 'struct bl_lb4_reverse_sk',
        key: BL_LB4_REVERSE_SK_KEY_CODEC,
        value: BL_LB4_REVERSE_SK_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_services: {
        name: 'bl_lb4_services',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 12,
        valueSize: 16,
        keyType: 'struct bl_lb4_key',
        valueType: 'struct bl_lb4_service',
        key: BL_LB4_KEY_CODEC,
        value: BL_LB4_SERVICE_CODEC,
        maxEntries: 65536,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 16,
      },
      bl_lxc: {
        name: 'bl_lxc',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 8,
        valueSize: 24,
        keyType: 'struct bl_endpoint_key',
        valueType: 'struct bl_endpoint_info',
        key: BL_ENDPOINT_KEY_CODEC,
        value: BL_ENDPOINT_INFO_CODEC,
        maxEntries: 4096,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 24,
      },
      bl_metrics: {
        name: 'bl_metrics',
        type: 5,
        typeName: 'BPF_MAP_TYPE_PERCPU_HASH',
        keySize: 8,
        valueSize: 16,
        keyType: 'struct bl_metrics_key',
        valueType: 'struct bl_metrics_value',
        key: BL_METRICS_KEY_CODEC,
        value: BL_METRICS_VALUE_CODEC,
        maxEntries: 1024,
        flags: 0,
        pinning: 0,
        perCpu: true,
        valueStride: 16,
      },
      bl_policy: {
        name: 'bl_policy',
        type: 11,
        typeName: 'BPF_MAP_TYPE_LPM_TRIE',
        keySize: 20,
        valueSize: 24,
        keyType: 'struct bl_policy_key',
        valueType: 'struct bl_policy_entry',
        key: BL_POLICY_KEY_CODEC,
        value: BL_POLICY_ENTRY_CODEC,
        maxEntries: 262144,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 24,
      },
    },
    programs: {
      bl_from_overlay: { name: 'bl_from_overlay', section: 'tc' },
      bl_to_overlay: { name: 'bl_to_overlay', section: 'tc' },
    },
    globals: {
      bl_lb_maglev_table_size: {
        name: 'bl_lb_maglev_table_size',
        section: '.rodata',
        offset: 0,
        size: 4,
        type: '__u32',
        codec: U32_CODEC,
      },
      bl_config: {
        name: 'bl_config',
        section: '.rodata',
        offset: 4,
        size: 40,
        type: 'struct bl_datapath_config',
        codec: BL_DATAPATH_CONFIG_CODEC,
      },
    },
    sections: {
      '.rodata': { name: '.rodata', size: 44 },
    },
  },
  sock: {
    file: 'sock.bpf.o',
    license: 'Dual BSD/GPL',
    maps: {
      bl_ct4: {
        name: 'bl_ct4',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 56,
        keyType: 'struct bl_ct4_key',
        valueType: 'struct bl_ct_entry',
        key: BL_CT4_KEY_CODEC,
        value: BL_CT_ENTRY_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 56,
      },
      bl_events: {
        name: 'bl_events',
        type: 27,
        typeName: 'BPF_MAP_TYPE_RINGBUF',
        keySize: 0,
        valueSize: 0,
        keyType: null,
        valueType: null,
        key: null,
        value: null,
        maxEntries: 1048576,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 0,
      },
      bl_events_lost: {
        name: 'bl_events_lost',
        type: 6,
        typeName: 'BPF_MAP_TYPE_PERCPU_ARRAY',
        keySize: 4,
        valueSize: 8,
        keyType: '__u32',
        valueType: '__u64',
        key: U32_CODEC,
        value: U64_CODEC,
        maxEntries: 8,
        flags: 0,
        pinning: 0,
        perCpu: true,
        valueStride: 8,
      },
      bl_ipcache: {
        name: 'bl_ipcache',
        type: 11,
        typeName: 'BPF_MAP_TYPE_LPM_TRIE',
        keySize: 8,
        valueSize: 12,
        keyType: 'struct bl_ipcache_key',
        valueType: 'struct bl_remote_endpoint_info',
        key: BL_IPCACHE_KEY_CODEC,
        value: BL_REMOTE_ENDPOINT_INFO_CODEC,
        maxEntries: 16384,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 12,
      },
      bl_lb4_affinity: {
        name: 'bl_lb4_affinity',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 16,
        keyType: 'struct bl_lb4_affinity_key',
        valueType: 'struct bl_lb4_affinity',
        key: BL_LB4_AFFINITY_KEY_CODEC,
        value: BL_LB4_AFFINITY_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 16,
      },
      bl_lb4_backends: {
        name: 'bl_lb4_backends',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 4,
        valueSize: 8,
        keyType: '__u32',
        valueType: 'struct bl_lb4_backend',
        key: U32_CODEC,
        value: BL_LB4_BACKEND_CODEC,
        maxEntries: 65536,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_maglev: {
        name: 'bl_lb4_maglev',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 8,
        valueSize: 4,
        keyType: 'struct bl_lb4_maglev_key',
        valueType: '__u32',
        key: BL_LB4_MAGLEV_KEY_CODEC,
        value: U32_CODEC,
        maxEntries: 1048576,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 4,
      },
      bl_lb4_nodeport_nat: {
        name: 'bl_lb4_nodeport_nat',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 12,
        valueSize: 8,
        keyType: 'struct bl_lb4_nodeport_nat_key',
        valueType: 'struct bl_lb4_nodeport_nat',
        key: BL_LB4_NODEPORT_NAT_KEY_CODEC,
        value: BL_LB4_NODEPORT_NAT_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_nodeport_snat: {
        name: 'bl_lb4_nodeport_snat',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 4,
        keyType: 'struct bl_lb4_nodeport_snat_key',
        valueType: 'struct bl_lb4_nodeport_snat',
        key: BL_LB4_NODEPORT_SNAT_KEY_CODEC,
        value: BL_LB4_NODEPORT_SNAT_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 4,
      },
      bl_lb4_reverse_nat: {
        name: 'bl_lb4_reverse_nat',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 2,
        valueSize: 8,
        keyType: '__u16',
        valueType: 'struct bl_lb4_reverse_nat',
        key: U16_CODEC,
        value: BL_LB4_REVERSE_NAT_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_reverse_sk: {
        name: 'bl_lb4_reverse_sk',
        type: 9,
        typeName: 'BPF_MAP_TYPE_LRU_HASH',
        keySize: 16,
        valueSize: 8,
        keyType: 'struct bl_lb4_reverse_sk_key',
        valueType: 'struct bl_lb4_reverse_sk',
        key: BL_LB4_REVERSE_SK_KEY_CODEC,
        value: BL_LB4_REVERSE_SK_CODEC,
        maxEntries: 65536,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 8,
      },
      bl_lb4_services: {
        name: 'bl_lb4_services',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 12,
        valueSize: 16,
        keyType: 'struct bl_lb4_key',
        valueType: 'struct bl_lb4_service',
        key: BL_LB4_KEY_CODEC,
        value: BL_LB4_SERVICE_CODEC,
        maxEntries: 65536,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 16,
      },
      bl_lxc: {
        name: 'bl_lxc',
        type: 1,
        typeName: 'BPF_MAP_TYPE_HASH',
        keySize: 8,
        valueSize: 24,
        keyType: 'struct bl_endpoint_key',
        valueType: 'struct bl_endpoint_info',
        key: BL_ENDPOINT_KEY_CODEC,
        value: BL_ENDPOINT_INFO_CODEC,
        maxEntries: 4096,
        flags: 0,
        pinning: 0,
        perCpu: false,
        valueStride: 24,
      },
      bl_metrics: {
        name: 'bl_metrics',
        type: 5,
        typeName: 'BPF_MAP_TYPE_PERCPU_HASH',
        keySize: 8,
        valueSize: 16,
        keyType: 'struct bl_metrics_key',
        valueType: 'struct bl_metrics_value',
        key: BL_METRICS_KEY_CODEC,
        value: BL_METRICS_VALUE_CODEC,
        maxEntries: 1024,
        flags: 0,
        pinning: 0,
        perCpu: true,
        valueStride: 16,
      },
      bl_policy: {
        name: 'bl_policy',
        type: 11,
        typeName: 'BPF_MAP_TYPE_LPM_TRIE',
        keySize: 20,
        valueSize: 24,
        keyType: 'struct bl_policy_key',
        valueType: 'struct bl_policy_entry',
        key: BL_POLICY_KEY_CODEC,
        value: BL_POLICY_ENTRY_CODEC,
        maxEntries: 262144,
        flags: 1,
        pinning: 0,
        perCpu: false,
        valueStride: 24,
      },
    },
    programs: {
      bl_sock4_connect: { name: 'bl_sock4_connect', section: 'cgroup/connect4' },
      bl_sock4_getpeername: { name: 'bl_sock4_getpeername', section: 'cgroup/getpeername4' },
      bl_sock4_recvmsg: { name: 'bl_sock4_recvmsg', section: 'cgroup/recvmsg4' },
      bl_sock4_sendmsg: { name: 'bl_sock4_sendmsg', section: 'cgroup/sendmsg4' },
    },
    globals: {
      bl_lb_maglev_table_size: {
        name: 'bl_lb_maglev_table_size',
        section: '.rodata',
        offset: 0,
        size: 4,
        type: '__u32',
        codec: U32_CODEC,
      },
      bl_sock_node_netns: {
        name: 'bl_sock_node_netns',
        section: '.rodata',
        offset: 8,
        size: 8,
        type: '__u64',
        codec: U64_CODEC,
      },
    },
    sections: {
      '.rodata': { name: '.rodata', size: 16 },
    },
  },
} as const satisfies Readonly<Record<string, BpfObjectSpec>>;

// ---- manifest

/** Machine-readable summary of everything above; `gen-abi --check` compares it with the compiled objects. */
// abi-manifest:begin
export const ABI_MANIFEST = {
  "endianness": "little",
  "structs": {
    "bl_ct4_key": {
      "size": 16,
      "fields": [
        { "name": "daddr", "offset": 0, "size": 4, "type": "__be32" },
        { "name": "saddr", "offset": 4, "size": 4, "type": "__be32" },
        { "name": "dport", "offset": 8, "size": 2, "type": "__be16" },
        { "name": "sport", "offset": 10, "size": 2, "type": "__be16" },
        { "name": "nexthdr", "offset": 12, "size": 1, "type": "__u8" },
        { "name": "flags", "offset": 13, "size": 1, "type": "__u8" },
        { "name": "pad0", "offset": 14, "size": 2, "type": "__u16" }
      ]
    },
    "bl_ct_entry": {
      "size": 56,
      "fields": [
        { "name": "lifetime", "offset": 0, "size": 4, "type": "__u32" },
        { "name": "tx_flags_seen", "offset": 4, "size": 1, "type": "__u8" },
        { "name": "rx_flags_seen", "offset": 5, "size": 1, "type": "__u8" },
        { "name": "flags", "offset": 6, "size": 2, "type": "__u16" },
        { "name": "tx_packets", "offset": 8, "size": 8, "type": "__u64" },
        { "name": "tx_bytes", "offset": 16, "size": 8, "type": "__u64" },
        { "name": "rx_packets", "offset": 24, "size": 8, "type": "__u64" },
        { "name": "rx_bytes", "offset": 32, "size": 8, "type": "__u64" },
        { "name": "created", "offset": 40, "size": 4, "type": "__u32" },
        { "name": "last_report", "offset": 44, "size": 4, "type": "__u32" },
        { "name": "backend_id", "offset": 48, "size": 4, "type": "__u32" },
        { "name": "rev_nat_index", "offset": 52, "size": 2, "type": "__u16" },
        { "name": "pad0", "offset": 54, "size": 2, "type": "__u16" }
      ]
    },
    "bl_datapath_config": {
      "size": 40,
      "fields": [
        { "name": "node_id", "offset": 0, "size": 4, "type": "__u32" },
        { "name": "flags", "offset": 4, "size": 4, "type": "__u32" },
        { "name": "host_endpoint_id", "offset": 8, "size": 2, "type": "__u16" },
        { "name": "trace_capture_len", "offset": 10, "size": 2, "type": "__u16" },
        { "name": "trace_aggregation", "offset": 12, "size": 1, "type": "__u8" },
        { "name": "routing_mode", "offset": 13, "size": 1, "type": "__u8" },
        { "name": "pod_cidr4_prefixlen", "offset": 14, "size": 1, "type": "__u8" },
        { "name": "pad0", "offset": 15, "size": 1, "type": "__u8" },
        { "name": "node_ip4", "offset": 16, "size": 4, "type": "__be32" },
        { "name": "router_ip4", "offset": 20, "size": 4, "type": "__be32" },
        { "name": "pod_cidr4", "offset": 24, "size": 4, "type": "__be32" },
        { "name": "tunnel_ifindex", "offset": 28, "size": 4, "type": "__u32" },
        { "name": "tunnel_vni", "offset": 32, "size": 4, "type": "__u32" },
        { "name": "mtls_out_port", "offset": 36, "size": 2, "type": "__u16" },
        { "name": "pad1", "offset": 38, "size": 2, "type": "__u16" }
      ]
    },
    "bl_drop_notify": {
      "size": 176,
      "fields": [
        { "name": "hdr", "offset": 0, "size": 40, "type": "struct bl_notify_hdr" },
        { "name": "line", "offset": 40, "size": 2, "type": "__u16" },
        { "name": "file", "offset": 42, "size": 1, "type": "__u8" },
        { "name": "ext_error", "offset": 43, "size": 1, "type": "__s8" },
        { "name": "cookie", "offset": 44, "size": 4, "type": "__u32" },
        { "name": "data", "offset": 48, "size": 128, "type": "__u8[128]" }
      ]
    },
    "bl_endpoint_info": {
      "size": 24,
      "fields": [
        { "name": "ifindex", "offset": 0, "size": 4, "type": "__u32" },
        { "name": "ep_id", "offset": 4, "size": 2, "type": "__u16" },
        { "name": "flags", "offset": 6, "size": 2, "type": "__u16" },
        { "name": "mac", "offset": 8, "size": 6, "type": "__u8[6]" },
        { "name": "node_mac", "offset": 14, "size": 6, "type": "__u8[6]" },
        { "name": "sec_identity", "offset": 20, "size": 4, "type": "__u32" }
      ]
    },
    "bl_endpoint_key": {
      "size": 8,
      "fields": [
        { "name": "ip4", "offset": 0, "size": 4, "type": "__be32" },
        { "name": "pad0", "offset": 4, "size": 4, "type": "__u32" }
      ]
    },
    "bl_ipcache_key": {
      "size": 8,
      "fields": [
        { "name": "prefixlen", "offset": 0, "size": 4, "type": "__u32" },
        { "name": "ip4", "offset": 4, "size": 4, "type": "__be32" }
      ]
    },
    "bl_lb4_affinity": {
      "size": 16,
      "fields": [
        { "name": "last_used", "offset": 0, "size": 8, "type": "__u64" },
        { "name": "backend_id", "offset": 8, "size": 4, "type": "__u32" },
        { "name": "pad0", "offset": 12, "size": 4, "type": "__u32" }
      ]
    },
    "bl_lb4_affinity_key": {
      "size": 16,
      "fields": [
        { "name": "client_id", "offset": 0, "size": 8, "type": "__u64" },
        { "name": "rev_nat_index", "offset": 8, "size": 2, "type": "__u16" },
        { "name": "pad0", "offset": 10, "size": 2, "type": "__u16" },
        { "name": "pad1", "offset": 12, "size": 4, "type": "__u32" }
      ]
    },
    "bl_lb4_backend": {
      "size": 8,
      "fields": [
        { "name": "address", "offset": 0, "size": 4, "type": "__be32" },
        { "name": "port", "offset": 4, "size": 2, "type": "__be16" },
        { "name": "proto", "offset": 6, "size": 1, "type": "__u8" },
        { "name": "flags", "offset": 7, "size": 1, "type": "__u8" }
      ]
    },
    "bl_lb4_key": {
      "size": 12,
      "fields": [
        { "name": "address", "offset": 0, "size": 4, "type": "__be32" },
        { "name": "dport", "offset": 4, "size": 2, "type": "__be16" },
        { "name": "backend_slot", "offset": 6, "size": 2, "type": "__u16" },
        { "name": "proto", "offset": 8, "size": 1, "type": "__u8" },
        { "name": "pad0", "offset": 9, "size": 3, "type": "__u8[3]" }
      ]
    },
    "bl_lb4_maglev_key": {
      "size": 8,
      "fields": [
        { "name": "rev_nat_index", "offset": 0, "size": 2, "type": "__u16" },
        { "name": "pad0", "offset": 2, "size": 2, "type": "__u16" },
        { "name": "slot", "offset": 4, "size": 4, "type": "__u32" }
      ]
    },
    "bl_lb4_nodeport_nat": {
      "size": 8,
      "fields": [
        { "name": "client", "offset": 0, "size": 4, "type": "__be32" },
        { "name": "client_port", "offset": 4, "size": 2, "type": "__be16" },
        { "name": "rev_nat_index", "offset": 6, "size": 2, "type": "__u16" }
      ]
    },
    "bl_lb4_nodeport_nat_key": {
      "size": 12,
      "fields": [
        { "name": "backend", "offset": 0, "size": 4, "type": "__be32" },
        { "name": "backend_port", "offset": 4, "size": 2, "type": "__be16" },
        { "name": "nat_port", "offset": 6, "size": 2, "type": "__be16" },
        { "name": "proto", "offset": 8, "size": 1, "type": "__u8" },
        { "name": "pad0", "offset": 9, "size": 3, "type": "__u8[3]" }
      ]
    },
    "bl_lb4_nodeport_snat": {
      "size": 4,
      "fields": [
        { "name": "nat_port", "offset": 0, "size": 2, "type": "__be16" },
        { "name": "pad0", "offset": 2, "size": 2, "type": "__u16" }
      ]
    },
    "bl_lb4_nodeport_snat_key": {
      "size": 16,
      "fields": [
        { "name": "client", "offset": 0, "size": 4, "type": "__be32" },
        { "name": "backend", "offset": 4, "size": 4, "type": "__be32" },
        { "name": "client_port", "offset": 8, "size": 2, "type": "__be16" },
        { "name": "backend_port", "offset": 10, "size": 2, "type": "__be16" },
        { "name": "proto", "offset": 12, "size": 1, "type": "__u8" },
        { "name": "pad0", "offset": 13, "size": 3, "type": "__u8[3]" }
      ]
    },
    "bl_lb4_reverse_nat": {
      "size": 8,
      "fields": [
        { "name": "address", "offset": 0, "size": 4, "type": "__be32" },
        { "name": "port", "offset": 4, "size": 2, "type": "__be16" },
        { "name": "pad0", "offset": 6, "size": 2, "type": "__u16" }
      ]
    },
    "bl_lb4_reverse_sk": {
      "size": 8,
      "fields": [
        { "name": "address", "offset": 0, "size": 4, "type": "__be32" },
        { "name": "port", "offset": 4, "size": 2, "type": "__be16" },
        { "name": "rev_nat_index", "offset": 6, "size": 2, "type": "__u16" }
      ]
    },
    "bl_lb4_reverse_sk_key": {
      "size": 16,
      "fields": [
        { "name": "cookie", "offset": 0, "size": 8, "type": "__u64" },
        { "name": "address", "offset": 8, "size": 4, "type": "__be32" },
        { "name": "port", "offset": 12, "size": 2, "type": "__be16" },
        { "name": "pad0", "offset": 14, "size": 2, "type": "__u16" }
      ]
    },
    "bl_lb4_service": {
      "size": 16,
      "fields": [
        { "name": "backend_id", "offset": 0, "size": 4, "type": "__u32" },
        { "name": "count", "offset": 4, "size": 2, "type": "__u16" },
        { "name": "qcount", "offset": 6, "size": 2, "type": "__u16" },
        { "name": "rev_nat_index", "offset": 8, "size": 2, "type": "__u16" },
        { "name": "flags", "offset": 10, "size": 2, "type": "__u16" },
        { "name": "affinity_timeout", "offset": 12, "size": 4, "type": "__u32" }
      ]
    },
    "bl_metrics_key": {
      "size": 8,
      "fields": [
        { "name": "reason", "offset": 0, "size": 1, "type": "__u8" },
        { "name": "dir", "offset": 1, "size": 1, "type": "__u8" },
        { "name": "pad0", "offset": 2, "size": 2, "type": "__u16" },
        { "name": "pad1", "offset": 4, "size": 4, "type": "__u32" }
      ]
    },
    "bl_metrics_value": {
      "size": 16,
      "fields": [
        { "name": "count", "offset": 0, "size": 8, "type": "__u64" },
        { "name": "bytes", "offset": 8, "size": 8, "type": "__u64" }
      ]
    },
    "bl_notify_hdr": {
      "size": 40,
      "fields": [
        { "name": "type", "offset": 0, "size": 1, "type": "__u8" },
        { "name": "subtype", "offset": 1, "size": 1, "type": "__u8" },
        { "name": "source", "offset": 2, "size": 2, "type": "__u16" },
        { "name": "hash", "offset": 4, "size": 4, "type": "__u32" },
        { "name": "len_orig", "offset": 8, "size": 4, "type": "__u32" },
        { "name": "len_cap", "offset": 12, "size": 2, "type": "__u16" },
        { "name": "version", "offset": 14, "size": 1, "type": "__u8" },
        { "name": "pad0", "offset": 15, "size": 1, "type": "__u8" },
        { "name": "ktime_ns", "offset": 16, "size": 8, "type": "__u64" },
        { "name": "ifindex", "offset": 24, "size": 4, "type": "__u32" },
        { "name": "src_identity", "offset": 28, "size": 4, "type": "__u32" },
        { "name": "dst_identity", "offset": 32, "size": 4, "type": "__u32" },
        { "name": "proto", "offset": 36, "size": 2, "type": "__be16" },
        { "name": "pad1", "offset": 38, "size": 2, "type": "__u16" }
      ]
    },
    "bl_policy_entry": {
      "size": 24,
      "fields": [
        { "name": "verdict", "offset": 0, "size": 1, "type": "__u8" },
        { "name": "flags", "offset": 1, "size": 1, "type": "__u8" },
        { "name": "proxy_port", "offset": 2, "size": 2, "type": "__u16" },
        { "name": "cookie", "offset": 4, "size": 4, "type": "__u32" },
        { "name": "packets", "offset": 8, "size": 8, "type": "__u64" },
        { "name": "bytes", "offset": 16, "size": 8, "type": "__u64" }
      ]
    },
    "bl_policy_key": {
      "size": 20,
      "fields": [
        { "name": "prefixlen", "offset": 0, "size": 4, "type": "__u32" },
        { "name": "ep_id", "offset": 4, "size": 2, "type": "__u16" },
        { "name": "egress", "offset": 6, "size": 1, "type": "__u8" },
        { "name": "pad0", "offset": 7, "size": 1, "type": "__u8" },
        { "name": "sec_identity", "offset": 8, "size": 4, "type": "__u32" },
        { "name": "protocol", "offset": 12, "size": 1, "type": "__u8" },
        { "name": "pad1", "offset": 13, "size": 1, "type": "__u8" },
        { "name": "dport", "offset": 14, "size": 2, "type": "__be16" },
        { "name": "pad2", "offset": 16, "size": 4, "type": "__u32" }
      ]
    },
    "bl_policy_verdict_notify": {
      "size": 192,
      "fields": [
        { "name": "hdr", "offset": 0, "size": 40, "type": "struct bl_notify_hdr" },
        { "name": "remote_identity", "offset": 40, "size": 4, "type": "__u32" },
        { "name": "verdict", "offset": 44, "size": 4, "type": "__s32" },
        { "name": "cookie", "offset": 48, "size": 4, "type": "__u32" },
        { "name": "dport", "offset": 52, "size": 2, "type": "__be16" },
        { "name": "proto", "offset": 54, "size": 1, "type": "__u8" },
        { "name": "dir", "offset": 55, "size": 1, "type": "__u8" },
        { "name": "action", "offset": 56, "size": 1, "type": "__u8" },
        { "name": "match_type", "offset": 57, "size": 1, "type": "__u8" },
        { "name": "dst_id", "offset": 58, "size": 2, "type": "__u16" },
        { "name": "pad0", "offset": 60, "size": 4, "type": "__u32" },
        { "name": "data", "offset": 64, "size": 128, "type": "__u8[128]" }
      ]
    },
    "bl_remote_endpoint_info": {
      "size": 12,
      "fields": [
        { "name": "sec_identity", "offset": 0, "size": 4, "type": "__u32" },
        { "name": "tunnel_endpoint", "offset": 4, "size": 4, "type": "__be32" },
        { "name": "node_id", "offset": 8, "size": 2, "type": "__u16" },
        { "name": "flags", "offset": 10, "size": 1, "type": "__u8" },
        { "name": "pad0", "offset": 11, "size": 1, "type": "__u8" }
      ]
    },
    "bl_trace_notify": {
      "size": 176,
      "fields": [
        { "name": "hdr", "offset": 0, "size": 40, "type": "struct bl_notify_hdr" },
        { "name": "dst_id", "offset": 40, "size": 2, "type": "__u16" },
        { "name": "reason", "offset": 42, "size": 1, "type": "__u8" },
        { "name": "pad0", "offset": 43, "size": 1, "type": "__u8" },
        { "name": "orig_ip4", "offset": 44, "size": 4, "type": "__be32" },
        { "name": "data", "offset": 48, "size": 128, "type": "__u8[128]" }
      ]
    },
    "bl_trace_sock_notify": {
      "size": 72,
      "fields": [
        { "name": "hdr", "offset": 0, "size": 40, "type": "struct bl_notify_hdr" },
        { "name": "sock_cookie", "offset": 40, "size": 8, "type": "__u64" },
        { "name": "cgroup_id", "offset": 48, "size": 8, "type": "__u64" },
        { "name": "dst_ip4", "offset": 56, "size": 4, "type": "__be32" },
        { "name": "dst_port", "offset": 60, "size": 2, "type": "__be16" },
        { "name": "l4_proto", "offset": 62, "size": 1, "type": "__u8" },
        { "name": "pad0", "offset": 63, "size": 1, "type": "__u8" },
        { "name": "orig_ip4", "offset": 64, "size": 4, "type": "__be32" },
        { "name": "orig_port", "offset": 68, "size": 2, "type": "__be16" },
        { "name": "pad1", "offset": 70, "size": 2, "type": "__u16" }
      ]
    }
  },
  "enums": {
    "bl_config_flags": {
      "BL_CFG_TRACE_NOTIFY": 1,
      "BL_CFG_DROP_NOTIFY": 2,
      "BL_CFG_HOST_ROUTING": 4,
      "BL_CFG_POLICY_VERDICT_NOTIFY": 8
    },
    "bl_ct_entry_flags": { "BL_CT_F_RX_CLOSING": 1, "BL_CT_F_TX_CLOSING": 2, "BL_CT_F_SEEN_NON_SYN": 4, "BL_CT_F_FROM_PROXY": 8 },
    "bl_ct_timeouts": {
      "BL_CT_REPORT_INTERVAL": 5,
      "BL_CT_CLOSE_TIMEOUT": 10,
      "BL_CT_LIFETIME_NONTCP": 60,
      "BL_CT_SYN_TIMEOUT": 60,
      "BL_CT_LIFETIME_TCP": 21600
    },
    "bl_ct_tuple_flags": { "BL_CT_TUPLE_F_OUT": 0, "BL_CT_TUPLE_F_IN": 1, "BL_CT_TUPLE_F_SERVICE": 2 },
    "bl_direction": { "BL_DIR_UNKNOWN": 0, "BL_DIR_INGRESS": 1, "BL_DIR_EGRESS": 2 },
    "bl_drop_reason": {
      "BL_DROP_SUCCESS": 0,
      "BL_DROP_INVALID_SMAC": 130,
      "BL_DROP_INVALID_DMAC": 131,
      "BL_DROP_INVALID_SIP": 132,
      "BL_DROP_POLICY": 133,
      "BL_DROP_INVALID": 134,
      "BL_DROP_CT_INVALID_HDR": 135,
      "BL_DROP_FRAG_NEEDED": 136,
      "BL_DROP_CT_UNKNOWN_PROTO": 137,
      "BL_DROP_UNKNOWN_L3": 139,
      "BL_DROP_MISSED_TAIL_CALL": 140,
      "BL_DROP_WRITE_ERROR": 141,
      "BL_DROP_UNKNOWN_L4": 142,
      "BL_DROP_UNKNOWN_ICMP4_CODE": 143,
      "BL_DROP_UNKNOWN_ICMP4_TYPE": 144,
      "BL_DROP_UNKNOWN_ICMP6_CODE": 145,
      "BL_DROP_UNKNOWN_ICMP6_TYPE": 146,
      "BL_DROP_NO_TUNNEL_KEY": 147,
      "BL_DROP_UNKNOWN_TARGET": 150,
      "BL_DROP_UNROUTABLE": 151,
      "BL_DROP_CSUM_L3": 153,
      "BL_DROP_CSUM_L4": 154,
      "BL_DROP_CT_CREATE_FAILED": 155,
      "BL_DROP_INVALID_EXTHDR": 156,
      "BL_DROP_FRAG_NOSUPPORT": 157,
      "BL_DROP_NO_SERVICE": 158,
      "BL_DROP_UNSUPP_SERVICE_PROTO": 159,
      "BL_DROP_NO_TUNNEL_ENDPOINT": 160,
      "BL_DROP_UNKNOWN_CT": 163,
      "BL_DROP_HOST_UNREACHABLE": 164,
      "BL_DROP_NO_CONFIG": 165,
      "BL_DROP_UNSUPPORTED_L2": 166,
      "BL_DROP_NAT_NO_MAPPING": 167,
      "BL_DROP_NAT_UNSUPP_PROTO": 168,
      "BL_DROP_NO_FIB": 169,
      "BL_DROP_INVALID_IDENTITY": 171,
      "BL_DROP_UNKNOWN_SENDER": 172,
      "BL_DROP_FRAG_NOT_FOUND": 175,
      "BL_DROP_SOCKET_LOOKUP_FAILED": 178,
      "BL_DROP_SOCKET_ASSIGN_FAILED": 179,
      "BL_DROP_POLICY_DENY": 181,
      "BL_DROP_INVALID_VNI": 183,
      "BL_DROP_POLICY_AUTH_REQUIRED": 189,
      "BL_DROP_TTL_EXCEEDED": 196,
      "BL_DROP_RATE_LIMITED": 198
    },
    "bl_endpoint_flags": { "BL_EP_F_POLICY_INGRESS": 1, "BL_EP_F_POLICY_EGRESS": 2, "BL_EP_F_POLICY_AUDIT": 4 },
    "bl_event_type": {
      "BL_EVENT_UNSPEC": 0,
      "BL_EVENT_DROP": 1,
      "BL_EVENT_DEBUG": 2,
      "BL_EVENT_CAPTURE": 3,
      "BL_EVENT_TRACE": 4,
      "BL_EVENT_POLICY_VERDICT": 5,
      "BL_EVENT_RECORD_CAPTURE": 6,
      "BL_EVENT_TRACE_SOCK": 7
    },
    "bl_forward_reason": { "BL_REASON_FORWARDED": 0 },
    "bl_ipcache_flags": { "BL_IPCACHE_F_AUTH_REQUIRED": 1 },
    "bl_lb_backend_state": { "BL_LB_BACKEND_ACTIVE": 0, "BL_LB_BACKEND_TERMINATING": 1 },
    "bl_lb_flags": {
      "BL_LB_F_AFFINITY": 1,
      "BL_LB_F_NODEPORT": 2,
      "BL_LB_F_LOADBALANCER": 4,
      "BL_LB_F_EXTERNAL_IP": 8,
      "BL_LB_F_LOCAL": 16,
      "BL_LB_F_MAGLEV": 32,
      "BL_LB_F_L7": 64
    },
    "bl_lb_hash": { "BL_LB_HASH_SEED_TUPLE": 1651273063, "BL_LB_HASH_SEED_SOCK": 1651274603 },
    "bl_lb_limits": {
      "BL_LB_MAGLEV_TABLE_SIZE_DEFAULT": 16381,
      "BL_LB4_AFFINITY_MAX_ENTRIES": 65536,
      "BL_LB4_BACKENDS_MAX_ENTRIES": 65536,
      "BL_LB4_NODEPORT_NAT_MAX_ENTRIES": 65536,
      "BL_LB4_NODEPORT_SNAT_MAX_ENTRIES": 65536,
      "BL_LB4_REVERSE_NAT_MAX_ENTRIES": 65536,
      "BL_LB4_REVERSE_SK_MAX_ENTRIES": 65536,
      "BL_LB4_SERVICES_MAX_ENTRIES": 65536,
      "BL_LB4_MAGLEV_MAX_ENTRIES": 1048576
    },
    "bl_limits": {
      "BL_EVENTS_LOST_MAX_ENTRIES": 8,
      "BL_TRACE_CAPTURE_LEN": 128,
      "BL_METRICS_MAX_ENTRIES": 1024,
      "BL_LXC_MAX_ENTRIES": 4096,
      "BL_IPCACHE_MAX_ENTRIES": 16384,
      "BL_CT_MAX_ENTRIES_DEFAULT": 65536,
      "BL_EVENTS_RINGBUF_SIZE": 1048576
    },
    "bl_nodeport_snat": { "BL_NODEPORT_SNAT_RETRIES": 32, "BL_NODEPORT_SNAT_PORT_MIN": 32768, "BL_NODEPORT_SNAT_PORT_MAX": 65535 },
    "bl_notify_version": { "BL_NOTIFY_VERSION": 1 },
    "bl_policy_action": { "BL_POLICY_ACTION_ALLOW": 0, "BL_POLICY_ACTION_DENY": 1, "BL_POLICY_ACTION_AUDIT": 2 },
    "bl_policy_entry_flags": { "BL_POLICY_F_ANY_PROTO": 1, "BL_POLICY_F_ANY_PORT": 2, "BL_POLICY_F_AUTH_REQUIRED": 4 },
    "bl_policy_limits": {
      "BL_POLICY_L3_PREFIXLEN": 64,
      "BL_POLICY_PROTO_PREFIXLEN": 80,
      "BL_POLICY_FULL_PREFIXLEN": 96,
      "BL_POLICY_EP_MAX_ENTRIES_DEFAULT": 16384,
      "BL_POLICY_MAX_ENTRIES_DEFAULT": 262144
    },
    "bl_policy_match": {
      "BL_POLICY_MATCH_NONE": 0,
      "BL_POLICY_MATCH_L3_ONLY": 1,
      "BL_POLICY_MATCH_L3_L4": 2,
      "BL_POLICY_MATCH_L4_ONLY": 3,
      "BL_POLICY_MATCH_ALL": 4
    },
    "bl_policy_verdict": { "BL_POLICY_ALLOW": 1, "BL_POLICY_DENY": 2, "BL_POLICY_DEFAULT_DENY": 3 },
    "bl_proxy_consts": {
      "BL_PROXY_RULE_PREF": 9,
      "BL_PROXY_MARK": 512,
      "BL_PROXY_ROUTE_TABLE": 2004,
      "BL_PROXY_MARK_MASK": 3840
    },
    "bl_reserved_identity": { "BL_IDENTITY_HOST": 1, "BL_IDENTITY_WORLD": 2, "BL_IDENTITY_REMOTE_NODE": 6 },
    "bl_routing_mode": { "BL_ROUTING_UNSET": 0, "BL_ROUTING_TUNNEL": 1, "BL_ROUTING_NATIVE": 2 },
    "bl_sock_xlate_point": {
      "BL_SOCK_XLATE_UNKNOWN": 0,
      "BL_SOCK_XLATE_PRE_FWD": 1,
      "BL_SOCK_XLATE_POST_FWD": 2,
      "BL_SOCK_XLATE_PRE_REV": 3,
      "BL_SOCK_XLATE_POST_REV": 4
    },
    "bl_source_file": { "BL_FILE_UNKNOWN": 0, "BL_FILE_HOST": 1, "BL_FILE_LXC": 2, "BL_FILE_OVERLAY": 3 },
    "bl_trace_aggregation": {
      "BL_TRACE_AGG_NONE": 0,
      "BL_TRACE_AGG_LOWEST": 1,
      "BL_TRACE_AGG_LOW": 2,
      "BL_TRACE_AGG_MEDIUM": 3,
      "BL_TRACE_AGG_MAXIMUM": 4
    },
    "bl_trace_point": {
      "BL_TRACE_TO_LXC": 0,
      "BL_TRACE_TO_PROXY": 1,
      "BL_TRACE_TO_HOST": 2,
      "BL_TRACE_TO_STACK": 3,
      "BL_TRACE_TO_OVERLAY": 4,
      "BL_TRACE_FROM_LXC": 5,
      "BL_TRACE_FROM_PROXY": 6,
      "BL_TRACE_FROM_HOST": 7,
      "BL_TRACE_FROM_STACK": 8,
      "BL_TRACE_FROM_OVERLAY": 9,
      "BL_TRACE_FROM_NETWORK": 10,
      "BL_TRACE_TO_NETWORK": 11,
      "BL_TRACE_FROM_CRYPTO": 12,
      "BL_TRACE_TO_CRYPTO": 13
    },
    "bl_trace_reason": {
      "BL_TRACE_REASON_POLICY": 0,
      "BL_TRACE_REASON_CT_ESTABLISHED": 1,
      "BL_TRACE_REASON_CT_REPLY": 2,
      "BL_TRACE_REASON_CT_RELATED": 3,
      "BL_TRACE_REASON_UNKNOWN": 5
    }
  },
  "objects": {
    "host": {
      "file": "host.bpf.o",
      "license": "Dual BSD/GPL",
      "maps": {
        "bl_ct4": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_ct4_key",
          "keySize": 16,
          "value": "struct bl_ct_entry",
          "valueSize": 56,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_events": {
          "type": "BPF_MAP_TYPE_RINGBUF",
          "key": null,
          "keySize": 0,
          "value": null,
          "valueSize": 0,
          "maxEntries": 1048576,
          "flags": 0
        },
        "bl_events_lost": {
          "type": "BPF_MAP_TYPE_PERCPU_ARRAY",
          "key": "__u32",
          "keySize": 4,
          "value": "__u64",
          "valueSize": 8,
          "maxEntries": 8,
          "flags": 0
        },
        "bl_ipcache": {
          "type": "BPF_MAP_TYPE_LPM_TRIE",
          "key": "struct bl_ipcache_key",
          "keySize": 8,
          "value": "struct bl_remote_endpoint_info",
          "valueSize": 12,
          "maxEntries": 16384,
          "flags": 1
        },
        "bl_lb4_affinity": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_affinity_key",
          "keySize": 16,
          "value": "struct bl_lb4_affinity",
          "valueSize": 16,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_backends": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "__u32",
          "keySize": 4,
          "value": "struct bl_lb4_backend",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 1
        },
        "bl_lb4_maglev": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "struct bl_lb4_maglev_key",
          "keySize": 8,
          "value": "__u32",
          "valueSize": 4,
          "maxEntries": 1048576,
          "flags": 1
        },
        "bl_lb4_nodeport_nat": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_nodeport_nat_key",
          "keySize": 12,
          "value": "struct bl_lb4_nodeport_nat",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_nodeport_snat": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_nodeport_snat_key",
          "keySize": 16,
          "value": "struct bl_lb4_nodeport_snat",
          "valueSize": 4,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_reverse_nat": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "__u16",
          "keySize": 2,
          "value": "struct bl_lb4_reverse_nat",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_reverse_sk": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_reverse_sk_key",
          "keySize": 16,
          "value": "struct bl_lb4_reverse_sk",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_services": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "struct bl_lb4_key",
          "keySize": 12,
          "value": "struct bl_lb4_service",
          "valueSize": 16,
          "maxEntries": 65536,
          "flags": 1
        },
        "bl_lxc": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "struct bl_endpoint_key",
          "keySize": 8,
          "value": "struct bl_endpoint_info",
          "valueSize": 24,
          "maxEntries": 4096,
          "flags": 0
        },
        "bl_metrics": {
          "type": "BPF_MAP_TYPE_PERCPU_HASH",
          "key": "struct bl_metrics_key",
          "keySize": 8,
          "value": "struct bl_metrics_value",
          "valueSize": 16,
          "maxEntries": 1024,
          "flags": 0
        },
        "bl_policy": {
          "type": "BPF_MAP_TYPE_LPM_TRIE",
          "key": "struct bl_policy_key",
          "keySize": 20,
          "value": "struct bl_policy_entry",
          "valueSize": 24,
          "maxEntries": 262144,
          "flags": 1
        }
      },
      "programs": { "bl_from_netdev": { "section": "tc" }, "bl_to_netdev": { "section": "tc" } },
      "globals": {
        "bl_lb_maglev_table_size": { "section": ".rodata", "offset": 0, "size": 4, "type": "__u32" },
        "bl_config": { "section": ".rodata", "offset": 4, "size": 40, "type": "struct bl_datapath_config" }
      }
    },
    "lxc": {
      "file": "lxc.bpf.o",
      "license": "Dual BSD/GPL",
      "maps": {
        "bl_ct4": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_ct4_key",
          "keySize": 16,
          "value": "struct bl_ct_entry",
          "valueSize": 56,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_events": {
          "type": "BPF_MAP_TYPE_RINGBUF",
          "key": null,
          "keySize": 0,
          "value": null,
          "valueSize": 0,
          "maxEntries": 1048576,
          "flags": 0
        },
        "bl_events_lost": {
          "type": "BPF_MAP_TYPE_PERCPU_ARRAY",
          "key": "__u32",
          "keySize": 4,
          "value": "__u64",
          "valueSize": 8,
          "maxEntries": 8,
          "flags": 0
        },
        "bl_ipcache": {
          "type": "BPF_MAP_TYPE_LPM_TRIE",
          "key": "struct bl_ipcache_key",
          "keySize": 8,
          "value": "struct bl_remote_endpoint_info",
          "valueSize": 12,
          "maxEntries": 16384,
          "flags": 1
        },
        "bl_lb4_affinity": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_affinity_key",
          "keySize": 16,
          "value": "struct bl_lb4_affinity",
          "valueSize": 16,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_backends": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "__u32",
          "keySize": 4,
          "value": "struct bl_lb4_backend",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 1
        },
        "bl_lb4_maglev": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "struct bl_lb4_maglev_key",
          "keySize": 8,
          "value": "__u32",
          "valueSize": 4,
          "maxEntries": 1048576,
          "flags": 1
        },
        "bl_lb4_nodeport_nat": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_nodeport_nat_key",
          "keySize": 12,
          "value": "struct bl_lb4_nodeport_nat",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_nodeport_snat": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_nodeport_snat_key",
          "keySize": 16,
          "value": "struct bl_lb4_nodeport_snat",
          "valueSize": 4,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_reverse_nat": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "__u16",
          "keySize": 2,
          "value": "struct bl_lb4_reverse_nat",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_reverse_sk": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_reverse_sk_key",
          "keySize": 16,
          "value": "struct bl_lb4_reverse_sk",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_services": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "struct bl_lb4_key",
          "keySize": 12,
          "value": "struct bl_lb4_service",
          "valueSize": 16,
          "maxEntries": 65536,
          "flags": 1
        },
        "bl_lxc": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "struct bl_endpoint_key",
          "keySize": 8,
          "value": "struct bl_endpoint_info",
          "valueSize": 24,
          "maxEntries": 4096,
          "flags": 0
        },
        "bl_metrics": {
          "type": "BPF_MAP_TYPE_PERCPU_HASH",
          "key": "struct bl_metrics_key",
          "keySize": 8,
          "value": "struct bl_metrics_value",
          "valueSize": 16,
          "maxEntries": 1024,
          "flags": 0
        },
        "bl_policy": {
          "type": "BPF_MAP_TYPE_LPM_TRIE",
          "key": "struct bl_policy_key",
          "keySize": 20,
          "value": "struct bl_policy_entry",
          "valueSize": 24,
          "maxEntries": 262144,
          "flags": 1
        }
      },
      "programs": { "bl_from_container": { "section": "tc" }, "bl_to_container": { "section": "tc" } },
      "globals": {
        "bl_lb_maglev_table_size": { "section": ".rodata", "offset": 0, "size": 4, "type": "__u32" },
        "bl_config": { "section": ".rodata", "offset": 4, "size": 40, "type": "struct bl_datapath_config" }
      }
    },
    "overlay": {
      "file": "overlay.bpf.o",
      "license": "Dual BSD/GPL",
      "maps": {
        "bl_ct4": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_ct4_key",
          "keySize": 16,
          "value": "struct bl_ct_entry",
          "valueSize": 56,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_events": {
          "type": "BPF_MAP_TYPE_RINGBUF",
          "key": null,
          "keySize": 0,
          "value": null,
          "valueSize": 0,
          "maxEntries": 1048576,
          "flags": 0
        },
        "bl_events_lost": {
          "type": "BPF_MAP_TYPE_PERCPU_ARRAY",
          "key": "__u32",
          "keySize": 4,
          "value": "__u64",
          "valueSize": 8,
          "maxEntries": 8,
          "flags": 0
        },
        "bl_ipcache": {
          "type": "BPF_MAP_TYPE_LPM_TRIE",
          "key": "struct bl_ipcache_key",
          "keySize": 8,
          "value": "struct bl_remote_endpoint_info",
          "valueSize": 12,
          "maxEntries": 16384,
          "flags": 1
        },
        "bl_lb4_affinity": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_affinity_key",
          "keySize": 16,
          "value": "struct bl_lb4_affinity",
          "valueSize": 16,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_backends": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "__u32",
          "keySize": 4,
          "value": "struct bl_lb4_backend",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 1
        },
        "bl_lb4_maglev": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "struct bl_lb4_maglev_key",
          "keySize": 8,
          "value": "__u32",
          "valueSize": 4,
          "maxEntries": 1048576,
          "flags": 1
        },
        "bl_lb4_nodeport_nat": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_nodeport_nat_key",
          "keySize": 12,
          "value": "struct bl_lb4_nodeport_nat",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_nodeport_snat": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_nodeport_snat_key",
          "keySize": 16,
          "value": "struct bl_lb4_nodeport_snat",
          "valueSize": 4,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_reverse_nat": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "__u16",
          "keySize": 2,
          "value": "struct bl_lb4_reverse_nat",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_reverse_sk": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_reverse_sk_key",
          "keySize": 16,
          "value": "struct bl_lb4_reverse_sk",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_services": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "struct bl_lb4_key",
          "keySize": 12,
          "value": "struct bl_lb4_service",
          "valueSize": 16,
          "maxEntries": 65536,
          "flags": 1
        },
        "bl_lxc": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "struct bl_endpoint_key",
          "keySize": 8,
          "value": "struct bl_endpoint_info",
          "valueSize": 24,
          "maxEntries": 4096,
          "flags": 0
        },
        "bl_metrics": {
          "type": "BPF_MAP_TYPE_PERCPU_HASH",
          "key": "struct bl_metrics_key",
          "keySize": 8,
          "value": "struct bl_metrics_value",
          "valueSize": 16,
          "maxEntries": 1024,
          "flags": 0
        },
        "bl_policy": {
          "type": "BPF_MAP_TYPE_LPM_TRIE",
          "key": "struct bl_policy_key",
          "keySize": 20,
          "value": "struct bl_policy_entry",
          "valueSize": 24,
          "maxEntries": 262144,
          "flags": 1
        }
      },
      "programs": { "bl_from_overlay": { "section": "tc" }, "bl_to_overlay": { "section": "tc" } },
      "globals": {
        "bl_lb_maglev_table_size": { "section": ".rodata", "offset": 0, "size": 4, "type": "__u32" },
        "bl_config": { "section": ".rodata", "offset": 4, "size": 40, "type": "struct bl_datapath_config" }
      }
    },
    "sock": {
      "file": "sock.bpf.o",
      "license": "Dual BSD/GPL",
      "maps": {
        "bl_ct4": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_ct4_key",
          "keySize": 16,
          "value": "struct bl_ct_entry",
          "valueSize": 56,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_events": {
          "type": "BPF_MAP_TYPE_RINGBUF",
          "key": null,
          "keySize": 0,
          "value": null,
          "valueSize": 0,
          "maxEntries": 1048576,
          "flags": 0
        },
        "bl_events_lost": {
          "type": "BPF_MAP_TYPE_PERCPU_ARRAY",
          "key": "__u32",
          "keySize": 4,
          "value": "__u64",
          "valueSize": 8,
          "maxEntries": 8,
          "flags": 0
        },
        "bl_ipcache": {
          "type": "BPF_MAP_TYPE_LPM_TRIE",
          "key": "struct bl_ipcache_key",
          "keySize": 8,
          "value": "struct bl_remote_endpoint_info",
          "valueSize": 12,
          "maxEntries": 16384,
          "flags": 1
        },
        "bl_lb4_affinity": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_affinity_key",
          "keySize": 16,
          "value": "struct bl_lb4_affinity",
          "valueSize": 16,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_backends": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "__u32",
          "keySize": 4,
          "value": "struct bl_lb4_backend",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 1
        },
        "bl_lb4_maglev": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "struct bl_lb4_maglev_key",
          "keySize": 8,
          "value": "__u32",
          "valueSize": 4,
          "maxEntries": 1048576,
          "flags": 1
        },
        "bl_lb4_nodeport_nat": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_nodeport_nat_key",
          "keySize": 12,
          "value": "struct bl_lb4_nodeport_nat",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_nodeport_snat": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_nodeport_snat_key",
          "keySize": 16,
          "value": "struct bl_lb4_nodeport_snat",
          "valueSize": 4,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_reverse_nat": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "__u16",
          "keySize": 2,
          "value": "struct bl_lb4_reverse_nat",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_reverse_sk": {
          "type": "BPF_MAP_TYPE_LRU_HASH",
          "key": "struct bl_lb4_reverse_sk_key",
          "keySize": 16,
          "value": "struct bl_lb4_reverse_sk",
          "valueSize": 8,
          "maxEntries": 65536,
          "flags": 0
        },
        "bl_lb4_services": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "struct bl_lb4_key",
          "keySize": 12,
          "value": "struct bl_lb4_service",
          "valueSize": 16,
          "maxEntries": 65536,
          "flags": 1
        },
        "bl_lxc": {
          "type": "BPF_MAP_TYPE_HASH",
          "key": "struct bl_endpoint_key",
          "keySize": 8,
          "value": "struct bl_endpoint_info",
          "valueSize": 24,
          "maxEntries": 4096,
          "flags": 0
        },
        "bl_metrics": {
          "type": "BPF_MAP_TYPE_PERCPU_HASH",
          "key": "struct bl_metrics_key",
          "keySize": 8,
          "value": "struct bl_metrics_value",
          "valueSize": 16,
          "maxEntries": 1024,
          "flags": 0
        },
        "bl_policy": {
          "type": "BPF_MAP_TYPE_LPM_TRIE",
          "key": "struct bl_policy_key",
          "keySize": 20,
          "value": "struct bl_policy_entry",
          "valueSize": 24,
          "maxEntries": 262144,
          "flags": 1
        }
      },
      "programs": {
        "bl_sock4_connect": { "section": "cgroup/connect4" },
        "bl_sock4_getpeername": { "section": "cgroup/getpeername4" },
        "bl_sock4_recvmsg": { "section": "cgroup/recvmsg4" },
        "bl_sock4_sendmsg": { "section": "cgroup/sendmsg4" }
      },
      "globals": {
        "bl_lb_maglev_table_size": { "section": ".rodata", "offset": 0, "size": 4, "type": "__u32" },
        "bl_sock_node_netns": { "section": ".rodata", "offset": 8, "size": 8, "type": "__u64" }
      }
    }
  }
} as const;
// abi-manifest:end

/** sha256 of the manifest: objects with the same hash share the same ABI. */
export const ABI_HASH = '602dbcc784cf079b438a287f7ca4b07675a425ff5272316ca4e82f2fa7f748aa';

// ---- helpers

function view(buf: Uint8Array, off: number, size: number, what: string): Buffer {
  if (!Number.isInteger(off) || off < 0 || off + size > buf.length) {
    throw new RangeError(`${what}: needs ${size} bytes at offset ${off}, the buffer has ${buf.length}`);
  }
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

function target(buf: Buffer | undefined, off: number, size: number, what: string): Buffer {
  const b = buf ?? Buffer.alloc(off + size);
  view(b, off, size, what);
  // Zero the whole struct first: padding and anything not written stays 0.
  b.fill(0, off, off + size);
  return b;
}

function putBytes(b: Buffer, off: number, size: number, value: Uint8Array, what: string): void {
  if (value.length > size) throw new RangeError(`${what}: ${value.length} bytes do not fit in ${size}`);
  b.set(value, off);
}

/** A view of the bytes, not a copy: a decoded value shares the buffer it came from (every record and map value is a fresh buffer). */
function getBytes(b: Buffer, off: number, size: number): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset + off, size);
}

function nameTable(values: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(values)) if (!m.has(v)) m.set(v, k);
  return m;
}
