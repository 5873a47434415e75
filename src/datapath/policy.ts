/**
 * The policy map of one node (abi/policy.h), typed: bl_policy, one LPM trie
 * for every local endpoint, keyed (endpoint, direction, identity, protocol,
 * port prefix), plus the policy flags of bl_lxc that switch enforcement on
 * per endpoint and direction. The policy engine (src/policy/) turns rules
 * and identities into PolicyMapEntry lists; this writes them.
 *
 * Writes go upserts first, deletes after (batched where the kernel can): a
 * key changing from one entry to another is never missing, so established
 * connections are not cut by a rewrite of the policy that allows them. An
 * entry already in the map with the same verdict and cookie is not written
 * again, so its packet and byte counters survive a recomputation. A mirror
 * of what each endpoint holds (read back from the map at start) spares
 * every write a map walk and enforces the per-endpoint limit
 * (policyMapMax, Cilium's --bpf-policy-map-max) before anything is written.
 */
import { BpfError, PolicyMapFullError, PolicyMapInvalidError } from '../common/errors.js';
import { formatIPv4, parseIPv4 } from '../ipam/cidr.js';
import {
  BL_ENDPOINT_INFO_CODEC,
  BL_ENDPOINT_KEY_CODEC,
  BL_POLICY_ENTRY_CODEC,
  BL_POLICY_KEY_CODEC,
  BlEndpointFlags,
  BlPolicyEntryFlags,
  BlPolicyLimits,
  BlPolicyVerdict,
  type BlEndpointInfo,
  type BlEndpointKey,
  type BlPolicyEntry,
  type BlPolicyKey,
} from './generated/abi.js';
import type { Datapath } from './loader.js';
import type { PolicyMapEntry } from '../policy/types.js';
import type { TypedMap } from './maps.js';

// One entry of an endpoint's policy: the policy engine's type, written as it comes.
export type { PolicyMapEntry };

/** What identifies an entry within an endpoint's policy. */
export type PolicyMapKey = Pick<PolicyMapEntry, 'direction' | 'identity' | 'protocol' | 'port' | 'portPrefixLen'>;

/** One endpoint's changes: written upserts first, then deletes. */
export interface PolicyUpdate {
  upserts: readonly PolicyMapEntry[];
  deletes: readonly PolicyMapKey[];
}

/** An entry as the map holds it (`beeline bpf policy get`). */
export interface PolicyMapRow extends PolicyMapEntry {
  /** The endpoint id the entry belongs to. */
  endpoint: number;
  /** Packets and bytes this entry decided. */
  packets: bigint;
  bytes: bigint;
}

/** Which directions of an endpoint's traffic policy enforces (bl_endpoint_info.flags). */
export interface EndpointPolicyFlags {
  ingress: boolean;
  egress: boolean;
  /** Audit mode: what policy would drop passes, reported with action audit. */
  audit?: boolean;
}

/** Policy settings of the datapath (agent configuration, until AgentConfig carries them). */
export interface PolicyMapConfig {
  /** Emit policy verdict events (BL_CFG_POLICY_VERDICT_NOTIFY); default true. */
  policyVerdictNotify?: boolean;
  /** bl_policy max_entries, all endpoints together (default 1 << 18). Set before load; a pinned map keeps its size. */
  policyMapSize?: number;
  /** Entries one endpoint may have (Cilium's --bpf-policy-map-max, default 16384). */
  policyMapMax?: number;
}

/**
 * The policy map (bl_policy) and the per-endpoint enforcement switches
 * (bl_lxc flags). Entries come from the policy engine (src/policy/) as
 * PolicyMapEntry lists (src/datapath/policy.ts).
 */
export interface PolicyDatapath {
  /**
   * Writes one endpoint's changes: upserts first (an entry already there
   * unchanged is not rewritten, its counters keep counting), then deletes.
   * Throws PolicyMapInvalidError for a malformed entry and PolicyMapFullError
   * past the per-endpoint limit, before writing anything.
   */
  apply(epId: number, update: PolicyUpdate): void;
  /** What the map holds, for one endpoint or all (`beeline bpf policy get`). */
  entries(epId?: number): PolicyMapRow[];
  /** Deletes every entry of an endpoint (as this process knows them: read at start, then tracked) and forgets its flags; returns how many entries. */
  deleteEndpoint(epId: number): number;
  /**
   * Switches enforcement per direction (and audit mode) for an endpoint:
   * remembered and written into its bl_lxc entries now and by every later
   * upsertEndpoint. Write its policy (apply) first: an enforced direction
   * without entries drops everything. Returns how many bl_lxc entries changed.
   */
  setEndpointPolicyFlags(epId: number, flags: EndpointPolicyFlags, ipv4?: string): number;
  /** The same with an endpoint (its id and address) and the raw bits (enum bl_endpoint_flags). */
  setEndpointFlags(ep: { id: number; ipv4: string }, flags: number): number;
  /** max_entries of the whole map, and the per-endpoint limit (policyMapMax). */
  capacity(): { entries: number; perEndpoint: number };
  /** Forgets what this process believes the map holds and reads it again (the resync found them differing). */
  reload?(): void;
}

