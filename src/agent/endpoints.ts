/**
 * Endpoints of this node: what the CNI plugin registered, programmed into the
 * datapath, persisted in the agent's state directory so that a restarted
 * agent restores them (their veths and pinned map entries never went away).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { EndpointAddressError, EndpointInterfaceError, EndpointInvalidError, EndpointLimitError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { hostIfname, ipamOwner } from '../cni/config.js';
import type { PodLinks } from '../cni/link.js';
import { dns1123LabelError, dns1123SubdomainError, labelKeyError, labelValueError } from '../k8s/names.js';
import { formatLabelSet, podIdentityLabels, type PodIdentitySource } from '../identity/labels.js';
import { endpointPolicyFlags } from '../datapath/policy.js';
import type { NodeDatapath } from './datapath.js';
import type { EndpointCreateRequest, EndpointDeleteResult, EndpointModel } from './types.js';

/** Cilium's endpoint ids are 16-bit and small; 0 is the host. */
export const MAX_ENDPOINT_ID = 4095;

/** Reserved identity of an endpoint whose labels are not resolved yet (Cilium's "init"). */
export const IDENTITY_INIT = 5;

/**
 * Policy enforcement of an endpoint before the policy manager has computed
 * its policy (docs/policy.md, "Endpoints that are not ready"): both
 * directions enforced with no entries, so whatever a policy would decide is
 * dropped (Policy denied) until the first computation is written. Policy
 * enforcement `never` lets everything through instead; audit mode reports
 * the drops and lets them pass.
 */
export function initialPolicyFlags(mode: { enforcement?: 'default' | 'always' | 'never'; audit?: boolean } = {}): number {
  if (mode.enforcement === 'never') return 0;
  return endpointPolicyFlags({ ingress: true, egress: true, audit: mode.audit ?? false });
}

/** The endpoint errors, where they were defined before they moved to src/common/errors.ts. */
export { EndpointInvalidError, EndpointLimitError };

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
/** CNI_CONTAINERID as the CNI plugin takes it (src/cni/config.ts), at most 256 characters. */
const CONTAINER_ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,255}$/;
/** Kubernetes' label limit per object is far above this; an endpoint with more labels is someone's mistake or attack. */
const MAX_LABELS = 256;
const REQUEST_FIELDS = new Set(['containerID', 'ifname', 'netns', 'hostIfname', 'ipv4', 'mac', 'hostMac', 'pod', 'labels']);

/** Checks a create request field by field; the first problem is reported with its field path (the error's `field`). */
export function validateEndpointRequest(r: Partial<EndpointCreateRequest> | undefined): EndpointCreateRequest {
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw new EndpointInvalidError('', 'endpoint: request body must be a JSON object');
  const who = () => (typeof r.containerID === 'string' && CONTAINER_ID_RE.test(r.containerID) ? r.containerID : '?');
  const bad = (field: string, what: string) => new EndpointInvalidError(field, `endpoint ${who()}: ${field}: ${what}`);
  const need = (field: keyof EndpointCreateRequest, ok: (v: unknown) => boolean, what: string) => {
    if (!ok(r[field])) throw bad(field, what);
  };
  const unknown = Object.keys(r).find((k) => !REQUEST_FIELDS.has(k));
  if (unknown !== undefined) throw bad(unknown.slice(0, 64), 'unknown field');
  need('containerID', (v) => typeof v === 'string' && CONTAINER_ID_RE.test(v), 'required: a letter or digit, then letters, digits, _ . or - (at most 256)');
  need('ifname', (v) => typeof v === 'string' && IFNAME_RE.test(v), 'must be an interface name of 1-15 characters');
  need('netns', (v) => typeof v === 'string' && v.startsWith('/') && v.length <= 4096 && !v.includes('\0'), 'required (absolute path of the pod network namespace)');
  need('hostIfname', (v) => typeof v === 'string' && IFNAME_RE.test(v), 'must be an interface name of 1-15 characters');
  need('ipv4', (v) => typeof v === 'string' && IPV4_RE.test(v), 'must be an IPv4 address');
  need('mac', (v) => typeof v === 'string' && MAC_RE.test(v), 'must be a MAC address aa:bb:cc:dd:ee:ff');
  need('hostMac', (v) => typeof v === 'string' && MAC_RE.test(v), 'must be a MAC address aa:bb:cc:dd:ee:ff');
  if (r.pod !== undefined) {
    const pod = r.pod as unknown;
    if (typeof pod !== 'object' || pod === null || Array.isArray(pod)) throw bad('pod', 'must be an object {namespace, name}');
    const extra = Object.keys(pod).find((k) => k !== 'namespace' && k !== 'name');
    if (extra !== undefined) throw bad(`pod.${extra.slice(0, 64)}`, 'unknown field');
    const { namespace, name } = pod as Record<string, unknown>;
    if (typeof namespace !== 'string') throw bad('pod.namespace', 'required (a string)');
    const nsErr = dns1123LabelError(namespace);
    if (nsErr) throw bad('pod.namespace', nsErr);
    if (typeof name !== 'string') throw bad('pod.name', 'required (a string)');
    const nameErr = dns1123SubdomainError(name);
    if (nameErr) throw bad('pod.name', nameErr);
  }
  if (r.labels !== undefined) {
    const labels = r.labels as unknown;
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw bad('labels', 'must map strings to strings');
    const entries = Object.entries(labels);
    if (entries.length > MAX_LABELS) throw bad('labels', `at most ${MAX_LABELS} labels`);
    for (const [k, v] of entries) {
      const keyErr = labelKeyError(k);
      if (keyErr) throw bad(`labels[${JSON.stringify(k.slice(0, 64))}]`, `invalid key: ${keyErr}`);
      if (typeof v !== 'string') throw bad(`labels.${k}`, 'must be a string');
      const valErr = labelValueError(v);
      if (valErr) throw bad(`labels.${k}`, valErr);
    }
  }
  return r as EndpointCreateRequest;
}

