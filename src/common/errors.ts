/**
 * Errors with stable codes. Every failure the user can see is a BeelineError
 * subclass whose `code` never changes once released (docs/errors.md lists them).
 * Messages read as an operation path plus, where useful, a hint:
 *   `lab up demo: create namespace bl-demo-node1: File exists (is a lab named demo already up?)`
 */
export class BeelineError extends Error {
  /** Stable, documented, machine-readable code, e.g. `BL_ERR_LAB_NOT_FOUND`. */
  readonly code: string;
  /** What the user can do about it; printed after the message. */
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }

  /** One line: `message (hint)`. */
  describe(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/** A command-line usage mistake: unknown flag, missing argument, bad value. */
export class UsageError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_USAGE', message, { hint });
  }
}

/** No lab by that name is up, or no lab at all. */
export class LabNotFoundError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_LAB_NOT_FOUND', message, { hint });
  }
}

/** A lab is already up under that name, or its resources are in the way. */
export class LabExistsError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_LAB_EXISTS', message, { hint });
  }
}

/** Several labs are up and the command did not say which. */
export class LabAmbiguousError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_LAB_AMBIGUOUS', message, { hint });
  }
}

/** A step of building or tearing down a lab failed. */
export class LabStepError extends BeelineError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('BL_ERR_LAB_STEP', message, options);
  }
}

/** An external command (ip, etcd, …) exited non-zero or could not start. */
export class CommandError extends BeelineError {
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(message: string, exitCode: number | null, stderr: string, hint?: string) {
    super('BL_ERR_COMMAND', message, { hint });
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** The program needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_BPF). */
export class PermissionError extends BeelineError {
  constructor(message: string, hint = 'run as root') {
    super('BL_ERR_PERMISSION', message, { hint });
  }
}

/** Something would touch the machine's own root network namespace. Never allowed. */
export class HostSafetyError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_HOST_SAFETY', message, { hint });
  }
}

/** The kernel lacks a feature the datapath needs (found by a probe). */
export class FeatureMissingError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_FEATURE_MISSING', message, { hint });
  }
}

/** A libbpf / bpf(2) operation failed. `errno` is the positive errno value. */
export class BpfError extends BeelineError {
  readonly errno: number;
  /** Verifier log, when the failure was a program load. */
  readonly verifierLog: string | undefined;
  constructor(message: string, errno: number, options: { hint?: string; verifierLog?: string } = {}) {
    super('BL_ERR_BPF', message, { hint: options.hint });
    this.errno = errno;
    this.verifierLog = options.verifierLog;
  }
}

/**
 * A socket operation of the native boundary failed (src/datapath/native/sockets.ts:
 * the node proxies' transparent sockets). `errno` is the positive errno value.
 */
export class SocketError extends BeelineError {
  readonly errno: number;
  constructor(message: string, errno: number, hint?: string) {
    super('BL_ERR_SOCKET', message, { hint });
    this.errno = errno;
  }
}

/** A struct crossing the kernel boundary does not match the generated codec. */
export class AbiMismatchError extends BeelineError {
  constructor(message: string, hint = 'rebuild with `make build` (it regenerates src/datapath/generated)') {
    super('BL_ERR_ABI_MISMATCH', message, { hint });
  }
}

/** A network device the datapath needs is missing or not as expected. */
export class DeviceError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_DEVICE', message, { hint });
  }
}

/** The node agent could not be reached or answered with an error. */
export class AgentUnreachableError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_AGENT_UNREACHABLE', message, { hint });
  }
}

/** The node's pod CIDR has no free address left (every usable one is held by an owner). */
export class IpamExhaustedError extends BeelineError {
  constructor(message: string, hint = 'release addresses of pods that are gone (CNI DEL), or give the node a larger pod CIDR') {
    super('BL_ERR_IPAM_EXHAUSTED', message, { hint });
  }
}

/** An address or owner is already taken: a restore or specific allocation collides with a live one. */
export class IpamConflictError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_IPAM_CONFLICT', message, { hint });
  }
}

/** A CIDR, address, owner or saved IPAM state is malformed or outside the pool. */
export class IpamInvalidError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_IPAM_INVALID', message, { hint });
  }
}

