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
import { tryParseIPv4 } from '../ipam/cidr.js';
import { dns1123LabelError, dns1123SubdomainError } from '../k8s/names.js';
import {
  ATTACHMENT_COMMANDS,
  ATTACHMENTS_KEY_OLD,
  CniCode,
  COMMANDS,
  DEFAULT_AGENT_SOCKET,
  DEFAULT_NAMESPACE,
  VALID_ATTACHMENTS_KEY,
  type CniAttachment,
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
  STATUS: [],
  GC: [],
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
  if (ATTACHMENT_COMMANDS.includes(command)) {
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
  const argIps = isRecord(raw.args) && isRecord(raw.args.cni) ? raw.args.cni.ips : undefined;
  if (argIps !== undefined && !isStringArray(argIps)) throw confError('args.cni.ips must be a list of addresses');
  if (raw.runtimeConfig !== undefined && !isRecord(raw.runtimeConfig)) throw confError('runtimeConfig must be an object');
  const rtIps = isRecord(raw.runtimeConfig) ? raw.runtimeConfig.ips : undefined;
  if (rtIps !== undefined && !isStringArray(rtIps)) throw confError('runtimeConfig.ips (the ips capability) must be a list of addresses');
  if (raw.defaultNamespace !== undefined) {
    const ns = raw.defaultNamespace;
    // A Kubernetes namespace name: a DNS label (RFC 1123), as the agent checks an endpoint's.
    const err = typeof ns === 'string' ? dns1123LabelError(ns) : 'not a string';
    if (err) throw confError(`defaultNamespace ${JSON.stringify(ns)} is not a namespace name`, err);
  }
  let prevResult: CniResult | undefined;
  if (raw.prevResult !== undefined) prevResult = parsePrevResult(raw.prevResult, version);
  if (command === 'CHECK' && !prevResult) throw confError('CHECK needs prevResult (the result of the ADD)');
  const conf: NetConf = { ...(raw as unknown as NetConf), cniVersion: version, agentSocket };
  if (prevResult) conf.prevResult = prevResult;
  if (command === 'GC') conf.validAttachments = parseValidAttachments(raw);
  return conf;
}

/**
 * GC's `cni.dev/valid-attachments` (or the earlier draft's `cni.dev/attachments`,
 * which libcni sends too). Absent is an error: without the list GC would release
 * every attachment, and an empty list must be said.
 */
function parseValidAttachments(raw: Record<string, unknown>): CniAttachment[] {
  const list = raw[VALID_ATTACHMENTS_KEY] ?? raw[ATTACHMENTS_KEY_OLD];
  if (list === undefined) throw confError(`GC needs ${VALID_ATTACHMENTS_KEY} (the attachments to keep; [] for none)`);
  if (!Array.isArray(list)) throw confError(`${VALID_ATTACHMENTS_KEY} must be a list of {"containerID", "ifname"}`);
  return list.map((a, i) => {
    if (!isRecord(a) || typeof a.containerID !== 'string' || a.containerID === '' || typeof a.ifname !== 'string' || a.ifname === '') {
      throw confError(`${VALID_ATTACHMENTS_KEY}[${i}] must be {"containerID": "…", "ifname": "…"}`, JSON.stringify(a));
    }
    return { containerID: a.containerID, ifname: a.ifname };
  });
}

/**
 * The address the runtime asks for, if it asks: CNI_ARGS `IP=` (the
 * convention; host-local's form, `a.b.c.d` or `a.b.c.d/len`, a comma-separated
 * list), the `ips` capability (`runtimeConfig.ips`, CIDR notation) or
 * `args.cni.ips`. One IPv4 address at most (the pod interface has one); the
 * sources must agree. Malformed is code 7 (4 for CNI_ARGS); an IPv6 address or
 * two different ones is 106.
 */
export function requestedAddress(inv: CniInvocation, conf: NetConf): string | undefined {
  const asked: { from: string; text: string }[] = [];
  if (inv.args.IP !== undefined) for (const t of inv.args.IP.split(',')) asked.push({ from: 'CNI_ARGS IP', text: t.trim() });
  for (const t of conf.runtimeConfig?.ips ?? []) asked.push({ from: 'runtimeConfig.ips', text: t.trim() });
  for (const t of conf.args?.cni?.ips ?? []) asked.push({ from: 'args.cni.ips', text: t.trim() });
  const wanted = new Set<string>();
  for (const a of asked) {
    const slash = a.text.indexOf('/');
    const addr = slash >= 0 ? a.text.slice(0, slash) : a.text;
    const len = slash >= 0 ? a.text.slice(slash + 1) : '32';
    if (addr.includes(':')) {
      throw new CniError(CniCode.RequestedAddress, `requested address ${a.text} (${a.from}) cannot be given: beeline gives pods IPv4 addresses only`);
    }
    if (tryParseIPv4(addr) === undefined || !/^(3[0-2]|[12]?[0-9])$/.test(len)) {
      const code = a.from === 'CNI_ARGS IP' ? CniCode.InvalidEnvironment : CniCode.InvalidConfig;
      throw new CniError(code, `requested address ${JSON.stringify(a.text)} (${a.from}) is not an IPv4 address`, { details: 'a.b.c.d or a.b.c.d/len' });
    }
    wanted.add(addr);
  }
  if (wanted.size > 1) {
    throw new CniError(CniCode.RequestedAddress, `requested addresses ${[...wanted].join(', ')} cannot all be given: the pod interface gets one IPv4 address`, {
      details: asked.map((a) => `${a.from}=${a.text}`).join('; '),
    });
  }
  return [...wanted][0];
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/**
 * The MAC address the runtime asks the pod interface to have, if it asks:
 * CNI_ARGS `MAC=` (podman's `--mac-address`, the static plugin's convention)
 * or the `mac` capability (`runtimeConfig.mac`). It must be a unicast
 * `xx:xx:xx:xx:xx:xx` other than all zeros (a veth refuses the others);
 * malformed is code 4 for CNI_ARGS, 7 for the configuration; two different
 * ones are 7. Lower-cased, as the kernel shows it.
 */
export function requestedMac(inv: CniInvocation, conf: NetConf): string | undefined {
  const asked: { from: string; text: string }[] = [];
  if (inv.args.MAC !== undefined) asked.push({ from: 'CNI_ARGS MAC', text: inv.args.MAC.trim() });
  const rt = conf.runtimeConfig?.mac;
  if (rt !== undefined) asked.push({ from: 'runtimeConfig.mac', text: typeof rt === 'string' ? rt.trim() : JSON.stringify(rt) });
  const wanted = new Set<string>();
  for (const a of asked) {
    const mac = a.text.toLowerCase();
    const bad = !MAC_RE.test(mac) ? 'not a MAC address (xx:xx:xx:xx:xx:xx)' : (parseInt(mac.slice(0, 2), 16) & 1) === 1 ? 'a multicast address' : /^(00:){5}00$/.test(mac) ? 'all zeros' : undefined;
    if (bad) {
      const code = a.from === 'CNI_ARGS MAC' ? CniCode.InvalidEnvironment : CniCode.InvalidConfig;
      throw new CniError(code, `requested MAC ${JSON.stringify(a.text)} (${a.from}) is ${bad}`, { details: 'the pod interface takes a unicast address, the first octet even' });
    }
    wanted.add(mac);
  }
  if (wanted.size > 1) throw confError(`requested MACs ${[...wanted].join(', ')} differ: the pod interface has one`, asked.map((a) => `${a.from}=${a.text}`).join('; '));
  return [...wanted][0];
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

/**
 * CNI_ARGS keys a runtime puts the container's name in: Kubernetes' (CRI-O,
 * containerd; podman's CNI backend sets it to the container name, and no
 * K8S_POD_NAMESPACE: containers/podman#12083).
 */
export const CONTAINER_NAME_ARGS: readonly string[] = ['K8S_POD_NAME'];

/**
 * The pod the endpoint is registered as, so the container gets an identity
 * (namespace + its labels) rather than staying reserved:init:
 *   namespace  K8S_POD_NAMESPACE, else the configuration's defaultNamespace
 *              (DEFAULT_NAMESPACE when unset);
 *   name       the first of CONTAINER_NAME_ARGS in CNI_ARGS that is a valid
 *              name once lower-cased with `_` as `-` (podman's generated names,
 *              `jolly_darwin`, have one), else the container id's first 12
 *              characters (as `docker ps` shows it).
 * The identity depends only on the namespace and the labels, so the same
 * container gets the same identity on every ADD.
 */
export function podOf(inv: CniInvocation, conf: Pick<NetConf, 'defaultNamespace'> = {}): { namespace: string; name: string } {
  const namespace = inv.args.K8S_POD_NAMESPACE || conf.defaultNamespace || DEFAULT_NAMESPACE;
  for (const key of CONTAINER_NAME_ARGS) {
    const v = inv.args[key]?.toLowerCase().replace(/_/g, '-');
    if (v && !dns1123SubdomainError(v)) return { namespace, name: v };
  }
  const id = inv.containerID.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 12);
  return { namespace, name: id || 'container' };
}

/** Who holds a pod's address in the agent's IPAM: `<containerID>/<ifname>`. */
export function ipamOwner(containerID: string, ifname: string): string {
  return `${containerID}/${ifname}`;
}

/** The attachment an IPAM owner names, when it is the plugin's `<containerID>/<ifname>`. */
export function attachmentOfOwner(owner: string): { containerID: string; ifname: string } | undefined {
  const i = owner.lastIndexOf('/');
  if (i <= 0) return undefined;
  const containerID = owner.slice(0, i);
  const ifname = owner.slice(i + 1);
  if (!ID_RE.test(containerID) || ifname === '' || ifname.length > 15 || /[/:\s]/.test(ifname)) return undefined;
  return { containerID, ifname };
}

/**
 * The host-side veth of a container interface: `lxc` + the first 11 hex
 * digits of sha256(containerID + ifname), 14 characters (IFNAMSIZ allows 15).
 * Deterministic, so DEL finds it without any saved state.
 */
export function hostIfname(containerID: string, ifname: string): string {
  return 'lxc' + createHash('sha256').update(containerID + ifname).digest('hex').slice(0, 11);
}