export const DEFAULT_POLICY_MAP_SIZE = BlPolicyLimits.BL_POLICY_MAX_ENTRIES_DEFAULT;
export const DEFAULT_POLICY_MAP_MAX = BlPolicyLimits.BL_POLICY_EP_MAX_ENTRIES_DEFAULT;

const VERDICT: Record<PolicyMapEntry['verdict'], number> = {
  allow: BlPolicyVerdict.BL_POLICY_ALLOW,
  deny: BlPolicyVerdict.BL_POLICY_DENY,
  'default-deny': BlPolicyVerdict.BL_POLICY_DEFAULT_DENY,
};
const VERDICT_NAME = new Map(Object.entries(VERDICT).map(([k, v]) => [v, k as PolicyMapEntry['verdict']]));

/** bl_endpoint_info.flags for the given directions. */
export function endpointPolicyFlags(f: EndpointPolicyFlags): number {
  return (
    (f.ingress ? BlEndpointFlags.BL_EP_F_POLICY_INGRESS : 0) |
    (f.egress ? BlEndpointFlags.BL_EP_F_POLICY_EGRESS : 0) |
    (f.audit ? BlEndpointFlags.BL_EP_F_POLICY_AUDIT : 0)
  );
}

/** The policy bits of bl_endpoint_info.flags, read back. */
export function decodeEndpointPolicyFlags(flags: number): Required<EndpointPolicyFlags> {
  return {
    ingress: (flags & BlEndpointFlags.BL_EP_F_POLICY_INGRESS) !== 0,
    egress: (flags & BlEndpointFlags.BL_EP_F_POLICY_EGRESS) !== 0,
    audit: (flags & BlEndpointFlags.BL_EP_F_POLICY_AUDIT) !== 0,
  };
}

const POLICY_FLAG_MASK = BlEndpointFlags.BL_EP_F_POLICY_INGRESS | BlEndpointFlags.BL_EP_F_POLICY_EGRESS | BlEndpointFlags.BL_EP_F_POLICY_AUDIT;

const isUint = (n: number, max: number) => Number.isInteger(n) && n >= 0 && n <= max;

/** Throws PolicyMapInvalidError unless k is a well-formed key of endpoint epId. */
function checkKey(epId: number, k: PolicyMapKey): void {
  const what = () => `policy map entry of endpoint ${epId} ${JSON.stringify(k)}`;
  if (!isUint(epId, 0xffff)) throw new PolicyMapInvalidError(`policy map: endpoint id ${epId} is not a 16-bit id`);
  if (k.direction !== 'ingress' && k.direction !== 'egress') throw new PolicyMapInvalidError(`${what()}: direction must be ingress or egress`);
  if (!isUint(k.identity, 0xffffffff)) throw new PolicyMapInvalidError(`${what()}: identity must be a 32-bit number`);
  if (!isUint(k.protocol, 255)) throw new PolicyMapInvalidError(`${what()}: protocol must be 0..255`);
  if (!isUint(k.port, 0xffff)) throw new PolicyMapInvalidError(`${what()}: port must be 0..65535`);
  if (!isUint(k.portPrefixLen, 16)) throw new PolicyMapInvalidError(`${what()}: portPrefixLen must be 0..16`);
  if (k.protocol === 0 && (k.port !== 0 || k.portPrefixLen !== 0)) {
    throw new PolicyMapInvalidError(`${what()}: a port needs a protocol`, 'the datapath matches ports only under a protocol');
  }
  if ((k.port & ~portMask(k.portPrefixLen)) !== 0) {
    throw new PolicyMapInvalidError(`${what()}: port ${k.port} has bits set past its ${k.portPrefixLen}-bit prefix`, 'a range starts at a multiple of its size');
  }
}