/** IPAM state could not be read from or written to its file. */
export class IpamStoreError extends BeelineError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('BL_ERR_IPAM_STORE', message, options);
  }
}

/** Every per-node CIDR of the cluster pool is claimed by some node. */
export class ClusterPoolExhaustedError extends BeelineError {
  constructor(message: string, hint = 'release CIDRs of nodes that are gone, or use a larger cluster pool or mask size') {
    super('BL_ERR_IPAM_POOL_EXHAUSTED', message, { hint });
  }
}

/**
 * A CNI operation failed. `cniCode` is the code of the CNI error object the
 * plugin prints (the spec's well-known 1-11, or beeline's 100+; docs/errors.md).
 */
export class CniError extends BeelineError {
  readonly cniCode: number;
  /** The longer explanation printed as the error object's `details`. */
  readonly details: string | undefined;
  constructor(cniCode: number, message: string, options: { details?: string; hint?: string; cause?: unknown } = {}) {
    super('BL_ERR_CNI', message, { hint: options.hint, cause: options.cause });
    this.cniCode = cniCode;
    this.details = options.details;
  }
}

/** A lab pod of that name already exists. */
export class PodExistsError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_POD_EXISTS', message, { hint });
  }
}

/** No lab pod of that name. */
export class PodNotFoundError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_POD_NOT_FOUND', message, { hint });
  }
}

/** `exec`/`logs` on a pod that no node runs yet (not scheduled, or its sandbox is not up). */
export class PodNotScheduledError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_POD_NOT_SCHEDULED', message, { hint });
  }
}

/** `exec` into a container that is not running (waiting, crash-looping, terminated) or does not exist. */
export class ContainerNotRunningError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_CONTAINER_NOT_RUNNING', message, { hint });
  }
}

/** A label, label set, label filter pattern or identity number is malformed or out of range. */
export class IdentityInvalidError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_IDENTITY_INVALID', message, { hint });
  }
}

/** Every numeric identity of the range is allocated (cluster scope 256-65535, or the local CIDR range). */
export class IdentityExhaustedError extends BeelineError {
  constructor(message: string, hint = 'remove endpoints whose label sets are no longer needed and let identity GC run') {
    super('BL_ERR_IDENTITY_EXHAUSTED', message, { hint });
  }
}

/** The identity allocator could not read or write the store, or the store holds inconsistent identity keys. */
export class IdentityStoreError extends BeelineError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('BL_ERR_IDENTITY_STORE', message, options);
  }
}

/** An ipcache entry (prefix, identity, host IP) is malformed. */
export class IpcacheInvalidError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_IPCACHE_INVALID', message, { hint });
  }
}

/** The store has no object of that kind, namespace and name. */
export class StoreNotFoundError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_STORE_NOT_FOUND', message, { hint });
  }
}

/** Create of an object that already exists. */
export class StoreAlreadyExistsError extends BeelineError {
  constructor(message: string, hint = 'update it instead, or delete it first') {
    super('BL_ERR_STORE_EXISTS', message, { hint });
  }
}

/** A write named a resourceVersion the object no longer has (someone else changed it): read again and retry. */
export class StoreConflictError extends BeelineError {
  constructor(message: string, hint = 'the object changed since it was read; get it again and retry') {
    super('BL_ERR_STORE_CONFLICT', message, { hint });
  }
}

/** A watch asked for a version the store no longer has (compacted; HTTP 410 Gone): list again. */
export class StoreExpiredError extends BeelineError {
  constructor(message: string, hint = 'list again and watch from the new resourceVersion') {
    super('BL_ERR_STORE_EXPIRED', message, { hint });
  }
}

/** An object the store cannot hold: unknown kind, missing or malformed name or namespace, bad selector. */
export class StoreInvalidError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_STORE_INVALID', message, { hint });
  }
}

/**
 * A batch (one `apply -f` file) is larger than the store takes in one
 * transaction: etcd's `--max-txn-ops` or `--max-request-bytes`. The
 * transaction was refused whole, so nothing of the batch was written.
 */
export class StoreTxnLimitError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_STORE_TXN_LIMIT', message, { hint });
  }
}

