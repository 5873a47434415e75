/**
 * Network-policy conformance on real traffic, in the style of the upstream
 * Kubernetes network-policy tests and cyclonus: three namespaces (x, y, z)
 * of three pods (a, b, c) spread over both nodes of a lab, each pod serving
 * TCP and UDP on ports 80 and 81 (agnhost netexec, named ports
 * serve-80-tcp …), plus two addresses of the outside world. For every case
 * a list of policies is applied and the whole truth table — every pod to
 * every other pod and to the world, on TCP and UDP 80 and 81 — is probed
 * for real from inside the pods and compared cell by cell with the case's
 * expectation, and `policy trace` (the same engine that fills the maps) must
 * answer the same for every cell, down to the kind of drop: every denied
 * cell's drops in `beeline monitor` carry the reason trace gives (133 default
 * deny, 181 explicit deny).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';
import { until, sleep } from '../lib/wait.js';
import { dropKey, dropsDuring, reasonsByKey } from '../lib/drops.js';
import { WorldServers } from '../lib/world.js';
import type { TraceQuery } from '../../src/agent/policy.js';
import { kubectl as applyManifest, traceBatch, waitPoliciesProgrammed, type Traced } from '../lib/policy.js';

const LAB = 'polconf';
const env: Record<string, string> = { BEELINE_LAB: LAB };
const ok = (args: string[]) => beelineOk(args, env);

const kubectl = (verb: 'apply' | 'delete', yaml: string) => applyManifest(env, verb, yaml);

type Proto = 'tcp' | 'udp';
interface Peer {
  /** `x/a` for pods, `world/w1` for the outside world. */
  id: string;
  ns: string;
  name: string;
  ip: string;
  node?: string;
  world?: boolean;
}

const NAMESPACES = ['x', 'y', 'z'] as const;
const PODS = ['a', 'b', 'c'] as const;
const PORTS: [number, Proto][] = [
  [80, 'tcp'],
  [81, 'tcp'],
  [80, 'udp'],
  [81, 'udp'],
];
const WORLD_IPS = ['172.18.0.100', '172.18.0.101'];

const nodeOf = (ns: string, pod: string) => ((NAMESPACES.indexOf(ns as never) * 3 + PODS.indexOf(pod as never)) % 2 === 0 ? 'node1' : 'node2');

const container = (port: number) => `  - name: cont-${port}
    image: registry.k8s.io/e2e-test-images/agnhost:2.47
    args: ["netexec", "--http-port=${port}", "--udp-port=${port}"]
    ports:
    - {containerPort: ${port}, name: serve-${port}-tcp, protocol: TCP}
    - {containerPort: ${port}, name: serve-${port}-udp, protocol: UDP}`;

const WORKLOADS = NAMESPACES.map(
  (ns) => `apiVersion: v1
kind: Namespace
metadata: {name: ${ns}, labels: {ns: ${ns}}}
${PODS.map(
  (p) => `---
apiVersion: v1
kind: Pod
metadata: {name: ${p}, namespace: ${ns}, labels: {pod: ${p}}}
spec:
  nodeName: ${nodeOf(ns, p)}
  containers:
${container(80)}
${container(81)}`,
).join('\n')}`,
)
  .join('\n---\n')
  .concat(`
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: z}
spec:
  selector: {pod: a}
  ports: [{port: 80}]
`);

interface Case {
  name: string;
  /** Policies applied for the case (removed after it). */
  policies: string;
  /** Whether traffic from s to d on port/proto is expected to get through. */
  expect: (s: Peer, d: Peer, port: number, proto: Proto) => boolean;
}

const isPod = (p: Peer) => !p.world;
const np = (ns: string, name: string, spec: string) => `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${spec}`;
const cnp = (ns: string, name: string, spec: string) => `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${spec}`;
const ccnp = (name: string, spec: string) => `apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: ${name}}\nspec:\n${spec}`;
/** The issue's case: deny ingress into x from namespace y, without putting x into default deny. */
const SOFT_DENY = cnp('x', 'deny-from-y', '  endpointSelector: {}\n  enableDefaultDeny: {ingress: false, egress: false}\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": y}}]\n');