/** The leading portPrefixLen bits of a 16-bit port. */
function portMask(portPrefixLen: number): number {
  return portPrefixLen === 0 ? 0 : (0xffff << (16 - portPrefixLen)) & 0xffff;
}

/** The LPM key of an entry of endpoint epId (prefixlen 64: any protocol; 80 + k: protocol and k port bits). */
export function policyKey(epId: number, k: PolicyMapKey): BlPolicyKey {
  checkKey(epId, k);
  return {
    prefixlen: k.protocol === 0 ? BlPolicyLimits.BL_POLICY_L3_PREFIXLEN : BlPolicyLimits.BL_POLICY_PROTO_PREFIXLEN + k.portPrefixLen,
    ep_id: epId,
    egress: k.direction === 'egress' ? 1 : 0,
    sec_identity: k.identity,
    protocol: k.protocol,
    dport: k.port,
  };
}

/** The map value of an entry: counters 0, flags saying what its key leaves open. */
export function policyValue(e: PolicyMapEntry): BlPolicyEntry {
  const verdict = VERDICT[e.verdict];
  if (verdict === undefined) throw new PolicyMapInvalidError(`policy map entry ${JSON.stringify(e)}: verdict must be allow, deny or default-deny`);
  if (!isUint(e.cookie, 0xffffffff)) throw new PolicyMapInvalidError(`policy map entry ${JSON.stringify(e)}: cookie must be a 32-bit number`);
  const proxyPort = e.proxyPort ?? 0;
  if (!isUint(proxyPort, 0xffff) || (proxyPort !== 0 && e.verdict !== 'allow')) throw new PolicyMapInvalidError(`policy map entry ${JSON.stringify(e)}: proxyPort must be a 16-bit port, and only on an allow`);
  return {
    verdict,
    flags:
      (e.protocol === 0 ? BlPolicyEntryFlags.BL_POLICY_F_ANY_PROTO : 0) |
      (e.portPrefixLen === 0 ? BlPolicyEntryFlags.BL_POLICY_F_ANY_PORT : 0) |
      (e.authRequired ? BlPolicyEntryFlags.BL_POLICY_F_AUTH_REQUIRED : 0),
    // Host byte order: a plain __u16 of the struct, which the generated codec writes as the (little-endian) host reads it.
    proxy_port: proxyPort,
    cookie: e.cookie,
    packets: 0n,
    bytes: 0n,
  };
}

/** An LPM key read back: the endpoint and the entry's key fields. */
export function decodePolicyKey(k: BlPolicyKey): PolicyMapKey & { epId: number } {
  const proto = k.prefixlen >= BlPolicyLimits.BL_POLICY_PROTO_PREFIXLEN;
  const portPrefixLen = proto ? Math.min(16, k.prefixlen - BlPolicyLimits.BL_POLICY_PROTO_PREFIXLEN) : 0;
  return {
    epId: k.ep_id,
    direction: k.egress ? 'egress' : 'ingress',
    identity: k.sec_identity,
    protocol: proto ? k.protocol : 0,
    port: proto ? k.dport & portMask(portPrefixLen) : 0,
    portPrefixLen,
  };
}

const keyText = (k: PolicyMapKey) => `${k.direction}/${k.identity}/${k.protocol}/${k.port}/${k.portPrefixLen}`;

/** The kernel answers a batch operation on a map type without it with one of these. */
function isUnsupported(err: unknown): boolean {
  return err instanceof BpfError && (err.errno === 22 || err.errno === 95 || err.errno === 524);
}

/** An entry of the map as KernelPolicy knows it. */
interface Written {
  key: PolicyMapKey;
  verdict: number;
  cookie: number;
  /** The value's proxy port: an entry that gains or loses its L7 redirect is rewritten although verdict and cookie stay. */
  proxyPort: number;
  /** The value's flags (BL_POLICY_F_AUTH_REQUIRED can change alone). */
  flags: number;
}

export class KernelPolicy implements PolicyDatapath {
  private readonly policy: TypedMap<BlPolicyKey, BlPolicyEntry>;
  private readonly lxc: TypedMap<BlEndpointKey, BlEndpointInfo>;
  /** Entries one endpoint may have. */
  readonly perEndpoint: number;
  /** What the map holds per endpoint: key text → the key, its verdict and cookie. */
  private readonly mirror = new Map<number, Map<string, Written>>();
  /** Policy flags set per endpoint id, for upsertEndpoint to write with the endpoint. */
  private readonly flags = new Map<number, number>();
  /** Whether the kernel does batch updates on this map (learned at the first write). */
  private batch = true;

