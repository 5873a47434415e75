/**
 * Parsing and validation of everything a runtime hands the plugin: the CNI_*
 * environment and the network configuration on stdin. Pure; every failure is
 * a CniError with the spec's code (4 environment, 6 decoding, 1 version,
 * 2 unsupported field, 7 configuration), so the runtime learns what to fix
 * before the plugin has made anything.
 */
import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { CniError } from '../common/errors.js';
import {
  CniCode,
  COMMANDS,
  DEFAULT_AGENT_SOCKET,
  SUPPORTED_VERSIONS,
  type CniCommand,
  type CniInvocation,
  type CniIPConfig,
  type CniResult,
  type NetConf,
} from './types.js';
import { isRecord } from '../common/json.js';

/** Container ids and network names (spec): alphanumeric first, then alphanumerics, `_`, `.`, `-`. */
const ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

const REQUIRED: Record<CniCommand, string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  VERSION: [],
};

const envError = (msg: string, details?: string) => new CniError(CniCode.InvalidEnvironment, msg, { details });
const confError = (msg: string, details?: string) => new CniError(CniCode.InvalidConfig, msg, { details });

/** Linux interface-name rules as the spec states them. */
export function checkIfname(name: string, what = 'CNI_IFNAME'): void {
  if (name.length === 0) throw envError(`${what} is empty`);
  if (name.length > 15) throw envError(`${what} '${name}' is too long: at most 15 characters`);
  if (name === '.' || name === '..') throw envError(`${what} '${name}' is not a valid interface name`);
  if (/[/:\s]/.test(name)) throw envError(`${what} '${name}' contains '/', ':' or whitespace`);
}

/** `FOO=BAR;ABC=123` → { FOO: 'BAR', ABC: '123' }. Empty pairs are skipped; a pair without `=` is an error. */
export function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const i = pair.indexOf('=');
    if (i <= 0) throw envError(`CNI_ARGS: '${pair}' is not a KEY=VALUE pair`, `CNI_ARGS=${text}`);
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

/** Reads the CNI_* variables; throws code 4 naming every missing or invalid one. */
export function parseInvocation(env: NodeJS.ProcessEnv): CniInvocation {
  const cmd = env.CNI_COMMAND;
  if (!cmd) throw envError('required environment variable CNI_COMMAND is not set');
  if (!(COMMANDS as readonly string[]).includes(cmd)) {
    throw envError(`CNI_COMMAND '${cmd}' is not supported`, `supported commands: ${COMMANDS.join(', ')}`);
  }
  const command = cmd as CniCommand;
  const missing = REQUIRED[command].filter((v) => !env[v]);
  if (missing.length) throw envError(`required environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set`, `CNI_COMMAND=${command}`);
  const containerID = env.CNI_CONTAINERID ?? '';
  const ifname = env.CNI_IFNAME ?? '';
  const netns = env.CNI_NETNS ?? '';
  if (command !== 'VERSION') {
    if (!ID_RE.test(containerID)) {
      throw envError(`CNI_CONTAINERID '${containerID}' is invalid`, 'it must start with a letter or digit, then letters, digits, _ . or -');
    }
    checkIfname(ifname);
    if (netns && !isAbsolute(netns)) throw envError(`CNI_NETNS '${netns}' is not an absolute path`);
  }
  return {
    command,
    containerID,
    netns,
    ifname,
    args: env.CNI_ARGS ? parseCniArgs(env.CNI_ARGS) : {},
    path: (env.CNI_PATH ?? '').split(':').filter(Boolean),
  };
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Decodes and validates the network configuration. `command` decides what is
 * required (CHECK needs `prevResult`).
 */
export function parseNetConf(text: string, command: CniCommand): NetConf {
  if (text.trim() === '') throw new CniError(CniCode.DecodingFailure, 'no network configuration on stdin', { details: `CNI_COMMAND=${command} needs the network configuration JSON on stdin` });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CniError(CniCode.DecodingFailure, 'network configuration on stdin is not valid JSON', { details: (e as Error).message });
  }
  if (!isRecord(raw)) throw confError('network configuration must be a JSON object');

  const version = raw.cniVersion;
  if (version === undefined || version === '') {
    throw new CniError(CniCode.IncompatibleVersion, 'network configuration has no cniVersion', { details: `plugin supports ${SUPPORTED_VERSIONS.join(', ')}` });
  }
  if (typeof version !== 'string' || !SUPPORTED_VERSIONS.includes(version)) {
    throw new CniError(CniCode.IncompatibleVersion, `incompatible CNI version ${JSON.stringify(version)}`, {
      details: `network configuration is cniVersion ${JSON.stringify(version)}; beeline-cni supports ${SUPPORTED_VERSIONS.join(', ')}`,
    });
  }
  if (typeof raw.name !== 'string' || !ID_RE.test(raw.name)) {
    throw confError(raw.name === undefined ? 'network configuration has no name' : `network name ${JSON.stringify(raw.name)} is invalid`);
  }
  if (typeof raw.type !== 'string' || raw.type === '') throw confError('network configuration has no type');
  if (raw.ipam !== undefined) {
    throw new CniError(CniCode.UnsupportedField, `unsupported field ipam=${JSON.stringify(raw.ipam)}`, {
      details: 'beeline-cni allocates addresses through its node agent; remove the ipam section',
    });
  }
  const agentSocket = raw.agentSocket ?? DEFAULT_AGENT_SOCKET;
  if (typeof agentSocket !== 'string' || !isAbsolute(agentSocket)) throw confError(`agentSocket ${JSON.stringify(raw.agentSocket)} must be an absolute path`);
  if (raw.mtu !== undefined && !(Number.isInteger(raw.mtu) && (raw.mtu as number) >= 68 && (raw.mtu as number) <= 65535)) {
    throw confError(`mtu ${JSON.stringify(raw.mtu)} must be a whole number from 68 to 65535`);
  }
  if (raw.dns !== undefined) {
    const d = raw.dns;
    const ok = isRecord(d) && ['nameservers', 'search', 'options'].every((k) => d[k] === undefined || isStringArray(d[k])) && (d.domain === undefined || typeof d.domain === 'string');
    if (!ok) throw confError('dns must be an object with string lists nameservers, search, options and a string domain');
  }
  if (raw.args !== undefined && !isRecord(raw.args)) throw confError('args must be an object');
  const labels = isRecord(raw.args) && isRecord(raw.args.cni) ? raw.args.cni.labels : undefined;
  if (labels !== undefined && !(Array.isArray(labels) && labels.every((l) => isRecord(l) && typeof l.key === 'string' && l.key !== '' && typeof l.value === 'string'))) {
    throw confError('args.cni.labels must be a list of {"key": "…", "value": "…"}');
  }
  let prevResult: CniResult | undefined;
  if (raw.prevResult !== undefined) prevResult = parsePrevResult(raw.prevResult, version);
  if (command === 'CHECK' && !prevResult) throw confError('CHECK needs prevResult (the result of the ADD)');
  const conf: NetConf = { ...(raw as unknown as NetConf), cniVersion: version, agentSocket };
  if (prevResult) conf.prevResult = prevResult;
  return conf;
}