/** The request fields of a persisted endpoint (what PUT /v1/endpoints was given for it), to check it again. */
function requestOf(ep: EndpointModel): Partial<EndpointCreateRequest> {
  const out: Record<string, unknown> = {};
  for (const k of REQUEST_FIELDS) if ((ep as unknown as Record<string, unknown>)[k] !== undefined) out[k] = (ep as unknown as Record<string, unknown>)[k];
  return out as Partial<EndpointCreateRequest>;
}

/**
 * What an endpoint request is checked against beyond its syntax, as Cilium's
 * agent checks a CNI plugin's request against what it knows: the node's IPAM
 * and links. Without it (tests of other parts) only the syntax is checked.
 */
export interface EndpointAdmission {
  /** The address the node's IPAM holds for `<containerID>/<ifname>` (src/cni/config.ts ipamOwner), if any. */
  allocated(owner: string): string | undefined;
  /** Interfaces of the node that are never an endpoint's, by name → what they are (`uplink`, `tunnel device`). */
  reserved: ReadonlyMap<string, string>;
  /** The node's and pods' links; the veth pair is checked through them unless the caller made it itself. */
  links?: PodLinks;
}

/** How create() was asked. */
export interface CreateOptions {
  /**
   * The caller made this veth pair itself in this request (the in-process
   * CNI ADD: links it just created under the name derived from the
   * container): the kernel is not asked again.
   */
  linksMadeHere?: boolean;
}

/**
 * Refuses a request whose host interface is not the veth CNI makes for that
 * container (by name, and, with links, by kind, peer and MACs) or whose
 * address is not the container's from IPAM. Every refusal names its field.
 */
