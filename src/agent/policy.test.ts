import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { PolicyManager } from './policy.js';
import type { Informer, Store, StoreObject } from '../store/store.js';
import type { PolicyDatapath, PolicyMapEntry, PolicyMapRow, PolicyUpdate } from '../datapath/policy.js';
import type { EndpointManager } from './endpoints.js';
import type { EndpointModel } from './types.js';
import { canonicalLabels } from '../identity/labels.js';
import { RESERVED_IDENTITIES, type Identity } from '../identity/reserved.js';
import { logger } from '../common/log.js';
import { BlEndpointFlags } from '../datapath/generated/abi.js';
import type { EndpointRedirects } from './proxy.js';

/** An informer over a fixed list that the test changes by hand. */
class FakeInformer extends EventEmitter {
  readonly items = new Map<string, StoreObject>();
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  hasSynced(): boolean {
    return true;
  }
  async waitForSync(): Promise<void> {}
  get(ns: string | undefined, name: string): StoreObject | undefined {
    return this.items.get(`${ns ?? ''}/${name}`);
  }
  list(): StoreObject[] {
    return [...this.items.values()];
  }
  resourceVersion(): string {
    return '1';
  }
  put(o: StoreObject): void {
    const k = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const had = this.items.has(k);
    this.items.set(k, o);
    this.emit(had ? 'update' : 'add', o);
  }
  remove(o: StoreObject): void {
    this.items.delete(`${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    this.emit('delete', o);
  }
}

/** Records every write in order. */
class FakePolicyDatapath implements PolicyDatapath {
  readonly log: string[] = [];
  readonly map = new Map<number, PolicyMapEntry[]>();
  constructor(initial: [number, PolicyMapEntry[]][] = []) {
    for (const [id, e] of initial) this.map.set(id, e);
  }
  apply(epId: number, u: PolicyUpdate): void {
    this.log.push(`apply ${epId} +${u.upserts.length} -${u.deletes.length}`);
    const key = (e: Pick<PolicyMapEntry, 'direction' | 'identity' | 'protocol' | 'port' | 'portPrefixLen'>) => `${e.direction}/${e.identity}/${e.protocol}/${e.port}/${e.portPrefixLen}`;
    const m = new Map((this.map.get(epId) ?? []).map((e) => [key(e), e]));
    for (const e of u.upserts) m.set(key(e), e);
    for (const e of u.deletes) m.delete(key(e));
    this.map.set(epId, [...m.values()]);
  }
  entries(epId?: number): PolicyMapRow[] {
    return [...this.map].filter(([id]) => epId === undefined || id === epId).flatMap(([id, es]) => es.map((e) => ({ ...e, endpoint: id, proxyPort: e.proxyPort ?? 0, packets: 0n, bytes: 0n })));
  }
  deleteEndpoint(epId: number): number {
    this.log.push(`delete ${epId}`);
    const n = this.map.get(epId)?.length ?? 0;
    this.map.delete(epId);
    return n;
  }
  setEndpointPolicyFlags(): number {
    return 0;
  }
  setEndpointFlags(ep: { id: number }, flags: number): number {
    this.log.push(`flags ${ep.id} ${flags}`);
    return 1;
  }
  capacity() {
    return { entries: 1 << 18, perEndpoint: 16384 };
  }
}

const ns = (name: string) => `k8s:io.kubernetes.pod.namespace=${name}`;
const IDS: Identity[] = [
  ...RESERVED_IDENTITIES,
  { id: 1001, labels: canonicalLabels([ns('x'), 'k8s:pod=a']) },
  { id: 1002, labels: canonicalLabels([ns('x'), 'k8s:pod=b']) },
  { id: 1003, labels: canonicalLabels([ns('y'), 'k8s:pod=a']) },
];

function endpoint(id: number, identity: number, pod: string): EndpointModel {
  const [namespace, name] = pod.split('/') as [string, string];
  const labels = IDS.find((i) => i.id === identity)!.labels.map((l) => `${l.source}:${l.key}=${l.value}`);
  return { id, containerID: `c${id}`, ifname: 'eth0', netns: '', hostIfname: `lxc${id}`, hostIfindex: id, ipv4: `10.0.1.${id}`, mac: '', hostMac: '', pod: { namespace, name }, labels: {}, identity, identityLabels: labels, state: 'ready', createdAt: '' };
}

function cnp(nsName: string, name: string, spec: unknown, rv = '1'): StoreObject {
  return { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { namespace: nsName, name, resourceVersion: rv, uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z' }, spec };
}

/**
 * proxyPorts: with a node proxy; `ack` says when it acknowledges what it is
 * handed: 'auto' right after (a healthy proxy), 'manual' when the test calls
 * mgr.proxyApplied (a proxy that acks late, or never).
 */
async function setup(opts: { enforcement?: 'default' | 'always' | 'never'; policyMapMax?: number; initial?: [number, PolicyMapEntry[]][]; proxyPorts?: { ingress?: number; dns?: number }; ack?: 'auto' | 'manual' } = {}) {
  const informers = new Map<string, FakeInformer>();
  const store = { informer: (kind: string) => informers.get(kind) ?? informers.set(kind, new FakeInformer()).get(kind)! } as unknown as Store;
  const eps = [endpoint(1, 1001, 'x/a'), endpoint(2, 1002, 'x/b')];
  const listeners: ((ep: EndpointModel) => void)[] = [];
  const endpoints = { list: () => eps, get: (id: number) => eps.find((e) => e.id === id), onChange: (cb: (ep: EndpointModel) => void) => (listeners.push(cb), () => undefined) } as unknown as EndpointManager;
  const dp = new FakePolicyDatapath(opts.initial);
  let cidrChanges = 0;
  const redirects: EndpointRedirects[][] = [];
  const generations: number[] = [];
  const authChanges: number[][] = [];
  /** Automatic acknowledgements handed out and not yet given to the manager. */
  let acksDue = 0;
  const logText: string[] = [];
  const logStream = new PassThrough();
  logStream.on('data', (b: Buffer) => logText.push(b.toString()));
  const redirectsChanged = (eps: EndpointRedirects[], gen: number) => {
    redirects.push(eps);
    generations.push(gen);
    // In the datapath's log too: the order of map writes and proxy updates is what is tested.
    dp.log.push(`proxy ${gen} ${eps.map((e) => `${e.ipv4}:${[...new Set(e.l7.map((r) => r.port))].join('+')}`).join(' ')}`.trimEnd());
    if ((opts.ack ?? 'auto') === 'auto') {
      acksDue++;
      setImmediate(() => {
        acksDue--;
        mgr.proxyApplied(gen);
      });
    }
  };
  const mgr = new PolicyManager(
    {
      store,
      datapath: dp,
      endpoints,
      identities: () => IDS,
      onIdentityChange: () => () => undefined,
      identityOfIP: () => 2,
      cidrIdentitiesChanged: () => cidrChanges++,
      authRequiredChanged: (ids) => authChanges.push(ids),
      ...(opts.proxyPorts ? { redirectsChanged } : {}),
      log: logger('test', logStream),
    },
    { enforcement: opts.enforcement ?? 'default', audit: false, allowLocalhost: true, policyMapMax: opts.policyMapMax ?? 16384, ...(opts.proxyPorts ? { proxyPorts: opts.proxyPorts } : {}) },
  );
  await mgr.start();
  const cnps = informers.get('CiliumNetworkPolicy')! as unknown as FakeInformer & Informer;
  /**
   * Lets the manager's debounced flushes run: until nothing is scheduled or due and no automatic
   * acknowledgement is on its way, twice in a row (a flush can schedule the next), however slow
   * the machine. A late acknowledgement (ack: 'manual') is not awaited.
   */
  const settle = async () => {
    await new Promise((r) => setTimeout(r, 10));
    for (let quiet = 0, i = 0; quiet < 2; i++) {
      if (i > 2000) throw new Error('policy manager never settled');
      await new Promise((r) => setTimeout(r, 5));
      quiet = mgr.hasPendingWork() || acksDue > 0 ? 0 : quiet + 1;
    }
  };
  const addEndpoint = (ep: EndpointModel) => {
    eps.push(ep);
    for (const l of listeners) l(ep);
  };
  /** An endpoint changed in place (its identity): the manager is told, as EndpointManager tells it. */
  const changedEndpoint = (ep: EndpointModel) => {
    for (const l of listeners) l(ep);
  };
  return { mgr, dp, cnps, settle, cidrChanges: () => cidrChanges, informers, redirects, generations, logText, addEndpoint, changedEndpoint, authChanges };
}

const INGRESS = BlEndpointFlags.BL_EP_F_POLICY_INGRESS;
const EGRESS = BlEndpointFlags.BL_EP_F_POLICY_EGRESS;

test('policy manager: entries are written before enforcement is switched on, and only for the endpoints a policy selects', async () => {
  const { mgr, dp, cnps, settle } = await setup();
  // The endpoints start enforced (EndpointManager: fail closed); no policy selects them: switched off.
  assert.deepEqual(dp.log, ['flags 1 0', 'flags 2 0'], 'no policy: no entries, enforcement off');
  dp.log.length = 0;
  cnps.put(cnp('x', 'a-from-y', { endpointSelector: { matchLabels: { pod: 'a' } }, ingress: [{ fromEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'y' } }] }] }));
  await settle();
  assert.deepEqual(dp.log, ['apply 1 +3 -0', `flags 1 ${INGRESS}`], 'endpoint 1 only: default deny, allow-localhost, y/a; then the flag');
  assert.equal(mgr.isSynced(), true);
  assert.deepEqual(mgr.status().policies, ['CiliumNetworkPolicy/x/a-from-y@1']);
  // A change to the policy touches endpoint 1 only, and only what differs.
  dp.log.length = 0;
  cnps.put(cnp('x', 'a-from-y', { endpointSelector: { matchLabels: { pod: 'a' } }, ingress: [{ fromEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'y' } }] }], egress: [{ toEntities: ['world'] }] }, '2'));
  await settle();
  assert.deepEqual(dp.log, ['apply 1 +3 -0', `flags 1 ${INGRESS | EGRESS}`], 'egress default deny, world (2) and world-ipv4 (9)');
  // Removing it switches enforcement off before the entries go.
  dp.log.length = 0;
  cnps.remove(cnp('x', 'a-from-y', {}));
  await settle();
  assert.deepEqual(dp.log, ['flags 1 0', 'apply 1 +0 -6']);
  assert.deepEqual(dp.map.get(1), []);
});

function ccnp(name: string, spec: unknown, rv = '1'): StoreObject {
  return { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: { name, resourceVersion: rv, uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z' }, spec };
}

test('policy manager: an endpoint with the init identity is enforced both ways; only rules selecting reserved:init allow; its own policy follows its identity', async () => {
  const { mgr, dp, settle, informers, addEndpoint, changedEndpoint } = await setup();
  const init = { ...endpoint(3, 1001, 'x/c'), identity: 5 };
  delete init.identityLabels;
  dp.log.length = 0;
  addEndpoint(init);
  await settle();
  assert.deepEqual(dp.log, [`flags 3 ${INGRESS | EGRESS}`], 'enforced with no entries: everything a policy would decide is dropped');
  assert.deepEqual(mgr.enforcementOf(3), { ingress: true, egress: true, audit: false, ingressDefaultDeny: true, egressDefaultDeny: true });
  // Cilium's init policy: initializing endpoints may reach the host (and so its DNS proxy) and hear from it.
  const ccnps = informers.get('CiliumClusterwideNetworkPolicy')! as unknown as FakeInformer & Informer;
  dp.log.length = 0;
  ccnps.put(ccnp('init', { endpointSelector: { matchLabels: { 'reserved:init': '' } }, egress: [{ toEntities: ['host'] }] }));
  await settle();
  const egress = dp.map.get(3)!.filter((e) => e.direction === 'egress');
  assert.deepEqual(egress.map((e) => [e.identity, e.verdict]), [[0, 'default-deny'], [1, 'allow']], 'egress: the host allowed, the rest denied');
  assert.equal(dp.map.get(1)?.length ?? 0, 0, 'an endpoint with its identity is not selected by reserved:init');
  assert.ok(!dp.log.some((l) => l.startsWith('flags 3')), 'still enforced both ways: no flag write');
  // The identity arrives: its own policy (none selects it) replaces the init one, enforcement first.
  dp.log.length = 0;
  init.identity = 1001;
  init.identityLabels = IDS.find((i) => i.id === 1001)!.labels.map((l) => `${l.source}:${l.key}=${l.value}`);
  changedEndpoint(init);
  await settle();
  assert.equal(dp.log[0], 'flags 3 0', 'enforcement off before the init entries go');
  assert.deepEqual(dp.map.get(3) ?? [], []);
});

test('policy manager: an endpoint id deleted and given to a new endpoint before a flush gets its flags written (it starts fail closed)', async () => {
  const { dp, settle, addEndpoint, changedEndpoint, mgr } = await setup();
  await settle();
  dp.log.length = 0;
  // CNI ADD replacing a container's endpoint: delete, then create with the freed id, in one go.
  const eps = (mgr as unknown as { deps: { endpoints: { list(): EndpointModel[] } } }).deps.endpoints.list();
  const old = eps.splice(eps.findIndex((e) => e.id === 1), 1)[0]!;
  changedEndpoint(old);
  addEndpoint(endpoint(1, 1001, 'x/a'));
  await settle();
  assert.deepEqual(dp.log, ['flags 1 0'], 'the new endpoint is switched from its fail-closed start to its policy (none)');
});

test('policy manager: with enforcement never, an init endpoint is not enforced either', async () => {
  const { dp, settle, addEndpoint } = await setup({ enforcement: 'never' });
  dp.log.length = 0;
  const init = { ...endpoint(3, 1001, 'x/c'), identity: 5 };
  addEndpoint(init);
  await settle();
  assert.deepEqual(dp.log, ['flags 3 0']);
});

test('policy manager: a policy too big for an endpoint keeps the last one that fitted and says why', async () => {
  const { mgr, dp, cnps, settle } = await setup({ policyMapMax: 6 });
  cnps.put(cnp('x', 'p', { endpointSelector: { matchLabels: { pod: 'a' } }, ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] }));
  await settle();
  const before = structuredClone(dp.map.get(1));
  assert.equal(before?.length, 3);
  dp.log.length = 0;
  cnps.put(cnp('x', 'p', { endpointSelector: { matchLabels: { pod: 'a' } }, ingress: [{ toPorts: [{ ports: [80, 81, 82, 83, 84, 85, 86].map((p) => ({ port: String(p * 100), protocol: 'TCP' })) }] }] }, '2'));
  await settle();
  assert.deepEqual(dp.log, [], 'nothing of it written');
  assert.deepEqual(dp.map.get(1), before);
  const row = mgr.endpointRows().find((r) => r.id === 1)!;
  assert.match(row.error ?? '', /needs 9 map entries, more than --bpf-policy-map-max 6/);
  cnps.put(cnp('x', 'p', { endpointSelector: { matchLabels: { pod: 'a' } }, ingress: [{ toPorts: [{ ports: [{ port: '81', protocol: 'TCP' }] }] }] }, '3'));
  await settle();
  assert.equal(mgr.endpointRows().find((r) => r.id === 1)!.error, undefined, 'fits again: applied, error gone');
  assert.ok(dp.map.get(1)!.some((e) => e.port === 81));
});

test('policy manager: entries an earlier agent left for endpoints that are gone are deleted; CIDR prefixes get local identities', async () => {
  const stale: PolicyMapEntry = { direction: 'ingress', identity: 0, protocol: 0, port: 0, portPrefixLen: 0, verdict: 'default-deny', cookie: 9, proxyPort: 0 };
  const { mgr, dp, cnps, settle, cidrChanges } = await setup({ initial: [[9, [stale]]] });
  assert.ok(dp.log.includes('delete 9'));
  cnps.put(cnp('x', 'to-net', { endpointSelector: {}, egress: [{ toCIDRSet: [{ cidr: '172.18.0.0/24', except: ['172.18.0.101/32'] }] }] }));
  await settle();
  assert.deepEqual([...mgr.cidrIdentities().keys()].sort(), ['172.18.0.0/24', '172.18.0.101/32']);
  assert.ok([...mgr.cidrIdentities().values()].every((id) => id > 1 << 24), 'node-local identities');
  assert.equal(cidrChanges(), 1, 'the ipcache is told once');
  const allowed = dp.map.get(2)!.filter((e) => e.direction === 'egress' && e.verdict === 'allow').map((e) => e.identity);
  assert.deepEqual(allowed, [mgr.cidrIdentities().get('172.18.0.0/24')], 'only the /24, not its except');
  cnps.remove(cnp('x', 'to-net', {}));
  await settle();
  assert.equal(mgr.cidrIdentities().size, 0, 'released with the policy');
});

test('policy manager: trace answers through the same entries, naming the deciding policies', async () => {
  const { mgr, cnps, settle } = await setup();
  cnps.put(cnp('x', 'deny-b', { endpointSelector: { matchLabels: { pod: 'a' } }, ingress: [{ fromEntities: ['all'] }], ingressDeny: [{ fromEndpoints: [{ matchLabels: { pod: 'b' } }] }] }));
  await settle();
  const [denied, allowed] = mgr.trace([
    { src: { identity: 1002 }, dst: { ip: '10.0.1.1' }, port: 80, protocol: 'TCP' },
    { src: { identity: 1003 }, dst: { ip: '10.0.1.1' }, port: 80, protocol: 'TCP' },
  ]);
  assert.equal(denied!.allowed, false);
  assert.equal(denied!.ingress?.dropReason, 181);
  assert.deepEqual(denied!.ingress?.by, ['CiliumNetworkPolicy/x/deny-b']);
  assert.equal(allowed!.allowed, true);
  assert.throws(() => mgr.trace([{ src: { pod: 'x/nope' }, dst: { identity: 2 }, port: 80, protocol: 'TCP' }]), /pod x\/nope: not found/);
  // By labels: an existing identity's labels, and a label set no identity has (a stand-in for the query only).
  const [byLabels, newcomer] = mgr.trace([
    { src: { labels: ['pod=b', 'k8s:io.kubernetes.pod.namespace=x'] }, dst: { labels: ['k8s:pod=a', 'io.kubernetes.pod.namespace=x'] }, port: 80, protocol: 'TCP' },
    { src: { labels: ['pod=b', 'k8s:io.kubernetes.pod.namespace=x', 'extra=1'] }, dst: { labels: ['k8s:pod=a', 'io.kubernetes.pod.namespace=x'] }, port: 80, protocol: 'TCP' },
  ]);
  assert.deepEqual([byLabels!.src.identity, byLabels!.dst.identity, byLabels!.allowed], [1002, 1001, false]);
  assert.equal(newcomer!.allowed, false, 'a new pod with pod=b is denied too');
  assert.deepEqual(newcomer!.ingress?.by, ['CiliumNetworkPolicy/x/deny-b']);
  assert.equal(mgr.trace([{ src: { labels: ['pod=c', 'k8s:io.kubernetes.pod.namespace=x'] }, dst: { labels: ['pod=a', 'io.kubernetes.pod.namespace=x'] }, port: 80, protocol: 'TCP' }])[0]!.allowed, true);
});

test('policy manager: pod and Service events recompute nothing unless what the engine sees of them changed', async () => {
  const { mgr, dp, cnps, settle } = await setup();
  const store = (mgr as unknown as { informers: Map<string, FakeInformer> }).informers;
  cnps.put(cnp('x', 'a-to-http', { endpointSelector: { matchLabels: { pod: 'a' } }, egress: [{ toPorts: [{ ports: [{ port: 'http', protocol: 'TCP' }] }] }] }));
  await settle();
  const flushes = () => mgr.status().lastFlush?.at;
  const pod = (name: string, ports: { name: string; containerPort: number }[]): StoreObject => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'y', name, uid: name, resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { containers: [{ name: 'c', ports }] }, status: { podIP: '10.0.2.7' },
  });
  const before = flushes();
  const writes = dp.log.length;
  store.get('Pod')!.put(pod('p1', []));
  store.get('Service')!.put({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'y', name: 's', uid: 's', resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { selector: { app: 's' } } });
  await settle();
  assert.equal(dp.log.length, writes, 'a pod without named ports and a Service no policy refers to change nothing');
  assert.ok(flushes() === before || mgr.status().lastFlush?.endpoints === 0, 'and no endpoint was recomputed');
  store.get('Pod')!.put(pod('p1', [{ name: 'http', containerPort: 8080 }]));
  await settle();
  assert.equal(mgr.status().lastFlush?.endpoints, 2, 'a new named port recomputes the endpoints');
  assert.ok(dp.map.get(1)!.some((e) => e.direction === 'egress' && e.verdict === 'allow' && e.port === 8080), 'and egress to http resolves to 8080 for that peer');
});

test('policy manager: whenProgrammed resolves once the endpoint\'s entries are written (CNI ADD waits on it)', async () => {
  const { mgr, dp, cnps } = await setup();
  await mgr.whenProgrammed(1); // nothing pending: at once
  cnps.put(cnp('x', 'a-from-y', { endpointSelector: { matchLabels: { pod: 'a' } }, ingress: [{}] }));
  assert.equal(dp.map.get(1), undefined, 'not written yet (the flush is debounced)');
  await mgr.whenProgrammed(1);
  assert.ok((dp.map.get(1) ?? []).length > 0, 'written when it resolves');
});

test('policy manager: a pod\'s proxy-visibility annotation (else its namespace\'s) redirects its ingress HTTP port without enforcing anything; what is not honoured is logged and shown', async () => {
  const { mgr, dp, settle, informers, redirects, logText } = await setup({ proxyPorts: { ingress: 15001 } });
  const pods = informers.get('Pod')!;
  const namespaces = informers.get('Namespace')!;
  const meta = { resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z' };
  const pod = (name: string, annotations?: Record<string, string>): StoreObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'x', name, uid: name, ...meta, ...(annotations ? { annotations } : {}) }, spec: { containers: [] } });
  pods.put(pod('a'));
  pods.put(pod('b'));
  await settle();
  assert.deepEqual(mgr.enforcementOf(1), { ingress: false, egress: false, audit: false, ingressDefaultDeny: false, egressDefaultDeny: false });
  const log0 = dp.log.length;
  pods.put(pod('a', { 'policy.cilium.io/proxy-visibility': '<Ingress/80/TCP/HTTP>,<Egress/53/UDP/DNS>' }));
  await settle();
  assert.deepEqual(dp.log.slice(log0), ['proxy 2 10.0.1.1:80', 'apply 1 +4 -0', `flags 1 ${INGRESS}`], 'the proxy gets the redirect first; after its ack the entries, then ingress enforcement; endpoint 2 untouched');
  assert.deepEqual(mgr.enforcementOf(1), { ingress: true, egress: false, audit: false, ingressDefaultDeny: false, egressDefaultDeny: false });
  const e80 = dp.map.get(1)!.find((e) => e.identity === 0 && e.protocol === 6 && e.port === 80)!;
  assert.deepEqual([e80.verdict, e80.proxyPort], ['allow', 15001]);
  assert.deepEqual(redirects.at(-1)!.map((r) => [r.ipv4, r.l7.map((x) => `${x.identity}:${x.port}:${x.http.map((h) => h.origin.name).join('+')}`)]), [['10.0.1.1', ['0:80:visibility-annotation', '1:80:allow-localhost+visibility-annotation']]]);
  const row = mgr.endpointRows().find((r) => r.id === 1)!;
  assert.deepEqual(row.problems.map((p) => [p.policy, p.path]), [['Pod/x/a', 'metadata.annotations[policy.cilium.io/proxy-visibility]']]);
  assert.match(row.problems[0]!.message, /^<Egress\/53\/UDP\/DNS>: not honoured/);
  assert.match(logText.join(''), /proxy visibility annotation not honoured as written.*Egress\/53\/UDP\/DNS/);
  // The namespace's annotation reaches the pod without one (b), not a (its own wins).
  namespaces.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', uid: 'nsx', ...meta, annotations: { 'policy.cilium.io/proxy-visibility': '<Ingress/8080/TCP/HTTP>' } } });
  await settle();
  assert.deepEqual(redirects.at(-1)!.map((r) => [r.ipv4, [...new Set(r.l7.map((x) => x.port))]]), [['10.0.1.1', [80]], ['10.0.1.2', [8080]]]);
  assert.equal(mgr.enforcementOf(2).ingress, true);
  // Removed: back to not enforced, no redirects.
  namespaces.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', uid: 'nsx', ...meta } });
  pods.put(pod('a'));
  await settle();
  assert.deepEqual([mgr.enforcementOf(1).ingress, mgr.enforcementOf(2).ingress], [false, false]);
  assert.deepEqual(dp.map.get(1), []);
  assert.deepEqual(redirects.at(-1), []);
  assert.deepEqual(mgr.endpointRows().find((r) => r.id === 1)!.problems, []);
});

const SEL_A = { endpointSelector: { matchLabels: { pod: 'a' } } };
const FROM_B = { fromEndpoints: [{ matchLabels: { pod: 'b' } }] };
const port80 = (http?: unknown[]) => [{ ports: [{ port: '80', protocol: 'TCP' }], ...(http ? { rules: { http } } : {}) }];
const redirectsOf = (dp: FakePolicyDatapath, id: number) => (dp.map.get(id) ?? []).filter((e) => e.proxyPort > 0).map((e) => `${e.identity}:${e.port}`).sort();

test('policy manager: with a node proxy that acknowledges late, a redirect entry is written only after the ack; until then the endpoint keeps what the map held and says why', async () => {
  const { mgr, dp, cnps, settle, generations } = await setup({ proxyPorts: { ingress: 15001 }, ack: 'manual' });
  mgr.proxyApplied(generations.at(-1)!); // the proxy holds the first (empty) configuration
  // L4 first: b may reach a on 80. Nothing for the proxy: written at once.
  cnps.put(cnp('x', 'p', { ...SEL_A, ingress: [{ ...FROM_B, toPorts: port80() }] }));
  await settle();
  assert.deepEqual(redirectsOf(dp, 1), []);
  assert.equal(mgr.isSynced(), true);
  const l4 = structuredClone(dp.map.get(1));
  // HTTP rules on the same port: the proxy is handed them, the map waits.
  dp.log.length = 0;
  cnps.put(cnp('x', 'p', { ...SEL_A, ingress: [{ ...FROM_B, toPorts: port80([{ method: 'GET', path: '/a' }]) }] }, '2'));
  await settle();
  const gen = generations.at(-1)!;
  assert.deepEqual(dp.log, [`proxy ${gen} 10.0.1.1:80`], 'the proxy is handed the rule set; nothing written');
  assert.deepEqual(dp.map.get(1), l4, 'the map holds the L4 policy: b still reaches a on 80, at L4');
  assert.equal(mgr.isSynced(), false);
  assert.match(mgr.endpointRows().find((r) => r.id === 1)!.error ?? '', /wait for the node proxy/);
  let programmed = false;
  void mgr.whenProgrammed(1).then(() => (programmed = true));
  // An acknowledgement of an older configuration (without the rule set) releases nothing.
  mgr.proxyApplied(gen - 1);
  await settle();
  assert.deepEqual([redirectsOf(dp, 1), programmed], [[], false]);
  // The proxy runs it: now the entry redirects.
  mgr.proxyApplied(gen);
  await settle();
  assert.deepEqual(redirectsOf(dp, 1), ['1002:80', '1:80'], 'b, and the host (allow-localhost)');
  assert.deepEqual(dp.log.slice(1), ['apply 1 +2 -0']);
  assert.deepEqual([mgr.isSynced(), programmed, mgr.endpointRows().find((r) => r.id === 1)!.error], [true, true, undefined]);

  // New rules for the same redirect: the proxy first (a reload), the map after (nothing to write: same port).
  dp.log.length = 0;
  cnps.put(cnp('x', 'p', { ...SEL_A, ingress: [{ ...FROM_B, toPorts: port80([{ method: 'GET', path: '/b' }]) }] }, '3'));
  await settle();
  const gen3 = generations.at(-1)!;
  assert.equal(gen3, gen + 1);
  assert.equal(mgr.isSynced(), false, 'the new rules wait for the proxy');
  mgr.proxyApplied(gen3);
  await settle();
  assert.deepEqual(dp.log, [`proxy ${gen3} 10.0.1.1:80`]);
  assert.equal(mgr.isSynced(), true);

  // The HTTP rules go: the map first (no redirect), then the proxy loses the rule set.
  dp.log.length = 0;
  cnps.put(cnp('x', 'p', { ...SEL_A, ingress: [{ ...FROM_B, toPorts: port80() }] }, '4'));
  await settle();
  assert.deepEqual(dp.log, ['apply 1 +1 -1', `proxy ${gen3 + 1}`], 'the entry stops redirecting before the proxy drops the rules');
  assert.deepEqual(redirectsOf(dp, 1), []);
  assert.equal(mgr.isSynced(), true, 'a removal does not wait for the proxy');
});

test('policy manager: DNS redirects, and the entries of an address the DNS proxy learns, are written in the flush itself: they never wait for the node proxy (the DNS proxy is the agent\'s own)', async () => {
  const { mgr, dp, cnps, settle, generations } = await setup({ proxyPorts: { ingress: 15001, dns: 15053 }, ack: 'manual' });
  mgr.proxyApplied(generations.at(-1)!);
  // Cilium's DNS docs' form: DNS to b with a DNS rule, and toFQDNs on all ports (so the learned address's port 53 redirects too).
  cnps.put(cnp('x', 'p', { ...SEL_A, egress: [
    { toEndpoints: [{ matchLabels: { pod: 'b' } }], toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: [{ matchPattern: '*' }] } }] },
    { toFQDNs: [{ matchName: 'api.example.test' }] },
  ] }));
  await settle();
  const dnsRedirects = () => (dp.map.get(1) ?? []).filter((e) => e.direction === 'egress' && e.proxyPort === 15053).map((e) => `${e.identity}:${e.protocol}/${e.port}`).sort();
  assert.deepEqual(dnsRedirects(), ['1002:17/53', '1002:6/53'], 'written though the node proxy acknowledged nothing');
  assert.equal(mgr.isSynced(), true);
  // An answer arrives: the name's address is learned and the DNS proxy flushes before it releases the answer.
  assert.equal(mgr.setFqdnNames(new Map([['api.example.test.', ['192.0.2.10']]])), true);
  mgr.flush({ measureCpu: false });
  const id = mgr.cidrIdentities().get('192.0.2.10/32');
  assert.ok(id, 'the address has its CIDR identity');
  const toAddress = (dp.map.get(1) ?? []).filter((e) => e.direction === 'egress' && e.identity === id);
  assert.ok(toAddress.some((e) => e.protocol === 0 && e.verdict === 'allow' && !e.proxyPort), `the address allowed on every port at once: ${JSON.stringify(toAddress)}`);
  assert.deepEqual(dnsRedirects(), [`${id}:17/53`, `${id}:6/53`, '1002:17/53', '1002:6/53'].sort(), 'its port 53 through the DNS proxy too');
  assert.equal(mgr.isSynced(), true, 'nothing waits for the node proxy');
  assert.equal(mgr.lastFlush?.cpuMs, -1, 'no getrusage(2) on the answer\'s path');
});

test('policy manager: an endpoint with nothing in the map gets its policy at once, its unacknowledged redirects as denies; a proxy that never acks changes nothing that was allowed', async () => {
  const { mgr, dp, cnps, settle, generations, addEndpoint } = await setup({ proxyPorts: { ingress: 15001 }, ack: 'manual' });
  mgr.proxyApplied(generations.at(-1)!);
  cnps.put(cnp('x', 'p', { ...SEL_A, ingress: [{ ...FROM_B, toPorts: port80([{ method: 'GET', path: '/a' }]) }] }));
  await settle();
  // Endpoint 1 had a map state (no policy): all of it stays, traffic to it still passes unenforced.
  assert.deepEqual([dp.map.get(1) ?? [], mgr.enforcementOf(1).ingress], [[], false]);
  // A new pod selected by the same policy: enforced from its first packet; port 80 from b denied until the proxy has it.
  const ep3 = { ...endpoint(3, 1001, 'x/a'), id: 3, ipv4: '10.0.1.3', containerID: 'c3' };
  addEndpoint(ep3);
  await settle();
  assert.equal(mgr.enforcementOf(3).ingress, true);
  const e80 = dp.map.get(3)!.find((e) => e.identity === 1002 && e.port === 80)!;
  assert.deepEqual([e80.verdict, e80.proxyPort], ['deny', 0]);
  assert.deepEqual(redirectsOf(dp, 3), []);
  const gen = generations.at(-1)!;
  assert.deepEqual(dp.log.filter((l) => l.startsWith('proxy')).at(-1), `proxy ${gen} 10.0.1.1:80 10.0.1.3:80`, 'the proxy is handed both');
  // It never acknowledges (reload failing): a second later nothing has changed.
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual([redirectsOf(dp, 1), redirectsOf(dp, 3), mgr.isSynced()], [[], [], false]);
  mgr.proxyApplied(gen);
  await settle();
  assert.deepEqual([redirectsOf(dp, 1), redirectsOf(dp, 3), mgr.isSynced()], [['1002:80', '1:80'], ['1002:80', '1:80'], true]);
  assert.deepEqual(mgr.enforcementOf(1).ingress, true);
});

test('policy manager: an endpoint whose ingress requires mutual authentication is told (its ipcache flag), and again when that ends; the entries carry the flag', async () => {
  const { mgr, dp, cnps, settle, authChanges } = await setup();
  await settle();
  assert.deepEqual(authChanges, []);
  const spec = (mode: string) => ({ endpointSelector: { matchLabels: { pod: 'a' } }, ingress: [{ fromEndpoints: [{}], authentication: { mode } }], egress: [{ toEndpoints: [{}], authentication: { mode: 'required' } }] });
  cnps.put(cnp('x', 'auth', spec('required')));
  await settle();
  assert.deepEqual(authChanges, [[1]], 'endpoint 1 only (pod a)');
  assert.equal(mgr.ingressAuthRequired(1), true);
  assert.equal(mgr.ingressAuthRequired(2), false);
  assert.ok(dp.map.get(1)!.some((e) => e.direction === 'ingress' && e.authRequired === true));
  // Egress authentication alone does not flag the endpoint: its own connections go through the proxy.
  cnps.put(cnp('x', 'auth', spec('disabled'), '2'));
  await settle();
  assert.deepEqual(authChanges, [[1], [1]]);
  assert.equal(mgr.ingressAuthRequired(1), false);
  assert.ok(!dp.map.get(1)!.some((e) => e.direction === 'ingress' && e.authRequired === true));
  assert.ok(dp.map.get(1)!.some((e) => e.direction === 'egress' && e.authRequired === true));
  cnps.remove(cnp('x', 'auth', {}));
  await settle();
  assert.deepEqual(authChanges, [[1], [1]], 'nothing changed for the ipcache');
});