/** Validates a previous result just enough to consult its interfaces and addresses. */
export function parsePrevResult(raw: unknown, cniVersion: string): CniResult {
  if (!isRecord(raw)) throw confError('prevResult must be an object');
  const r = raw;
  if (r.interfaces !== undefined && !(Array.isArray(r.interfaces) && r.interfaces.every((i) => isRecord(i) && typeof i.name === 'string'))) {
    throw confError('prevResult.interfaces must be a list of objects with a name');
  }
  if (r.ips !== undefined && !(Array.isArray(r.ips) && r.ips.every((i) => isRecord(i) && typeof i.address === 'string'))) {
    throw confError('prevResult.ips must be a list of objects with an address');
  }
  return { ...(r as unknown as CniResult), cniVersion: typeof r.cniVersion === 'string' ? r.cniVersion : cniVersion };
}

/** The addresses (CIDR notation) a result assigns to the container interface `ifname` in `sandbox`. */
export function resultAddressesFor(result: CniResult, ifname: string): CniIPConfig[] {
  const ifaces = result.interfaces ?? [];
  const idx = ifaces.findIndex((i) => i.name === ifname && !!i.sandbox);
  return (result.ips ?? []).filter((ip) => (ip.interface === undefined ? true : ip.interface === idx));
}

/** The labels passed in `args.cni.labels`, as a map. */
export function labelsOf(conf: NetConf): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of conf.args?.cni?.labels ?? []) out[l.key] = l.value;
  return out;
}

/** The Kubernetes pod the runtime names in CNI_ARGS, when it names one. */
export function podOf(inv: CniInvocation): { namespace: string; name: string } | undefined {
  const namespace = inv.args.K8S_POD_NAMESPACE;
  const name = inv.args.K8S_POD_NAME;
  return namespace && name ? { namespace, name } : undefined;
}

/** Who holds a pod's address in the agent's IPAM: `<containerID>/<ifname>`. */
export function ipamOwner(containerID: string, ifname: string): string {
  return `${containerID}/${ifname}`;
}

/**
 * The host-side veth of a container interface: `lxc` + the first 11 hex
 * digits of sha256(containerID + ifname), 14 characters (IFNAMSIZ allows 15).
 * Deterministic, so DEL finds it without any saved state.
 */
export function hostIfname(containerID: string, ifname: string): string {
  return 'lxc' + createHash('sha256').update(containerID + ifname).digest('hex').slice(0, 11);
}