export function admitEndpoint(r: EndpointCreateRequest, admission: EndpointAdmission, others: Iterable<EndpointModel>, opts: CreateOptions = {}): void {
  const who = `endpoint ${r.containerID}`;
  const role = admission.reserved.get(r.hostIfname);
  if (role) throw new EndpointInterfaceError(`${who}: hostIfname: ${r.hostIfname} is the node's ${role}, not an endpoint's veth`);
  for (const ep of others) {
    if (ep.hostIfname === r.hostIfname && (ep.containerID !== r.containerID || ep.ifname !== r.ifname)) {
      throw new EndpointInterfaceError(`${who}: hostIfname: ${r.hostIfname} is endpoint ${ep.id}'s (${ep.containerID}/${ep.ifname})`);
    }
  }
  const want = hostIfname(r.containerID, r.ifname);
  if (r.hostIfname !== want) {
    throw new EndpointInterfaceError(`${who}: hostIfname: ${r.hostIfname} is not the veth CNI makes for ${r.containerID}/${r.ifname} (that is ${want})`);
  }
  const owner = ipamOwner(r.containerID, r.ifname);
  const allocated = admission.allocated(owner);
  if (allocated === undefined) throw new EndpointAddressError(`${who}: ipv4: IPAM has no address for ${owner}`, 'allocate it first (POST /v1/ipam/allocate)');
  if (allocated !== r.ipv4) throw new EndpointAddressError(`${who}: ipv4: ${r.ipv4} is not the address IPAM allocated to ${owner} (${allocated})`);
  const links = admission.links;
  if (!links || opts.linksMadeHere) return;
  const kind = links.classifyNetns(r.netns);
  if (kind !== 'pod') throw new EndpointInvalidError('netns', `${who}: netns: ${r.netns} is not a pod network namespace (${kind})`);
  const host = links.hostLink(r.hostIfname);
  if (!host) throw new EndpointInterfaceError(`${who}: hostIfname: ${r.hostIfname} does not exist in the node's namespace`);
  if (host.kind !== 'veth') throw new EndpointInterfaceError(`${who}: hostIfname: ${r.hostIfname} is ${host.kind ? `a ${host.kind} link` : 'not a virtual link'}, not a veth`);
  const pod = links.podLink(r.netns, r.ifname);
  if (!pod || pod.kind !== 'veth' || host.peerIfindex !== pod.ifindex || pod.peerIfindex !== host.ifindex) {
    throw new EndpointInterfaceError(`${who}: hostIfname: ${r.hostIfname} is not the peer of ${r.ifname} in ${r.netns}`);
  }
  if (pod.mac.toLowerCase() !== r.mac.toLowerCase()) throw new EndpointInvalidError('mac', `${who}: mac: ${r.mac} is not ${r.ifname}'s (${pod.mac})`);
  if (host.mac.toLowerCase() !== r.hostMac.toLowerCase()) throw new EndpointInvalidError('hostMac', `${who}: hostMac: ${r.hostMac} is not ${r.hostIfname}'s (${host.mac})`);
}

/**
 * Where endpoints get their identities and publish their addresses: the
 * agent's IdentityAllocator and IpcacheStore, once the kvstore is reachable.
 */
export interface IdentityBackend {
  acquire(labels: string[]): Promise<{ id: number }>;
  release(labels: string[]): Promise<boolean>;
  /** `ep`: the endpoint the address is (its pod names the ipcache entry in Kubernetes mode, a BeelineEndpoint). */
  publish(ip: string, identity: number, ep?: Pick<EndpointModel, 'id' | 'pod'>): Promise<void>;
  unpublish(ip: string): Promise<boolean>;
  /**
   * The pod as the cluster knows it (its labels, its namespace's labels, its
   * service account), as Cilium reads it from the API rather than trusting
   * the runtime; undefined for a pod the store does not have (lab pods).
   */
  podSource?(namespace: string, name: string): Promise<PodIdentitySource | undefined>;
}

/** The security labels of an endpoint (pod labels + namespace), or undefined for one the runtime gave no pod for. */
export function endpointIdentityLabels(ep: Pick<EndpointModel, 'pod' | 'labels'>): string[] | undefined {
  if (!ep.pod) return undefined;
  return formatLabelSet(podIdentityLabels({ namespace: ep.pod.namespace, labels: ep.labels }));
}

/** How long create() waits for an identity before answering with reserved:init (resolution goes on meanwhile). */
const IDENTITY_WAIT_MS = 2000;

export class EndpointManager {
  private readonly byId = new Map<number, EndpointModel>();
  private backend: IdentityBackend | undefined;
  /** Endpoints holding an identity reference, with the labels it was taken for. */
  private readonly held = new Map<EndpointModel, { labels: string[]; identity: number }>();
  /** Identity resolutions under way, one per endpoint. */
  private readonly resolving = new Map<EndpointModel, Promise<void>>();
  /** Resolves once an endpoint's policy is in the maps (the policy manager, once it runs). */
  private policyGate: ((ep: EndpointModel) => Promise<void>) | undefined;
  /** Told when an endpoint appears, changes identity or goes (the policy manager). */
  private readonly listeners = new Set<(ep: EndpointModel) => void>();
  /** The policy flags a new endpoint starts with (initialPolicyFlags): fail closed until its policy is written. */
  private initFlags = initialPolicyFlags();

  constructor(
    private readonly statePath: string,
    private readonly datapath: NodeDatapath,
    private readonly log: Logger,
    /** What requests are checked against (IPAM, links); undefined: syntax only. */
    private readonly admission?: EndpointAdmission,
  ) {}

  /** The policy flags new endpoints start with (initialPolicyFlags of the agent's enforcement mode). */
  setInitialPolicyFlags(flags: number): void {
    this.initFlags = flags;
  }