const CASES: Case[] = [
  { name: 'no policy: everything reaches everything', policies: '', expect: () => true },
  {
    name: 'default deny ingress in x (NetworkPolicy, empty podSelector, policyTypes [Ingress])',
    policies: np('x', 'deny-ingress', '  podSelector: {}\n  policyTypes: [Ingress]\n'),
    expect: (_s, d) => d.ns !== 'x',
  },
  {
    name: 'default deny egress in x (NetworkPolicy, policyTypes [Egress])',
    policies: np('x', 'deny-egress', '  podSelector: {}\n  policyTypes: [Egress]\n'),
    expect: (s) => s.ns !== 'x',
  },
  {
    name: 'the empty rule: a default deny in x and, in another policy, ingress [{}] (allow everything), add up to everything',
    policies: [np('x', 'deny-ingress', '  podSelector: {}\n  policyTypes: [Ingress]\n'), np('x', 'allow-all', '  podSelector: {}\n  ingress: [{}]\n')].join('---\n'),
    expect: () => true,
  },
  {
    name: 'allow ingress into x from namespace y only (namespaceSelector)',
    policies: np('x', 'from-y', '  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]\n'),
    expect: (s, d) => d.ns !== 'x' || s.ns === 'y',
  },
  {
    name: 'allow ingress into x/a from pod b of namespace y only (podSelector and namespaceSelector in one peer)',
    policies: np('x', 'a-from-yb', '  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: b}}}]\n'),
    expect: (s, d) => d.id !== 'x/a' || s.id === 'y/b',
  },
  {
    name: 'allow ingress into x/a from pods b of any namespace, and from pods of z (two peers)',
    policies: np('x', 'a-from-b-or-z', '  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from: [{namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}, {namespaceSelector: {matchLabels: {ns: z}}}]\n'),
    expect: (s, d) => d.id !== 'x/a' || s.name === 'b' || s.ns === 'z',
  },
  {
    name: 'egress from x only to 172.18.0.0/24 except 172.18.0.101/32 (ipBlock with except)',
    policies: np('x', 'to-world-except', '  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to: [{ipBlock: {cidr: 172.18.0.0/24, except: [172.18.0.101/32]}}]\n'),
    expect: (s, d) => s.ns !== 'x' || d.id === 'world/w1',
  },
  {
    name: 'ingress into x on TCP 81-90 only (port range, endPort)',
    policies: np('x', 'tcp-range', '  podSelector: {}\n  ingress:\n  - ports: [{protocol: TCP, port: 81, endPort: 90}]\n'),
    expect: (_s, d, port, proto) => d.ns !== 'x' || (port === 81 && proto === 'tcp'),
  },
  {
    name: 'ingress into x on the named port serve-80-udp only',
    policies: np('x', 'named-port', '  podSelector: {}\n  ingress:\n  - ports: [{protocol: UDP, port: serve-80-udp}]\n'),
    expect: (_s, d, port, proto) => d.ns !== 'x' || (port === 80 && proto === 'udp'),
  },
  {
    name: 'egress from x to DNS only (UDP and TCP 53)',
    policies: np('x', 'dns-only', '  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n'),
    expect: (s) => s.ns !== 'x',
  },
  {
    name: 'deny overrides allow: x allows all ingress but denies namespace y (CiliumNetworkPolicy ingressDeny)',
    policies: cnp(
      'x',
      'allow-all-deny-y',
      '  endpointSelector: {}\n  ingress:\n  - fromEntities: [all]\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": y}}]\n',
    ),
    expect: (s, d) => d.ns !== 'x' || s.ns !== 'y',
  },
  {
    name: 'enableDefaultDeny false: x denies ingress from namespace y without default deny (ingressDeny only): y drops (181), everyone else connects',
    policies: SOFT_DENY,
    expect: (s, d) => d.ns !== 'x' || s.ns !== 'y',
  },
  {
    name: 'enableDefaultDeny false, clusterwide: z denies egress to world w2 and to UDP 81 anywhere (CCNP egressDeny only), nothing else changes',
    policies: ccnp('z-no-w2', '  endpointSelector: {matchLabels: {"k8s:io.kubernetes.pod.namespace": z}}\n  enableDefaultDeny: {egress: false}\n  egressDeny:\n  - toCIDR: [172.18.0.101/32]\n  - toPorts: [{ports: [{port: "81", protocol: UDP}]}]\n'),
    expect: (s, d, port, proto) => s.ns !== 'z' || (d.id !== 'world/w2' && !(port === 81 && proto === 'udp')),
  },
  {
    name: 'NetworkPolicy + a soft deny: x allows ingress from y and z (NetworkPolicy, default deny) and denies y/b (CNP, enableDefaultDeny false)',
    policies: [
      np('x', 'from-y-z', '  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {ns: y}}}, {namespaceSelector: {matchLabels: {ns: z}}}]\n'),
      cnp('x', 'deny-yb', '  endpointSelector: {}\n  enableDefaultDeny: {ingress: false}\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": y, pod: b}}]\n'),
    ].join('---\n'),
    expect: (s, d) => d.ns !== 'x' || ((s.ns === 'y' || s.ns === 'z') && s.id !== 'y/b'),
  },
  {
    name: 'deny wins across policies: x/a allows y on TCP 80 in one policy, another denies y/b',
    policies: [
      cnp('x', 'a-allow-y-80', '  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": y}}]\n    toPorts: [{ports: [{port: "80", protocol: TCP}]}]\n'),
      cnp('x', 'a-deny-yb', '  endpointSelector: {matchLabels: {pod: a}}\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": y, pod: b}}]\n'),
    ].join('---\n'),
    expect: (s, d, port, proto) => d.id !== 'x/a' || (s.ns === 'y' && s.name !== 'b' && port === 80 && proto === 'tcp'),
  },
  {
    name: 'entities: egress from x to the cluster only (toEntities cluster)',
    policies: cnp('x', 'to-cluster', '  endpointSelector: {}\n  egress:\n  - toEntities: [cluster]\n'),
    expect: (s, d) => s.ns !== 'x' || isPod(d),
  },
  {
    name: 'entities: egress from x to the world only (toEntities world)',
    policies: cnp('x', 'to-world', '  endpointSelector: {}\n  egress:\n  - toEntities: [world]\n'),
    expect: (s, d) => s.ns !== 'x' || !isPod(d),
  },
  {
    name: 'entities: ingress into x from the host only (fromEntities host)',
    policies: cnp('x', 'from-host', '  endpointSelector: {}\n  ingress:\n  - fromEntities: [host]\n'),
    expect: (_s, d) => d.ns !== 'x',
  },
  {
    name: 'CIDR: egress from x to the world by toCIDRSet with except (CiliumNetworkPolicy)',
    policies: cnp('x', 'to-cidrset', '  endpointSelector: {}\n  egress:\n  - toCIDRSet: [{cidr: 172.18.0.0/24, except: [172.18.0.100/32]}]\n'),
    expect: (s, d) => s.ns !== 'x' || d.id === 'world/w2',
  },
  {
    name: 'CIDR: egress from y/c to one world address by toCIDR, on TCP 81 only',
    policies: cnp('y', 'c-to-w1-81', '  endpointSelector: {matchLabels: {pod: c}}\n  egress:\n  - toCIDR: [172.18.0.100/32]\n    toPorts: [{ports: [{port: "81", protocol: TCP}]}]\n'),
    expect: (s, d, port, proto) => s.id !== 'y/c' || (d.id === 'world/w1' && port === 81 && proto === 'tcp'),
  },
];

