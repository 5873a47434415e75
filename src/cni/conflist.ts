/**
 * The network configuration list a node installs (/etc/cni/net.d), and the
 * runtime's side of it: deriving the single plugin configuration a plugin
 * receives on stdin (CNI spec section 3). deploy/cni/05-beeline.conflist is
 * renderConflist() with the default socket; a unit test keeps them equal.
 */
import { DEFAULT_AGENT_SOCKET, DEFAULT_NETWORK, type CniLabel, type CniResult } from './types.js';

/** File name a node installs the list under (sorts before other plugins' lists). */
export const CONFLIST_FILE = '05-beeline.conflist';

/** The plugin's type: the name of its executable in CNI_PATH. */
export const PLUGIN_TYPE = 'beeline-cni';

/**
 * The list's cniVersion: 1.0.0, which every current runtime reads. `cniVersions`
 * adds 1.1.0 (STATUS, GC): a runtime of spec 1.1 picks the highest version it
 * shares with the list from it; an older one ignores the field.
 */
export const CONFLIST_VERSION = '1.0.0';
export const CONFLIST_VERSIONS: readonly string[] = ['1.0.0', '1.1.0'];

export interface ConfList {
  cniVersion: string;
  cniVersions?: string[];
  name: string;
  disableCheck?: boolean;
  plugins: ({ type: string } & Record<string, unknown>)[];
}

export interface ConflistOptions {
  /** The node agent's API socket. */
  agentSocket?: string;
  /** Network name; must be the one the agent serves. */
  name?: string;
  /** MTU of the pods' veths (e.g. 1450 under a VXLAN tunnel). */
  mtu?: number;
}

/** The conflist of one node: one plugin, beeline-cni, pointed at that node's agent. */
export function renderConflist(opts: ConflistOptions = {}): ConfList {
  return {
    cniVersion: CONFLIST_VERSION,
    cniVersions: [...CONFLIST_VERSIONS],
    name: opts.name ?? DEFAULT_NETWORK,
    plugins: [
      {
        type: PLUGIN_TYPE,
        agentSocket: opts.agentSocket ?? DEFAULT_AGENT_SOCKET,
        ...(opts.mtu !== undefined ? { mtu: opts.mtu } : {}),
        // The runtime passes a pod's requested addresses as runtimeConfig.ips, its MAC as runtimeConfig.mac.
        // No portMappings: beeline maps no host ports (docs/cni.md#podman).
        capabilities: { ips: true, mac: true },
      },
    ],
  };
}

/** The file's text: plain JSON (no comments), two-space indent, final newline. */
export function conflistText(list: ConfList): string {
  return JSON.stringify(list, null, 2) + '\n';
}

/**
 * What a runtime streams to plugin `index` of `list`: the plugin's object with
 * the list's cniVersion and name, `prevResult` when given (CHECK, DEL, chained
 * ADD), conventional `args` (labels), `runtimeConfig.ips` when the plugin
 * declares the `ips` capability and addresses are asked for, and `capabilities` removed.
 */
export function pluginConfig(list: ConfList, index = 0, extra: { prevResult?: CniResult; labels?: Record<string, string>; ips?: string[] } = {}): Record<string, unknown> {
  const plugin = list.plugins[index];
  if (!plugin) throw new Error(`conflist ${list.name} has no plugin #${index}`);
  const { capabilities, ...rest } = plugin;
  const caps = (capabilities ?? {}) as Record<string, unknown>;
  const labels: CniLabel[] = Object.entries(extra.labels ?? {}).map(([key, value]) => ({ key, value }));
  return {
    ...rest,
    cniVersion: list.cniVersion,
    name: list.name,
    ...(labels.length ? { args: { cni: { labels } } } : {}),
    ...(extra.prevResult ? { prevResult: extra.prevResult } : {}),
    // A capability the plugin declares is passed as runtimeConfig (CNI conventions).
    ...(extra.ips && caps.ips === true ? { runtimeConfig: { ips: extra.ips } } : {}),
  };
}
