/**
 * The CNI protocol as beeline speaks it (CNI spec 1.1.0 and 1.0.0, and the 0.3.x/0.4.0
 * results a runtime may still ask for): commands, the network configuration
 * a runtime streams on stdin, results and error objects on stdout.
 */

/**
 * The version of what the plugin prints when the configuration names none it
 * speaks (VERSION, errors before the configuration is read): 1.0.0, which
 * every runtime decodes. It implements 1.1.0 too (STATUS, GC).
 */
export const CNI_VERSION = '1.0.0';

/** Spec versions whose configuration and result formats the plugin accepts and produces. */
export const SUPPORTED_VERSIONS: readonly string[] = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';
export const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'];

/** Commands that act on one attachment (CNI_CONTAINERID, CNI_IFNAME); STATUS, GC and VERSION act on the network. */
export const ATTACHMENT_COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK'];

/**
 * Error codes of the CNI error object: the spec's well-known ones (0-99) and
 * beeline's own (100+, listed in docs/errors.md).
 */
export const CniCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodingFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  /** STATUS: the plugin cannot serve ADD now (agent down or starting, no free address). */
  PluginNotAvailable: 50,
  /** STATUS: cannot serve ADD, and existing containers may have limited connectivity (datapath degraded). */
  PluginNotAvailableLimitedConnectivity: 51,
  /** Anything unexpected inside the plugin. */
  Internal: 100,
  /** The agent could not allocate or release an address (pool exhausted, IPAM error). */
  Ipam: 101,
  /** Creating or configuring the veth pair, addresses or routes failed. */
  Interface: 102,
  /** The agent refused or failed to register or remove the endpoint. */
  Endpoint: 103,
  /** CHECK found the container's networking differs from what ADD made. */
  CheckFailed: 104,
  /** The plugin was run in the machine's root network namespace; beeline never changes it. */
  HostSafety: 105,
  /** The address the runtime asked for (CNI_ARGS IP=, the ips capability, args.cni.ips) cannot be given. */
  RequestedAddress: 106,
} as const;
export type CniCodeValue = (typeof CniCode)[keyof typeof CniCode];

/** Short descriptions of the codes, used as `details` when there is nothing longer to say. */
export const CNI_CODE_TEXT: Record<number, string> = {
  1: 'incompatible CNI version',
  2: 'unsupported field in network configuration',
  3: 'container unknown or does not exist',
  4: 'invalid necessary environment variables',
  5: 'I/O failure',
  6: 'failed to decode content',
  7: 'invalid network configuration',
  11: 'try again later',
  50: 'the plugin is not available',
  51: 'the plugin is not available; existing containers may have limited connectivity',
  100: 'beeline-cni internal error',
  101: 'IPAM failure (beeline agent)',
  102: 'interface setup failure',
  103: 'endpoint registration failure (beeline agent)',
  104: 'container networking is not as ADD left it',
  105: 'refused: the plugin runs in the root network namespace',
  106: 'the requested address cannot be given',
};

/** The invocation parameters a runtime passes in the environment. */
export interface CniInvocation {
  command: CniCommand;
  containerID: string;
  /** CNI_NETNS; may be empty for DEL. */
  netns: string;
  ifname: string;
  /** CNI_ARGS as key → value. */
  args: Record<string, string>;
  /** CNI_PATH split on ':'. */
  path: string[];
}

export interface CniInterface {
  name: string;
  mac?: string;
  /** The netns path for interfaces inside the container; absent for host interfaces. */
  sandbox?: string;
}

export interface CniIPConfig {
  /** Only in 0.3.x/0.4.0 results. */
  version?: '4' | '6';
  /** Address in CIDR notation. */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniDNS {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** The Success result of ADD (and the `prevResult` of CHECK and DEL). */
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIPConfig[];
  routes?: CniRoute[];
  dns?: CniDNS;
}

/** The Error result. */
export interface CniErrorObject {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export interface CniVersionResult {
  cniVersion: string;
  supportedVersions: string[];
}

/** A `key=value` label passed the conventional way, `args.cni.labels`. */
export interface CniLabel {
  key: string;
  value: string;
}

/** The plugin configuration beeline-cni receives on stdin (after the runtime derived it from the conflist). */
export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  /** Path of the node agent's API socket. */
  agentSocket: string;
  /** MTU of both ends of the veth pair; the kernel's default (1500) when absent. */
  mtu?: number;
  dns?: CniDNS;
  prevResult?: CniResult;
  args?: { cni?: { labels?: CniLabel[]; ips?: string[] } } & Record<string, unknown>;
  runtimeConfig?: { ips?: string[]; mac?: unknown } & Record<string, unknown>;
  /**
   * The namespace of a container the runtime names no Kubernetes namespace for
   * (no K8S_POD_NAMESPACE in CNI_ARGS: podman, nerdctl, a plain runtime); its
   * identity is this namespace plus its labels. Default DEFAULT_NAMESPACE.
   */
  defaultNamespace?: string;
  /** GC: the attachments the runtime still has (spec 1.1 `cni.dev/valid-attachments`; libcni also sends `cni.dev/attachments`). */
  validAttachments?: CniAttachment[];
}

/** One attachment of a container to the network (GC). */
export interface CniAttachment {
  containerID: string;
  ifname: string;
}

/** The spec 1.1 GC key, and the name an earlier draft used (libcni sends both). */
export const VALID_ATTACHMENTS_KEY = 'cni.dev/valid-attachments';
export const ATTACHMENTS_KEY_OLD = 'cni.dev/attachments';

/** The namespace of containers whose runtime names none (NetConf.defaultNamespace). */
export const DEFAULT_NAMESPACE = 'default';

/** The default socket of a node agent in a real deployment (like /var/run/cilium/cilium.sock). */
export const DEFAULT_AGENT_SOCKET = '/var/run/beeline/agent.sock';

/** The network name the agent serves when its status does not say (`cniNetwork`). */
export const DEFAULT_NETWORK = 'beeline';