  /** Reads the map once to learn what each endpoint holds. */
  constructor(dp: Datapath, opts: { policyMapMax?: number } = {}) {
    this.perEndpoint = opts.policyMapMax ?? DEFAULT_POLICY_MAP_MAX;
    this.policy = dp.map('bl_policy', BL_POLICY_KEY_CODEC, BL_POLICY_ENTRY_CODEC);
    this.lxc = dp.map('bl_lxc', BL_ENDPOINT_KEY_CODEC, BL_ENDPOINT_INFO_CODEC);
    this.reload();
  }

  /** (Re)reads the mirror from the map: at start, and when the resync found the map differing from it. */
  reload(): void {
    this.mirror.clear();
    for (const [k, v] of this.policy.snapshot()) {
      const { epId, ...key } = decodePolicyKey(k);
      this.epMirror(epId).set(keyText(key), { key, verdict: v.verdict, cookie: v.cookie, proxyPort: v.proxy_port, flags: v.flags });
    }
  }

  private epMirror(epId: number): Map<string, Written> {
    let m = this.mirror.get(epId);
    if (!m) this.mirror.set(epId, (m = new Map()));
    return m;
  }

  capacity(): { entries: number; perEndpoint: number } {
    return { entries: this.policy.raw.maxEntries, perEndpoint: this.perEndpoint };
  }

  /**
   * Writes one endpoint's changes: upserts (skipping entries already there
   * unchanged, whose counters then keep counting), then deletes. Validates
   * everything and checks the per-endpoint limit before writing anything:
   * PolicyMapInvalidError, PolicyMapFullError.
   */
  apply(epId: number, u: PolicyUpdate): void {
    const mirror = this.mirror.get(epId) ?? new Map<string, Written>();
    // The size after the update is counted, not built: copying the mirror per write made a 100-entry
    // change of a 12,500-entry endpoint cost as much as rewriting it.
    let size = mirror.size;
    const writes: [BlPolicyKey, BlPolicyEntry][] = [];
    const upserted: [string, Written][] = [];
    const seen = new Set<string>();
    for (const k of u.deletes) policyKey(epId, k);
    for (const e of u.upserts) {
      const mapKey = policyKey(epId, e);
      const value = policyValue(e);
      const text = keyText(e);
      if (seen.has(text)) throw new PolicyMapInvalidError(`policy map update of endpoint ${epId}: entry ${text} given twice`);
      seen.add(text);
      const key: PolicyMapKey = { direction: e.direction, identity: e.identity, protocol: e.protocol, port: e.port, portPrefixLen: e.portPrefixLen };
      upserted.push([text, { key, verdict: value.verdict, cookie: value.cookie, proxyPort: value.proxy_port, flags: value.flags }]);
      const prev = mirror.get(text);
      if (!prev) size++;
      if (!prev || prev.verdict !== value.verdict || prev.cookie !== value.cookie || prev.proxyPort !== value.proxy_port || prev.flags !== value.flags) writes.push([mapKey, value]);
    }
    // Deletes of keys the map holds and the update does not write again.
    const gone = new Map<string, PolicyMapKey>();
    for (const k of u.deletes) {
      const text = keyText(k);
      if (mirror.has(text) && !seen.has(text) && !gone.has(text)) gone.set(text, k);
    }
    size -= gone.size;
    if (size > this.perEndpoint) {
      throw new PolicyMapFullError(`write policy of endpoint ${epId}: ${size} entries, more than policyMapMax ${this.perEndpoint}`);
    }
    const deletes = [...gone.values()].map((k) => policyKey(epId, k));

    this.write(writes);
    this.policy.deleteMany(deletes);
    for (const [text, w] of upserted) mirror.set(text, w);
    for (const text of gone.keys()) mirror.delete(text);
    if (mirror.size) this.mirror.set(epId, mirror);
    else this.mirror.delete(epId);
  }

  private write(entries: [BlPolicyKey, BlPolicyEntry][]): void {
    if (entries.length === 0) return;
    if (this.batch) {
      try {
        this.policy.setMany(entries);
        return;
      } catch (err) {
        if (!isUnsupported(err)) throw err;
        this.batch = false; // An older kernel without batch ops on LPM tries: one by one from now on.
      }
    }
    for (const [k, v] of entries) this.policy.set(k, v);
  }