  /** create() waits (2 s at most) for gate(ep): the endpoint's policy written. undefined: no wait. */
  setPolicyGate(gate: ((ep: EndpointModel) => Promise<void>) | undefined): void {
    this.policyGate = gate;
  }

  /** Calls cb with every endpoint that is created, restored, changes identity or is deleted; returns the unsubscribe. */
  onChange(cb: (ep: EndpointModel) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private changed(ep: EndpointModel): void {
    for (const cb of this.listeners) cb(ep);
  }

  list(): EndpointModel[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }

  get(id: number): EndpointModel | undefined {
    return this.byId.get(id);
  }

  find(containerID: string, ifname: string): EndpointModel | undefined {
    return this.list().find((e) => e.containerID === containerID && e.ifname === ifname);
  }

  /** The endpoint with this address (no copy, no sort: the DNS proxy asks for every query). */
  findByIP(ip: string): EndpointModel | undefined {
    for (const e of this.byId.values()) if (e.ipv4 === ip) return e;
    return undefined;
  }

  /**
   * Reprograms every persisted endpoint (after an agent restart). The state
   * file is not trusted more than a request: each endpoint passes the checks
   * of PUT /v1/endpoints again (syntax, then admission against IPAM and the
   * node's links), and its id, container and address must be its own among
   * those restored. One that fails (its veth gone, an edited or stale file
   * naming the uplink or an address IPAM does not hold) is not programmed: it
   * is logged with the reason and its datapath state removed as for a
   * deleted endpoint, but for what is not its own (restoreRefused).
   */
  async restore(): Promise<void> {
    if (!existsSync(this.statePath)) return;
    const saved = JSON.parse(readFileSync(this.statePath, 'utf8')) as unknown;
    const admitted: EndpointModel[] = [];
    const refused: { ep: Partial<EndpointModel>; error: Error }[] = [];
    for (const raw of Array.isArray(saved) ? (saved as unknown[]) : [saved]) {
      try {
        admitted.push(this.admitRestored(raw, admitted));
      } catch (e) {
        refused.push({ ep: (raw && typeof raw === 'object' ? raw : {}) as Partial<EndpointModel>, error: e as Error });
      }
    }
    // Refused ones first: an address they name is then written again by the endpoint it belongs to.
    for (const { ep, error } of refused) await this.restoreRefused(ep, error, admitted);
    for (const ep of admitted) {
      try {
        await this.datapath.upsertEndpoint(ep);
        this.byId.set(ep.id, ep);
        this.changed(ep);
      } catch (e) {
        this.log.warn('endpoint not restored', { id: ep.id, containerID: ep.containerID, error: (e as Error).message });
        await this.datapath.removeEndpoint(ep).catch(() => undefined);
      }
    }
    this.save();
    this.log.info('endpoints restored', { count: this.byId.size, refused: refused.length });
  }

  /** A persisted endpoint, checked as a request is, and against the ones restored before it; throws why not. */
  private admitRestored(raw: unknown, restored: readonly EndpointModel[]): EndpointModel {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new EndpointInvalidError('', 'endpoint: not an object');
    const ep = raw as EndpointModel;
    if (!Number.isInteger(ep.id) || ep.id < 1 || ep.id > MAX_ENDPOINT_ID) throw new EndpointInvalidError('id', `endpoint ${String(ep.containerID)}: id: ${String(ep.id)} is not an endpoint id (1-${MAX_ENDPOINT_ID})`);
    const r = validateEndpointRequest(requestOf(ep));
    if (this.admission) admitEndpoint(r, this.admission, restored);
    for (const o of restored) {
      if (o.id === ep.id) throw new EndpointInvalidError('id', `endpoint ${r.containerID}: id: ${ep.id} is already endpoint ${o.containerID}/${o.ifname}'s`);
      if (o.containerID === r.containerID && o.ifname === r.ifname) throw new EndpointInvalidError('containerID', `endpoint ${r.containerID}: ${r.containerID}/${r.ifname} is already endpoint ${o.id}`);
      if (o.ipv4 === r.ipv4) throw new EndpointInvalidError('ipv4', `endpoint ${r.containerID}: ipv4: ${r.ipv4} is already used by endpoint ${o.id} (${o.containerID})`);
    }
    return ep;
  }

  /**
   * A persisted endpoint that failed its checks: logged, and its datapath
   * state (endpoint map entry, route, policy, connections) removed as delete()
   * does, by the keys that are its own: not an id or address a restored
   * endpoint has, and the interface only when it is the veth CNI makes for
   * that container and no reserved one (uplink, tunnel device, lo) nor a
   * restored endpoint's; anything else is never touched.
   */
  private async restoreRefused(ep: Partial<EndpointModel>, error: Error, restored: readonly EndpointModel[]): Promise<void> {
    const code = (error as { code?: unknown }).code;
    this.log.warn('endpoint refused at restore; not programmed', { id: ep.id, containerID: ep.containerID, hostIfname: ep.hostIfname, ipv4: ep.ipv4, code, error: error.message });
    // Only an id and address this agent could have programmed name datapath state.
    const keyed = Number.isInteger(ep.id) && ep.id! >= 1 && ep.id! <= MAX_ENDPOINT_ID && typeof ep.ipv4 === 'string' && IPV4_RE.test(ep.ipv4);
    if (!keyed || restored.some((o) => o.id === ep.id || o.ipv4 === ep.ipv4)) return;
    const ownVeth =
      typeof ep.containerID === 'string' && typeof ep.ifname === 'string' && typeof ep.hostIfname === 'string' && ep.hostIfname === hostIfname(ep.containerID, ep.ifname) &&
      !this.admission?.reserved.has(ep.hostIfname) && !restored.some((o) => o.hostIfname === ep.hostIfname);
    await this.datapath.removeEndpoint(ep as EndpointModel, { keepInterface: !ownVeth }).catch((e) => this.log.warn('refused endpoint not cleaned', { id: ep.id, error: (e as Error).message }));
  }

  /**
   * Creates (or, for the same container and interface, returns) an endpoint
   * and programs it. A request that fails validation or admission changes
   * nothing: no endpoint, and no program attached anywhere.
   */
  async create(req: EndpointCreateRequest, opts: CreateOptions = {}): Promise<EndpointModel> {
    const r = validateEndpointRequest(req);
    if (this.admission) admitEndpoint(r, this.admission, this.byId.values(), opts);
    const existing = this.find(r.containerID, r.ifname);
    if (existing && existing.ipv4 === r.ipv4 && existing.hostIfname === r.hostIfname) return existing;
    if (existing) await this.delete(r.containerID, r.ifname);
    const clash = this.findByIP(r.ipv4);
    if (clash) throw new EndpointInvalidError('ipv4', `endpoint ${r.containerID}: ipv4: ${r.ipv4} is already used by endpoint ${clash.id} (${clash.containerID})`);
    const ep: EndpointModel = {
      id: this.freeId(),
      containerID: r.containerID,
      ifname: r.ifname,
      netns: r.netns,
      hostIfname: r.hostIfname,
      hostIfindex: 0,
      ipv4: r.ipv4,
      mac: r.mac.toLowerCase(),
      hostMac: r.hostMac.toLowerCase(),
      ...(r.pod ? { pod: r.pod } : {}),
      labels: r.labels ?? {},
      identity: IDENTITY_INIT,
      state: 'regenerating',
      createdAt: new Date().toISOString(),
    };
    this.byId.set(ep.id, ep);
    try {
      // Fail closed: the endpoint's first write into bl_lxc already enforces both directions, with no
      // entries yet; the policy manager switches to the endpoint's own policy once it is computed.
      this.datapath.policy?.setEndpointFlags(ep, this.initFlags);
      await this.datapath.upsertEndpoint(ep);
    } catch (e) {
      this.byId.delete(ep.id);
      await this.datapath.removeEndpoint(ep).catch(() => undefined);
      throw e;
    }
    ep.state = 'ready';
    this.save();
    this.changed(ep);
    // Networking is up with reserved:init (its traffic dropped but for what a policy selecting
    // reserved:init allows); the real identity follows as soon as the allocator answers.
    if (this.backend) await waitAtMost(this.resolve(ep), IDENTITY_WAIT_MS);
    // And its policy in the maps before the pod's first packet (CNI ADD returns after this), as
    // Cilium waits for an endpoint's first regeneration; bounded like the identity wait.
    if (this.policyGate) await waitAtMost(this.policyGate(ep), IDENTITY_WAIT_MS);
    this.log.info('endpoint created', { id: ep.id, ip: ep.ipv4, iface: ep.hostIfname, pod: ep.pod ? `${ep.pod.namespace}/${ep.pod.name}` : ep.containerID.slice(0, 12) });
    return ep;
  }

  async delete(containerID: string, ifname: string): Promise<EndpointDeleteResult> {
    const ep = this.find(containerID, ifname);
    if (!ep) return { deleted: false };
    ep.state = 'disconnecting';
    await this.datapath.removeEndpoint(ep);
    this.byId.delete(ep.id);
    this.save();
    this.changed(ep);
    this.releaseIdentity(ep);
    this.log.info('endpoint deleted', { id: ep.id, ip: ep.ipv4 });
    return { deleted: true, id: ep.id };
  }

  /** Identities come from `backend` from now on; every endpoint without one is resolved. */
  setIdentityBackend(backend: IdentityBackend | undefined): void {
    this.backend = backend;
    if (backend) this.regenerate();
  }

  /** Starts identity resolution of every endpoint that holds no reference yet (a retry after store failures). */
  regenerate(): void {
    for (const ep of this.byId.values()) if (!this.held.has(ep)) void this.resolve(ep);
  }

  /**
   * Publishes endpoint `id`'s ipcache entry again, because what the backend
   * publishes with it changed (its mutual-authentication flag, issue 15).
   * Nothing while its identity is not resolved: the resolution publishes it.
   */
  republish(id: number): void {
    const ep = this.byId.get(id);
    const h = ep && this.held.get(ep);
    const b = this.backend;
    if (!ep || !h || !b) return;
    b.publish(ep.ipv4, h.identity, ep).catch((e: unknown) => this.log.warn('endpoint ipcache entry not published again', { id, error: (e as Error).message }));
  }

  /** This node's identity references as the endpoints hold them: identity → endpoints. */
  identityUsers(): Map<number, number> {
    const out = new Map<number, number>();
    for (const h of this.held.values()) out.set(h.identity, (out.get(h.identity) ?? 0) + 1);
    return out;
  }

  private resolve(ep: EndpointModel): Promise<void> {
    const running = this.resolving.get(ep);
    if (running) return running;
    const p = this.doResolve(ep)
      .catch((e) => this.log.warn('endpoint identity not resolved; retrying', { id: ep.id, error: (e as Error).message }))
      .finally(() => this.resolving.delete(ep));
    this.resolving.set(ep, p);
    return p;
  }

  private async doResolve(ep: EndpointModel): Promise<void> {
    const b = this.backend;
    if (!b || !ep.pod || this.held.has(ep)) return;
    const source = b.podSource ? await b.podSource(ep.pod.namespace, ep.pod.name) : undefined;
    const labels = source ? formatLabelSet(podIdentityLabels(source)) : endpointIdentityLabels(ep);
    if (!labels || this.held.has(ep)) return;
    const { id } = await b.acquire(labels);
    if (this.byId.get(ep.id) !== ep) {
      await b.release(labels); // deleted meanwhile
      return;
    }
    this.held.set(ep, { labels, identity: id });
    ep.identityLabels = labels;
    if (ep.identity !== id) {
      const from = ep.identity;
      ep.identity = id;
      await this.datapath.upsertEndpoint(ep);
      this.save();
      this.changed(ep);
      this.log.info('endpoint identity', { id: ep.id, ip: ep.ipv4, from, to: id });
    }
    await b.publish(ep.ipv4, id, ep);
    if (this.byId.get(ep.id) !== ep) await b.unpublish(ep.ipv4).catch(() => false);
  }

  /** Drops the endpoint's identity reference and ipcache entry, in the background: a delete never waits for the store. */
  private releaseIdentity(ep: EndpointModel): void {
    const h = this.held.get(ep);
    this.held.delete(ep);
    const b = this.backend;
    if (!h || !b) return;
    void Promise.all([b.release(h.labels), b.unpublish(ep.ipv4)]).catch((e) =>
      this.log.warn('endpoint identity release', { id: ep.id, identity: h.identity, error: (e as Error).message }),
    );
  }

  private freeId(): number {
    for (let id = 1; id <= MAX_ENDPOINT_ID; id++) if (!this.byId.has(id)) return id;
    throw new EndpointLimitError(`endpoint: all ${MAX_ENDPOINT_ID} endpoint ids of this node are in use`);
  }

  private save(): void {
    mkdirSync(dirname(this.statePath), { recursive: true });
    writeFileSync(`${this.statePath}.tmp`, JSON.stringify(this.list(), null, 2));
    renameSync(`${this.statePath}.tmp`, this.statePath);
  }
}

function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p.then(() => undefined), new Promise<void>((r) => (t = setTimeout(r, ms)))]).finally(() => clearTimeout(t));
}