/** The store (etcd or the Kubernetes API server) did not answer or failed. */
export class StoreUnavailableError extends BeelineError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('BL_ERR_STORE_UNAVAILABLE', message, options);
  }
}

/** One problem with one object of a manifest, with the field path the apiserver would give. */
export interface ValidationIssue {
  /** Where the object came from: `app.yaml#2` (file, 1-based document), `-#1` for stdin. */
  source: string;
  kind: string;
  /** Empty for cluster-scoped kinds or when unknown. */
  namespace: string;
  name: string;
  /** `spec.ingress[0].toPorts[0].ports[0].port`; empty for the object as a whole. */
  path: string;
  message: string;
}

/** `<source>: <Kind>/<namespace>/<name>: <path>: <message>` (namespace left out for cluster-scoped objects). */
export function formatValidationIssue(i: ValidationIssue): string {
  const obj = [i.kind || '?', ...(i.namespace ? [i.namespace] : []), i.name || '?'].join('/');
  return `${i.source}: ${obj}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

/** Warnings of one (kind, path, message) printed object by object before they are summed up. */
export const WARNINGS_SHOWN_PER_KIND = 3;

/**
 * `Warning:` lines for apply, kubectl-style, one per object and field; the
 * same warning on many objects of one kind (10,000 HTTPRoutes) is shown for
 * the first WARNINGS_SHOWN_PER_KIND of them, then summed up in one line, so
 * the warning is said without drowning the output.
 */
export function warningLines(issues: readonly ValidationIssue[]): string[] {
  const groups = new Map<string, ValidationIssue[]>();
  for (const i of issues) {
    const key = JSON.stringify([i.kind, i.path, i.message]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  const out: string[] = [];
  for (const g of groups.values()) {
    for (const i of g.slice(0, WARNINGS_SHOWN_PER_KIND)) out.push(`Warning: ${formatValidationIssue(i)}`);
    const more = g.length - WARNINGS_SHOWN_PER_KIND;
    if (more > 0) out.push(`Warning: … and ${more} more ${g[0]!.kind || 'object'}${more === 1 ? '' : 's'} with the same warning: ${g[0]!.path ? `${g[0]!.path}: ` : ''}${g[0]!.message}`);
  }
  return out;
}

/** One or more objects of a manifest are invalid; `issues` lists every problem found. */
export class ValidationError extends BeelineError {
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[], hint?: string) {
    super('BL_ERR_INVALID', issues.map(formatValidationIssue).join('\n'), { hint });
    this.issues = issues;
  }
}

/** An apiVersion/kind (or a kind name on the command line) beeline does not know. */
export class UnknownKindError extends BeelineError {
  readonly issues: ValidationIssue[];
  constructor(message: string, options: { hint?: string; issues?: ValidationIssue[] } = {}) {
    super('BL_ERR_UNKNOWN_KIND', message, { hint: options.hint });
    this.issues = options.issues ?? [];
  }
}

/** A manifest is not well-formed YAML or JSON, or a document in it is not an object. */
export class ManifestParseError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_MANIFEST_PARSE', message, { hint });
  }
}

/** A manifest file or directory could not be read. */
export class ManifestReadError extends BeelineError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('BL_ERR_MANIFEST_READ', message, options);
  }
}

/** Writing an endpoint's policy would exceed the policy map's per-endpoint limit (policyMapMax, Cilium's --bpf-policy-map-max). */
export class PolicyMapFullError extends BeelineError {
  constructor(message: string, hint = 'reduce the rules selecting the endpoint, or raise policyMapMax') {
    super('BL_ERR_POLICY_MAP_FULL', message, { hint });
  }
}

/** A policy map entry is malformed (identity, protocol, port or prefix out of range): a bug in whatever produced it. */
export class PolicyMapInvalidError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_POLICY_MAP_INVALID', message, { hint });
  }
}

/** An HTTP rule (`rules.http` of a CiliumNetworkPolicy port) does not compile for the L7 proxy: a pattern RE2 refuses, a bad header name; names the policy and field. Validation at apply refuses the same rules first. */
export class HttpRuleError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_HTTP_RULE', message, { hint });
  }
}

/**
 * A DNS rule (`rules.dns[]`) or `toFQDNs[]` entry cannot be compiled for the
 * DNS matcher: a character Cilium refuses, an empty label, more than 255
 * characters, no field, or (toFQDNs) both fields. Names the policy and field.
 */
export class DnsRuleError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_DNS_RULE', message, { hint });
  }
}

/** Why a DNS message was refused by the wire decoder (src/l7/dns/wire.ts); stable, for logs and metrics. */
export type DnsWireReason =
  | 'short-header' | 'truncated' | 'label-too-long' | 'name-too-long' | 'bad-label-type'
  | 'bad-pointer' | 'too-many-pointers' | 'bad-rdata' | 'bad-length' | 'frame-too-large' | 'bad-name';

/**
 * A DNS message (or DNS-over-TCP frame) is malformed: the decoder refuses it
 * whole rather than guess. `reason` says which check failed, `offset` where.
 */
export class DnsWireError extends BeelineError {
  readonly reason: DnsWireReason;
  readonly offset: number;
  constructor(reason: DnsWireReason, message: string, offset: number) {
    super('BL_ERR_DNS_WIRE', message);
    this.reason = reason;
    this.offset = offset;
  }
}

/** A flow export setting (path, maxSizeBytes, maxBackups, buffer size) is invalid; names the setting. */
export class FlowExportConfigError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_FLOW_EXPORT_CONFIG', message, { hint });
  }
}

/** A GetFlows whitelist/blacklist entry does not compile (bad IP or CIDR, port, regex, selector, status code, enum); the message names the field. */
export class FlowFilterError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_FLOW_FILTER', message, { hint });
  }
}

/** Wraps anything thrown that is not a BeelineError, so the CLI always has a code. */
/** The Observer gRPC server (a lab's relay or an agent, `--server`) could not be reached. */
export class ObserverUnreachableError extends BeelineError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('BL_ERR_OBSERVER_UNREACHABLE', message, options);
  }
}

/** The Observer gRPC server answered a request with an error (INVALID_ARGUMENT: a filter it rejects). */
export class ObserverRequestError extends BeelineError {
  /** The gRPC status code's name, e.g. `INVALID_ARGUMENT`. */
  readonly grpcCode: string;
  constructor(message: string, grpcCode: string, options: { hint?: string; cause?: unknown } = {}) {
    super('BL_ERR_OBSERVER_REQUEST', message, options);
    this.grpcCode = grpcCode;
  }
}

export function asBeelineError(err: unknown, operation?: string): BeelineError {
  if (err instanceof BeelineError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new BeelineError('BL_ERR_INTERNAL', operation ? `${operation}: ${msg}` : msg, { cause: err });
}

/**
 * A Hubble metrics option (`--hubble-metrics`, e.g. `flow:sourceContext=pod`)
 * names an unknown metric, option, context identifier or context label, or
 * enables two metrics that cannot go together (http and httpV2).
 */
export class MetricsConfigError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_METRICS_CONFIG', message, { hint });
  }
}

/** The metrics server could not listen on an address (taken, no permission, bad path). */
export class MetricsListenError extends BeelineError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('BL_ERR_METRICS_LISTEN', message, options);
  }
}

/** The agent's routes and its API contract (api/agent/agent.proto) disagree: an rpc without a handler, a handler without an rpc, an rpc without an HTTP route. */
export class AgentContractError extends BeelineError {
  constructor(message: string) {
    super('BL_ERR_AGENT_CONTRACT', message);
  }
}

/** The agent's receiver of the node proxy's HTTP records could not bind its UDP address (taken, not local, bad address). */
export class HttpAccessLogListenError extends BeelineError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('BL_ERR_HTTP_ACCESSLOG_LISTEN', message, options);
  }
}

/** A Kafka rule (`rules.kafka` of a CiliumNetworkPolicy port) is invalid for the L7 matcher: both role and apiKey, an unknown role or API key, an apiVersion that is not an int16, a bad topic name; names the policy and field. */
export class KafkaRuleError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_KAFKA_RULE', message, { hint });
  }
}

/**
 * A Kafka frame the node proxy cannot decode: a truncated or oversized frame,
 * an API key or version beeline does not parse, a body that does not match
 * its schema. `reason` says which, for the log and the flow; the proxy closes
 * that one connection (it never forwards what it could not check).
 */
export class KafkaProtocolError extends BeelineError {
  /** `oversized`, `truncated`, `unsupported-key`, `unsupported-version` or `malformed`. */
  readonly reason: 'oversized' | 'truncated' | 'unsupported-key' | 'unsupported-version' | 'malformed';
  constructor(reason: KafkaProtocolError['reason'], message: string) {
    super('BL_ERR_KAFKA_PROTOCOL', message);
    this.reason = reason;
  }
}

/**
 * A request to `beeline ui`'s server it cannot serve: not JSON, too big, an
 * unknown route or file, from another site; `status` is the HTTP status it
 * answers with.
 */
export class UiRequestError extends BeelineError {
  readonly status: number;
  constructor(status: number, message: string, hint?: string) {
    super('BL_ERR_UI_REQUEST', message, { hint });
    this.status = status;
  }
}

/** `beeline ui` has no web app to serve: dist/ui was not built (make ui). */
export class UiNotBuiltError extends BeelineError {
  constructor(message: string) {
    super('BL_ERR_UI_NOT_BUILT', message, { hint: 'run make ui (make build does it)' });
  }
}

/**
 * An endpoint create request has a missing or malformed field; `field` names
 * it (`hostIfname`, `labels.app`, `pod.namespace`, …), as the agent's error
 * reply does.
 */
export class EndpointInvalidError extends BeelineError {
  readonly field: string;
  constructor(field: string, message: string, code = 'BL_ERR_ENDPOINT_INVALID', hint?: string) {
    super(code, message, { hint });
    this.field = field;
  }
}

/**
 * An endpoint request names a host interface that is not the veth CNI made
 * for that container: the node's uplink, the tunnel device, another
 * endpoint's veth, a link of another kind or whose peer is elsewhere.
 */
export class EndpointInterfaceError extends EndpointInvalidError {
  constructor(message: string, hint?: string) {
    super('hostIfname', message, 'BL_ERR_ENDPOINT_INTERFACE', hint);
  }
}

/** An endpoint request's address is not the one the node's IPAM allocated to that container. */
export class EndpointAddressError extends EndpointInvalidError {
  constructor(message: string, hint?: string) {
    super('ipv4', message, 'BL_ERR_ENDPOINT_ADDRESS', hint);
  }
}

/** The node has no endpoint id left. */
export class EndpointLimitError extends BeelineError {
  constructor(message: string) {
    super('BL_ERR_ENDPOINT_LIMIT', message);
  }
}

/** A request body to the agent's API is larger than the route takes (HTTP 413). */
export class RequestTooLargeError extends BeelineError {
  constructor(message: string, hint?: string) {
    super('BL_ERR_REQUEST_TOO_LARGE', message, { hint });
  }
}

/**
 * Another agent runs for this node (it holds the node's lock in the state
 * directory, or answers on the socket): this one does not start, and leaves
 * the datapath, the state and the socket alone.
 */
export class AgentRunningError extends BeelineError {
  constructor(message: string, hint = 'stop the running agent first, or give this one another state directory and socket') {
    super('BL_ERR_AGENT_RUNNING', message, { hint });
  }
}

/** The agent cannot take its node lock at all (the lock file cannot be opened or locked): it does not start. */
export class AgentLockError extends BeelineError {
  constructor(message: string, hint = 'is the state directory writable by the agent, and on a local file system?') {
    super('BL_ERR_AGENT_LOCK', message, { hint });
  }
}

/**
 * The mesh certificate authority (src/mesh/ca.ts) cannot be loaded, created or
 * used: its key file is missing, too open or the wrong size; its stored key
 * does not decrypt (wrong key file, tampered ciphertext or certificate); or a
 * request to issue is invalid (bad SPIFFE name parts, CSR, key or lifetime).
 */
export class MeshCaError extends BeelineError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('BL_ERR_MESH_CA', message, options);
  }
}