  /** What the map holds, for one endpoint or all, sorted by endpoint, direction, identity, protocol, port. */
  entries(epId?: number): PolicyMapRow[] {
    const rows: PolicyMapRow[] = [];
    for (const [k, v] of this.policy.snapshot()) {
      if (epId !== undefined && k.ep_id !== epId) continue;
      const { epId: endpoint, ...key } = decodePolicyKey(k);
      rows.push({
        endpoint,
        ...key,
        verdict: VERDICT_NAME.get(v.verdict) ?? 'deny',
        cookie: v.cookie,
        proxyPort: v.proxy_port,
        ...(v.flags & BlPolicyEntryFlags.BL_POLICY_F_AUTH_REQUIRED ? { authRequired: true } : {}),
        packets: v.packets,
        bytes: v.bytes,
      });
    }
    const dir = (d: string) => (d === 'ingress' ? 0 : 1);
    return rows.sort(
      (a, b) => a.endpoint - b.endpoint || dir(a.direction) - dir(b.direction) || a.identity - b.identity || a.protocol - b.protocol || a.port - b.port || a.portPrefixLen - b.portPrefixLen,
    );
  }

  /**
   * Deletes every entry of an endpoint and forgets its flags; returns how
   * many entries. The mirror (read from the map at start, then kept) says
   * which: no map walk, so removing an endpoint costs its own entries only.
   */
  deleteEndpoint(epId: number): number {
    const keys = [...(this.mirror.get(epId)?.values() ?? [])].map((w) => policyKey(epId, w.key));
    this.policy.deleteMany(keys);
    this.mirror.delete(epId);
    this.flags.delete(epId);
    return keys.length;
  }

  /**
   * Switches policy enforcement of an endpoint on or off per direction: the
   * policy bits of its bl_lxc entries (found by walking bl_lxc, or at ipv4
   * when given). Remembered, so an endpoint written later (upsertEndpoint)
   * gets them in its first write. Returns how many bl_lxc entries changed.
   * Write the endpoint's policy (apply) before enforcing a direction: an
   * enforced direction with no entry drops everything.
   */
  setEndpointPolicyFlags(epId: number, f: EndpointPolicyFlags, ipv4?: string): number {
    return this.writeFlags(epId, endpointPolicyFlags(f), ipv4);
  }

  setEndpointFlags(ep: { id: number; ipv4: string }, flags: number): number {
    if (!isUint(flags, 0xffff) || (flags & ~POLICY_FLAG_MASK) !== 0) throw new PolicyMapInvalidError(`endpoint ${ep.id} policy flags ${flags}: only bl_endpoint_flags' policy bits (1, 2, 4)`);
    return this.writeFlags(ep.id, flags, ep.ipv4);
  }

  private writeFlags(epId: number, bits: number, ipv4?: string): number {
    this.flags.set(epId, bits);
    const targets: Array<[BlEndpointKey, BlEndpointInfo]> = [];
    if (ipv4 !== undefined) {
      const key = { ip4: parseIPv4(ipv4) };
      const v = this.lxc.get(key);
      if (v && v.ep_id === epId) targets.push([key, v]);
    } else {
      for (const [k, v] of this.lxc.snapshot()) if (v.ep_id === epId) targets.push([k, v]);
    }
    let n = 0;
    for (const [k, v] of targets) {
      const flags = (v.flags & ~POLICY_FLAG_MASK) | bits;
      if (flags === v.flags) continue;
      try {
        this.lxc.set(k, { ...v, flags }, 2 /* BPF_EXIST: never resurrect an endpoint removed meanwhile */);
        n++;
      } catch (err) {
        if (!(err instanceof BpfError) || err.errno !== 2 /* ENOENT */) throw err;
      }
    }
    return n;
  }

  /**
   * The policy bits an endpoint's bl_lxc entry should carry: those set with
   * setEndpointPolicyFlags, else undefined (the caller keeps what the map has).
   */
  endpointFlags(epId: number): number | undefined {
    return this.flags.get(epId);
  }

  /** Endpoint policy flags as bl_lxc holds them, by address (for listings). */
  endpointFlagsByAddress(): Map<string, Required<EndpointPolicyFlags>> {
    return new Map(this.lxc.snapshot().map(([k, v]) => [formatIPv4(k.ip4), decodeEndpointPolicyFlags(v.flags)]));
  }
}