/** Every pod and world address, in table order. */
let peers: Peer[] = [];
const worldServers = new WorldServers(env);

/**
 * Probes the whole table at once: one `beeline probes` process per source pod.
 * `only` limits it to some cells (a retry), `timeoutMs` is each probe's.
 */
async function probeTable(only?: Set<string>, timeoutMs = 1500): Promise<Map<string, { ok: boolean; verdict: string }>> {
  const out = new Map<string, { ok: boolean; verdict: string }>();
  const sources = peers.filter(isPod);
  await Promise.all(
    sources.map(
      (s) =>
        new Promise<void>((resolve, reject) => {
          const cells: string[] = [];
          const targets: string[] = [];
          for (const d of peers) {
            if (d === s) continue;
            for (const [port, proto] of PORTS) {
              const key = cellKey(s, d, port, proto);
              if (only && !only.has(key)) continue;
              cells.push(key);
              targets.push(`${proto}://${d.ip}:${port}`);
            }
          }
          if (cells.length === 0) return resolve();
          const child = spawn(beelineBin, ['exec', '-n', s.ns, s.name, '-c', 'cont-80', '--', beelineBin, 'probes', '--timeout', String(timeoutMs), '-o', 'json', ...targets], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
          child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
          child.on('close', (code) => {
            if (code !== 0) return reject(new Error(`probes from ${s.id} exited ${code}: ${stderr}`));
            const results = JSON.parse(stdout) as { verdict: string }[];
            results.forEach((r, i) => out.set(cells[i]!, { ok: r.verdict === 'connected', verdict: r.verdict }));
            resolve();
          });
        }),
    ),
  );
  return out;
}

const cellKey = (s: Peer, d: Peer, port: number, proto: Proto) => `${s.id}>${d.id}:${port}/${proto}`;

/** The monitor's key (addresses) of a cell's key (names). */
function dropKeyOf(cell: string): string {
  const [src, rest] = cell.split('>') as [string, string];
  const [dst, pp] = rest.split(':') as [string, string];
  const [port, proto] = pp.split('/') as [string, Proto];
  const ip = (id: string) => peers.find((p) => p.id === id)!.ip;
  return dropKey(ip(src), ip(dst), Number(port), proto);
}

/** The truth table as cyclonus prints it: a row per source, a column per destination, `.` as expected, `X` wrong. */
function renderTable(expected: (k: string) => boolean, got: (k: string) => boolean, port: number, proto: Proto): string {
  const cols = peers.map((p) => p.id.padEnd(8)).join('');
  const lines = [`${port}/${proto}`.padEnd(8) + cols];
  for (const s of peers.filter(isPod)) {
    let row = s.id.padEnd(8);
    for (const d of peers) {
      if (d === s) {
        row += '-'.padEnd(8);
        continue;
      }
      const k = cellKey(s, d, port, proto);
      const e = expected(k);
      row += `${e === got(k) ? '.' : 'X'}${e ? '+' : ' '}`.padEnd(8);
    }
    lines.push(row);
  }
  return lines.join('\n');
}

const waitProgrammed = () => waitPoliciesProgrammed(LAB);

/** `policy trace` for every cell, through node1's agent (it knows every pod from the store). */
async function traceTable(): Promise<Map<string, Traced>> {
  const queries: (TraceQuery & { key: string })[] = [];
  for (const s of peers.filter(isPod)) {
    for (const d of peers) {
      if (d === s) continue;
      for (const [port, proto] of PORTS) {
        queries.push({ key: cellKey(s, d, port, proto), src: { pod: s.id }, dst: d.world ? { ip: d.ip } : { pod: d.id }, port, protocol: proto.toUpperCase() });
      }
    }
  }
  const answers = await traceBatch(LAB, queries.map(({ key: _k, ...q }) => q));
  return new Map(queries.map((q, i) => [q.key, answers[i]!]));
}

describe('network-policy conformance: truth tables on a 2-node lab', { timeout: 900_000 }, () => {
  before(async () => {
    beeline(['lab', 'down', '--name', LAB, '-q']);
    // A small per-endpoint share of the policy map, so that one test can overflow it.
    const up = beeline(['lab', 'up', '--nodes', '2', '--name', LAB, '-q', '--bpf-policy-map-max', '64']);
    assert.equal(up.code, 0, up.stderr);
    kubectl('apply', WORKLOADS);
    await until(
      'all 9 pods running',
      () => {
        const items = JSON.parse(ok(['get', 'pods', '-A', '-o', 'json']).stdout).items as { metadata: { namespace: string }; status?: { phase?: string; podIP?: string } }[];
        // The cluster DNS pods (kube-system) are not among the peers.
        return items.filter((p) => p.metadata.namespace !== 'kube-system' && p.status?.phase === 'Running' && p.status.podIP).length === 9;
      },
      120_000,
      500,
    );
    const items = JSON.parse(ok(['get', 'pods', '-A', '-o', 'json']).stdout).items as { metadata: { namespace: string; name: string }; spec: { nodeName: string }; status: { podIP: string } }[];
    peers = NAMESPACES.flatMap((ns) =>
      PODS.map((p) => {
        const it = items.find((i) => i.metadata.namespace === ns && i.metadata.name === p)!;
        return { id: `${ns}/${p}`, ns, name: p, ip: it.status.podIP, node: it.spec.nodeName };
      }),
    );
    // The outside world: a second address, and servers on both (TCP 80/81, UDP 80/81).
    ok(['lab', 'exec', 'world', '--', 'ip', 'addr', 'add', `${WORLD_IPS[1]}/24`, 'dev', 'eth0']);
    for (const [ip, args] of WORLD_IPS.flatMap((ip) => [['--http', '80', '--udp', '80'], ['--tcp', '81', '--udp', '81']].map((a) => [ip, a] as const))) {
      worldServers.start(ip!, args);
    }
    peers.push(...WORLD_IPS.map((ip, i) => ({ id: `world/w${i + 1}`, ns: 'world', name: `w${i + 1}`, ip, world: true })));
    // Servers answer in every pod before the first table.
    await until('every server answers', async () => {
      const bad = [...(await probeTable())].filter(([, c]) => !c.ok).map(([k, c]) => `${k} ${c.verdict}`);
      if (bad.length) throw new Error(`${bad.length} cells fail: ${bad.slice(0, 30).join(', ')}`);
      return true;
    }, 60_000, 1000);
  });

  after(() => {
    worldServers.stop();
    beeline(['lab', 'down', '--name', LAB, '-q']);
  });

  for (const c of CASES) {
    test(c.name, async (t) => {
      if (c.policies) kubectl('apply', c.policies);
      try {
        await waitProgrammed();
        const { result: got, drops } = await dropsDuring(env, 2, () => probeTable());
        const reasons = reasonsByKey(drops);
        const traced = await traceTable();
        const expected = (k: string) => {
          const [src, rest] = k.split('>') as [string, string];
          const [dst, pp] = rest.split(':') as [string, string];
          const [port, proto] = pp.split('/') as [string, Proto];
          return c.expect(peers.find((p) => p.id === src)!, peers.find((p) => p.id === dst)!, Number(port), proto);
        };
        // A cell that should connect but timed out is probed once more, with a longer deadline: a
        // loaded machine can miss 1.5 s. A cell that connected where it should not is never retried.
        const slow = new Set([...got].filter(([k, v]) => !v.ok && expected(k)).map(([k]) => k));
        if (slow.size) {
          t.diagnostic(`retrying ${slow.size} cells that timed out: ${[...slow].slice(0, 10).join(', ')}`);
          for (const [k, v] of await probeTable(slow, 4000)) got.set(k, v);
        }
        const wrong = [...got].filter(([k, v]) => v.ok !== expected(k)).map(([k, v]) => `${k}: expected ${expected(k) ? 'allowed' : 'denied'}, probe ${v.verdict}`);
        const traceWrong = [...got].filter(([k, v]) => traced.get(k)?.allowed !== v.ok).map(([k, v]) => `${k}: probe ${v.ok ? 'allowed' : 'denied'}, policy trace ${traced.get(k)?.allowed ? 'allowed' : 'denied'}`);
        // Every denied cell: the datapath's drops carry exactly the reason trace gives.
        const kindWrong = [...got].filter(([, v]) => !v.ok).flatMap(([k]) => {
          const seen = reasons.get(dropKeyOf(k)) ?? [];
          const want = traced.get(k)?.reason;
          return seen.length === 1 && seen[0] === want ? [] : [`${k}: monitor drop reasons [${seen.join(', ')}], policy trace ${want ?? 'allowed'}`];
        });
        const tables = PORTS.map(([port, proto]) => renderTable(expected, (k) => got.get(k)!.ok, port, proto)).join('\n\n');
        assert.deepEqual(wrong, [], `${wrong.length} of ${got.size} cells differ:\n${tables}\n${wrong.slice(0, 40).join('\n')}`);
        assert.deepEqual(traceWrong, [], `policy trace disagrees with the datapath on ${traceWrong.length} cells:\n${traceWrong.slice(0, 40).join('\n')}`);
        assert.deepEqual(kindWrong, [], `the kind of drop differs on ${kindWrong.length} cells:\n${kindWrong.slice(0, 40).join('\n')}`);
      } finally {
        if (c.policies) kubectl('delete', c.policies);
      }
    });
  }

  test('enableDefaultDeny false + ingressDeny: endpoint list, policy get, policy trace, bpf policy get and monitor all say enforced with default allow, y denied by 181', async () => {
    kubectl('apply', SOFT_DENY);
    try {
      await waitProgrammed();
      const xa = peers.find((p) => p.id === 'x/a')!;
      const ya = peers.find((p) => p.id === 'y/a')!;
      // endpoint list: x's pods enforce ingress with default allow, egress is not enforced; y's pods enforce nothing.
      const list = ok(['endpoint', 'list']).stdout.split('\n');
      const rowOf = (ip: string) => list.find((l) => l.includes(` ${ip} `)) ?? '';
      assert.match(rowOf(xa.ip), /Enabled \(default allow\)\s+Disabled/, rowOf(xa.ip));
      assert.doesNotMatch(rowOf(ya.ip), /Enabled/, rowOf(ya.ip));
      // policy get: the policy selects every x pod; the endpoint table says the same as endpoint list.
      const get = JSON.parse(ok(['policy', 'get', '-o', 'json']).stdout) as { policies: { key: string; selects: { pod: string; ingress: boolean }[] }[]; endpoints: { pod: string; ingressEnforced: boolean; ingressDefaultDeny: boolean; egressEnforced: boolean; entries: number }[] }[];
      const eps = get.flatMap((n) => n.endpoints).filter((e) => e.pod.startsWith('x/'));
      assert.equal(eps.length, 3);
      for (const e of eps) assert.deepEqual([e.ingressEnforced, e.ingressDefaultDeny, e.egressEnforced, e.entries > 0], [true, false, false, true], JSON.stringify(e));
      assert.deepEqual(get.flatMap((n) => n.policies).flatMap((p) => p.selects.map((x) => x.pod)).sort(), ['x/a', 'x/b', 'x/c']);
      assert.match(ok(['policy', 'get']).stdout, /x\/a\s+\d+\s+Enabled \(default allow\)\s+Disabled/);
      // policy trace: denied by the deny (181) from y, allowed through default-allow from z.
      const denied = ok(['policy', 'trace', '--src-pod', 'y/a', '--dst-pod', 'x/a', '--dport', '80/TCP']).stdout;
      assert.match(denied, /denied \(181 Policy denied by denylist\)/);
      assert.match(denied, /enforced, default allow/);
      assert.match(denied, /CiliumNetworkPolicy\/x\/deny-from-y/);
      assert.match(denied, /Final verdict: DENIED/);
      const allowed = ok(['policy', 'trace', '--src-pod', 'z/a', '--dst-pod', 'x/a', '--dport', '80/TCP']).stdout;
      assert.match(allowed, /allowed \(match all\)/);
      assert.match(allowed, /decided by: default-allow/);
      assert.match(allowed, /Final verdict: ALLOWED/);
      // bpf policy get: the allow-all entry and the deny entries, named.
      const bpf = ok(['bpf', 'policy', 'get', '--node', xa.node!]).stdout;
      assert.match(bpf, /default-allow/);
      assert.match(bpf, /CiliumNetworkPolicy\/x\/deny-from-y/);
      // The datapath: y's connection drops with 181, named; z's connects.
      const { result: [fromY, fromZ], drops: seen } = await dropsDuring(env, 2, async () => [reach('y/a', xa, 80), reach('z/a', xa, 80)]);
      const drops = seen.filter((d) => d.src === ya.ip && d.dst === xa.ip);
      assert.deepEqual([fromY, fromZ], [false, true]);
      assert.ok(drops.length > 0 && drops.every((d) => d.reason === 181 && d.policies.includes('CiliumNetworkPolicy/x/deny-from-y')), JSON.stringify(drops));
    } finally {
      kubectl('delete', SOFT_DENY);
    }
  });

  test('egress to DNS only still resolves names', async () => {
    const policy = CASES.find((c) => c.name.startsWith('egress from x to DNS only'))!.policies;
    kubectl('apply', policy);
    try {
      await waitProgrammed();
      const r = beeline(['exec', '-n', 'x', 'a', '-c', 'cont-80', '--', 'getent', 'hosts', 'web.z'], env);
      assert.equal(r.code, 0, `DNS from x/a under dns-only egress: ${r.stderr}`);
      assert.match(r.stdout, /^\d+\.\d+\.\d+\.\d+\s/);
    } finally {
      kubectl('delete', policy);
    }
  });

  test('a policy changed while connections are open cuts them on their next packet, and lifting it lets new ones through', async () => {
    const xa = peers.find((p) => p.id === 'x/a')!;
    await waitProgrammed();
    // A client in y/a holding one TCP connection to x/a:80 and sending a request every 200 ms.
    const script = `
      const net = require('node:net');
      const s = net.createConnection({ host: '${xa.ip}', port: 80 });
      let answers = 0, sent = 0;
      s.on('data', (d) => { answers += (d.toString().match(/HTTP\\/1.1 200/g) || []).length; });
      s.on('error', () => {});
      const t = setInterval(() => { sent++; s.write('GET /hostname HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'); }, 200);
      process.stdin.on('data', () => { console.log(JSON.stringify({ sent, answers })); });
      process.stdin.on('end', () => { clearInterval(t); s.destroy(); process.exit(0); });
    `;
    const child = spawn(beelineBin, ['exec', '-i', '-n', 'y', 'a', '-c', 'cont-80', '--', process.execPath, '-e', script], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const sample = async () => {
      const before = out.length;
      child.stdin.write('?\n');
      await until('the client reports', () => out.length > before && out.endsWith('\n'), 10_000, 20);
      return JSON.parse(out.trim().split('\n').pop()!) as { sent: number; answers: number };
    };
    try {
      // The client is a fresh Node process in the pod: wait for it to be answered a few times.
      await until('the connection answers before the policy', async () => (await sample()).answers >= 3, 20_000, 300);
      const deny = np('x', 'cut', '  podSelector: {}\n  policyTypes: [Ingress]\n');
      kubectl('apply', deny);
      await waitProgrammed();
      const atDeny = await sample();
      const afterDeny = await until('five more requests sent', async () => {
        const s = await sample();
        return s.sent - atDeny.sent >= 5 ? s : undefined;
      }, 20_000, 300);
      assert.ok(afterDeny.answers - atDeny.answers <= 1, `the open connection is cut once the policy denies it (answers ${atDeny.answers} → ${afterDeny.answers})`);
      const fresh = beeline(['exec', '-n', 'y', 'b', '-c', 'cont-80', '--', beelineBin, 'probe', 'tcp', `${xa.ip}:80`, '--timeout', '1000'], env);
      assert.notEqual(fresh.code, 0, 'a new connection is denied too');
      kubectl('delete', deny);
      await waitProgrammed();
      const again = beeline(['exec', '-n', 'y', 'b', '-c', 'cont-80', '--', beelineBin, 'probe', 'tcp', `${xa.ip}:80`, '--timeout', '1000'], env);
      assert.equal(again.code, 0, `a new connection gets through once the policy is gone: ${again.stdout}`);
    } finally {
      child.stdin.end();
      await new Promise((r) => child.on('close', r));
    }
  });

  /** One probe from a pod: whether it connected. */
  const reach = (from: string, to: Peer, port: number, proto: Proto = 'tcp') => {
    const [ns, pod] = from.split('/') as [string, string];
    return beeline(['exec', '-n', ns, pod, '-c', 'cont-80', '--', beelineBin, 'probe', proto, `${to.ip}:${port}`, '--timeout', '1000'], env).code === 0;
  };

  test('bad input is refused whole with its field path, and the policy in force stays in force', async () => {
    const good = np('x', 'deny-ingress', '  podSelector: {}\n  policyTypes: [Ingress]\n');
    kubectl('apply', good);
    try {
      await waitProgrammed();
      const xa = peers.find((p) => p.id === 'x/a')!;
      const bad = [
        np('x', 'allow-all-but-broken', '  podSelector: {}\n  ingress:\n  - ports: [{protocol: TCP, port: 90, endPort: 80}]\n'),
        cnp('x', 'unknown-entity', '  endpointSelector: {}\n  ingress:\n  - fromEntities: [everyone]\n'),
        cnp('x', 'bad-cidr', '  endpointSelector: {}\n  egress:\n  - toCIDR: [10.0.0.0/33]\n'),
        cnp('x', 'bad-operator', '  endpointSelector: {matchExpressions: [{key: pod, operator: Like, values: [a]}]}\n  ingress: [{}]\n'),
        cnp('x', 'port-range', '  endpointSelector: {}\n  ingress:\n  - toPorts: [{ports: [{port: "70000", protocol: TCP}]}]\n'),
      ];
      const paths = [/spec\.ingress\[0\]\.ports\[0\]\.endPort/, /spec\.ingress\[0\]\.fromEntities\[0\]/, /spec\.egress\[0\]\.toCIDR\[0\]/, /spec\.endpointSelector\.matchExpressions\[0\]\.operator/, /spec\.ingress\[0\]\.toPorts\[0\]\.ports\[0\]\.port/];
      for (const [i, doc] of bad.entries()) {
        // Each bad policy arrives next to a good one in the same file: nothing of the file is applied.
        const r = spawnSync(beelineBin, ['apply', '-f', '-'], { input: `${doc}---\n${np('x', 'would-allow-all', '  podSelector: {}\n  ingress: [{}]\n')}`, encoding: 'utf8', env: { ...process.env, ...env } });
        assert.notEqual(r.status, 0, `refused: ${doc}`);
        assert.match(r.stderr, paths[i]!, r.stderr);
        assert.match(r.stderr, /BL_ERR_\w+|Invalid|Unsupported|Required|Forbidden/, r.stderr);
      }
      const names = ['networkpolicies', 'ciliumnetworkpolicies'].flatMap((kind) => (JSON.parse(ok(['get', kind, '-n', 'x', '-o', 'json']).stdout).items as { metadata: { name: string } }[]).map((i) => i.metadata.name));
      assert.deepEqual(names, ['deny-ingress'], 'only the good policy is in the store');
      await waitProgrammed();
      assert.equal(reach('y/a', xa, 80), false, 'the default deny is still enforced');
      assert.equal(reach('x/a', peers.find((p) => p.id === 'y/a')!, 80), true, 'and nothing else changed');
    } finally {
      kubectl('delete', good);
    }
  });

  test('a policy too big for an endpoint\'s share of the map: the endpoint reports it and keeps the last policy it could enforce whole', async () => {
    const xa = peers.find((p) => p.id === 'x/a')!;
    // toPorts entries of at most 40 ports each (the CRD's limit).
    const chunks = (ports: number[]) => Array.from({ length: Math.ceil(ports.length / 40) }, (_, i) => ports.slice(i * 40, i * 40 + 40));
    const policy = (ports: number[]) =>
      cnp('x', 'a-ports', `  endpointSelector: {matchLabels: {pod: a}}\n  ingress:\n  - fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": y}}]\n    toPorts: [${chunks(ports).map((c) => `{ports: [${c.map((p) => `{port: "${p}", protocol: TCP}`).join(', ')}]}`).join(', ')}]\n`);
    kubectl('apply', policy([80]));
    try {
      await waitProgrammed();
      assert.equal(reach('y/a', xa, 80), true);
      assert.equal(reach('y/a', xa, 81), false);
      // 3 identities of y × 71 ports: far more than the 64 entries an endpoint may have here.
      kubectl('apply', policy([80, 81, ...Array.from({ length: 69 }, (_, i) => 2000 + i)]));
      await waitProgrammed();
      const rows = JSON.parse(ok(['policy', 'get', '--node', xa.node!, '-o', 'json']).stdout) as { endpoints: { pod: string; error?: string }[] }[];
      const row = rows[0]!.endpoints.find((e) => e.pod === 'x/a');
      assert.match(row?.error ?? '', /bpf-policy-map-max 64/, JSON.stringify(row));
      assert.equal(reach('y/a', xa, 80), true, 'the last policy that fitted is still enforced');
      assert.equal(reach('y/a', xa, 81), false, 'and none of the new one');
      assert.equal(reach('z/a', xa, 80), false);
      // Back within the limit: the new version applies and the error goes.
      kubectl('apply', policy([80, 81]));
      await waitProgrammed();
      assert.equal(reach('y/a', xa, 81), true);
      const again = JSON.parse(ok(['policy', 'get', '--node', xa.node!, '-o', 'json']).stdout) as { endpoints: { pod: string; error?: string }[] }[];
      assert.equal(again[0]!.endpoints.find((e) => e.pod === 'x/a')?.error, undefined);
    } finally {
      kubectl('delete', policy([80]));
    }
  });

  test('denied connections show as drops with their reason and the policies that decided, in beeline monitor', async () => {
    const policies = [
      np('x', 'deny-ingress', '  podSelector: {}\n  policyTypes: [Ingress]\n'),
      cnp('y', 'deny-from-z', '  endpointSelector: {}\n  ingress:\n  - fromEntities: [all]\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": z}}]\n'),
    ].join('---\n');
    kubectl('apply', policies);
    try {
      await waitProgrammed();
      const xa = peers.find((p) => p.id === 'x/a')!;
      const ya = peers.find((p) => p.id === 'y/a')!;
      const mon = spawn(beelineBin, ['monitor', '--type', 'drop', '--timeout', '6s'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      mon.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
      const closed = new Promise((r) => mon.on('close', r));
      await sleep(1500);
      beeline(['exec', '-n', 'z', 'b', '-c', 'cont-80', '--', beelineBin, 'probe', 'tcp', `${xa.ip}:80`, '--timeout', '500'], env);
      beeline(['exec', '-n', 'z', 'b', '-c', 'cont-80', '--', beelineBin, 'probe', 'tcp', `${ya.ip}:81`, '--timeout', '500'], env);
      await closed;
      const defaultDeny = text.split('\n').find((l) => l.includes(`${xa.ip}:80`));
      assert.ok(defaultDeny, `a drop for ${xa.ip}:80 in:\n${text}`);
      assert.match(defaultDeny, /Policy denied/);
      assert.match(defaultDeny, /133|Policy denied/);
      assert.match(defaultDeny, /NetworkPolicy\/x\/deny-ingress/);
      const explicit = text.split('\n').find((l) => l.includes(`${ya.ip}:81`));
      assert.ok(explicit, `a drop for ${ya.ip}:81 in:\n${text}`);
      assert.match(explicit, /Policy denied by denylist/);
      assert.match(explicit, /CiliumNetworkPolicy\/y\/deny-from-z/);
      // And the CLI's trace names the same policies.
      const trace = ok(['policy', 'trace', '--src-pod', 'z/b', '--dst-pod', 'x/a', '--dport', '80/TCP']).stdout;
      assert.match(trace, /denied/i);
      assert.match(trace, /NetworkPolicy\/x\/deny-ingress/);
      const trace2 = ok(['policy', 'trace', '--src-pod', 'z/b', '--dst-pod', 'y/a', '--dport', '81/TCP']).stdout;
      assert.match(trace2, /CiliumNetworkPolicy\/y\/deny-from-z/);
      const allowed = ok(['policy', 'trace', '--src-pod', 'x/b', '--dst-pod', 'y/a', '--dport', '80/TCP']).stdout;
      assert.match(allowed, /allowed/i);
    } finally {
      kubectl('delete', policies);
    }
  });
});
