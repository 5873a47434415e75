/**
 * Issue 12's acceptance: L7 HTTP policy through the node's proxy, with
 * Cilium's Star Wars demo applied unchanged on a 2-node lab (one deathstar
 * pod on each node, so the tiefighter reaches one on its own node and one
 * across the tunnel).
 *   - its L3/L4 policy: the X-wing cannot reach the Death Star, the TIE
 *     fighter lands; no connection goes to the proxy;
 *   - its L7 policy: POST /v1/request-landing lands and PUT
 *     /v1/exhaust-port gets `Access denied`, on the same keep-alive
 *     connection as the allowed requests around it; the policy map shows
 *     the proxy port, the flows the redirect and the 403; the server sees
 *     the client's own address and never the denied request;
 *   - full-match semantics: `/v1/request-landing` does not allow
 *     `/v1/request-landing-now`, a header rule is enforced, HEAD is not GET.
 * Real curl in the pods, real HAProxy, real datapath.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labDir } from '../../src/lab/state.js';
import { repoRoot } from '../../src/common/version.js';
import { beeline, beelineOk } from '../lib/cli.js';
import { empirePods } from '../lib/starwars.js';
import { kubectl, waitPoliciesProgrammed } from '../lib/policy.js';
import { until } from '../lib/wait.js';

const LAB = 'l7test';
const env = { BEELINE_LAB: LAB };
const STARWARS = join(repoRoot, 'examples', 'starwars.yaml');
const L3L4 = join(repoRoot, 'examples', 'sw_l3_l4_policy.yaml');
/** curl's report after each response: status, and whether it opened a connection for it. */
const W = '\n[%{http_code} connects=%{num_connects}]\n';

interface Pod { name: string; ip: string; node: string }
let tiefighter: Pod;
let xwing: Pod;
let deathstars: Pod[];

const pods = (): Pod[] => empirePods(env).filter((p) => p.phase === 'Running' && p.ip);

/** curl in a pod: the requests given (each `[method, path, ...curl args]`) on one connection where curl can reuse it. */
function curl(from: Pod, ip: string, requests: string[][], timeoutS = 3): { code: number; out: string } {
  const args: string[] = [];
  requests.forEach(([method, path, ...rest], i) => {
    if (i > 0) args.push('--next');
    args.push('-s', '--max-time', String(timeoutS), '-w', W, '-X', method!, ...rest, `http://${ip}${path}`);
  });
  const r = beeline(['exec', '-n', 'empire', from.name, '--', 'curl', ...args], env, 60_000);
  return { code: r.code, out: r.stdout };
}

/** The responses of a curl run: body and the status/connects line, per request. */
function responses(out: string): { body: string; status: number; connects: number }[] {
  const res: { body: string; status: number; connects: number }[] = [];
  const re = /\n\[(\d+) connects=(\d+)\]\n/g;
  let last = 0;
  for (let m = re.exec(out); m; m = re.exec(out)) {
    res.push({ body: out.slice(last, m.index), status: Number(m[1]), connects: Number(m[2]) });
    last = m.index + m[0].length;
  }
  return res;
}

describe('L7 HTTP policy through the node proxy: Cilium\'s Star Wars demo, unchanged', { timeout: 600_000 }, () => {
  before(async () => {
    beeline(['lab', 'down', '--name', LAB, '-q']);
    const up = beeline(['lab', 'up', '--nodes', '2', '--name', LAB, '-q']);
    assert.equal(up.code, 0, up.stderr);
    beelineOk(['apply', '-f', STARWARS], env);
    await until('the Star Wars pods running, a deathstar on each node', () => {
      const ps = pods();
      const ds = ps.filter((p) => p.name.startsWith('deathstar-'));
      return ps.length === 4 && new Set(ds.map((d) => d.node)).size === 2 ? ps : undefined;
    }, 120_000, 500).then((ps) => {
      tiefighter = ps.find((p) => p.name === 'tiefighter')!;
      xwing = ps.find((p) => p.name === 'xwing')!;
      deathstars = ps.filter((p) => p.name.startsWith('deathstar-'));
    });
  });

  after(() => {
    // How often the proxies reloaded in this suite (the master logs each), and how often the agents
    // changed the identities in place instead (issue 12: identities through the runtime API).
    for (const node of ['node1', 'node2']) {
      const count = (file: string, re: RegExp) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => re.test(l)).length : -1);
      const dir = join(labDir(LAB), 'nodes', node);
      console.log(`# ${node}: proxy reloads ${count(join(dir, 'proxy.log'), /Reloading HAProxy/)}, identities updated in place ${count(join(dir, 'agent.log'), /node proxy identities updated in place/)}`);
    }
    beeline(['lab', 'down', '--name', LAB, '-q']);
  });

  test('the L3/L4 policy: the X-wing cannot reach the Death Star, the TIE fighter lands; nothing goes to the proxy', async () => {
    beelineOk(['apply', '-n', 'empire', '-f', L3L4], env);
    await waitPoliciesProgrammed(LAB);
    for (const ds of deathstars) {
      await until(`the tiefighter lands on ${ds.name} (${ds.node})`, () => responses(curl(tiefighter, ds.ip, [['POST', '/v1/request-landing']]).out)[0]?.body === 'Ship landed\n', 20_000, 500);
      const x = curl(xwing, ds.ip, [['POST', '/v1/request-landing']], 2);
      assert.equal(x.code, 28, `the xwing's connection to ${ds.name} times out (dropped): ${x.out}`);
    }
    const rows = JSON.parse(beelineOk(['bpf', 'policy', 'get', '-o', 'json'], env).stdout) as { node: string; rows: { direction: string; port: number; protocol: number; proxyPort?: number }[] }[];
    const port80 = rows.flatMap((n) => n.rows).filter((r) => r.direction === 'ingress' && r.protocol === 6 && r.port === 80);
    assert.ok(port80.length >= 2, 'the deathstars have ingress entries for 80/TCP');
    assert.ok(port80.every((r) => !r.proxyPort), 'no proxy port without L7 rules');
  });

  test('the L7 policy: POST lands, PUT /v1/exhaust-port gets Access denied on the same keep-alive connection; map, flows and server agree', async () => {
    beelineOk(['apply', '-f', STARWARS], env);
    await waitPoliciesProgrammed(LAB);
    for (const ds of deathstars) {
      const seq = [['POST', '/v1/request-landing'], ['PUT', '/v1/exhaust-port'], ['POST', '/v1/request-landing']];
      // Programmed means the proxy runs the rules: the map redirects only after it acknowledged them
      // (docs/l7.md, "Reloads and the order of writes"). So the first try is already judged by them.
      const got = responses(curl(tiefighter, ds.ip, seq).out);
      assert.deepEqual(got.map((r) => [r.status, r.body, r.connects]), [
        [200, 'Ship landed\n', 1],
        [403, 'Access denied\r\n', 0],
        [200, 'Ship landed\n', 0],
      ], `${ds.name} on ${ds.node}: one connection, the denied request in the middle`);
      const x = curl(xwing, ds.ip, [['POST', '/v1/request-landing']], 2);
      assert.equal(x.code, 28, 'the xwing is still dropped at L3/L4, before any proxy');
    }
    // The server saw the tiefighter's own address and never the PUT (which would also have killed it).
    for (const ds of deathstars) {
      const log = beelineOk(['logs', '-n', 'empire', ds.name], env).stdout;
      assert.match(log, new RegExp(`${tiefighter.ip.replace(/\./g, '\\.')} "POST /v1/request-landing" 200`), `${ds.name} logs the client's own address`);
      assert.doesNotMatch(log, /exhaust-port/, `${ds.name} never saw the denied request`);
    }
    const restarts = JSON.parse(beelineOk(['get', 'pods', '-n', 'empire', '-l', 'class=deathstar', '-o', 'json'], env).stdout).items.map((p: { status: { containerStatuses?: { restartCount: number }[] } }) => p.status.containerStatuses?.[0]?.restartCount ?? 0);
    assert.deepEqual(restarts, [0, 0]);

    // bpf policy get: the entries of the deathstars' port 80 carry the proxy port.
    const table = beelineOk(['bpf', 'policy', 'get'], env).stdout;
    assert.match(table, /PROXY PORT/);
    assert.match(table, /Ingress\s+\d+\s+80\/TCP\s+15001\s/);
    // The proxy's upstream connections into the deathstars are flagged in conntrack (their replies go back to the proxy).
    const ct = beelineOk(['bpf', 'ct', 'list', 'global'], env).stdout;
    for (const ds of deathstars) {
      assert.match(ct, new RegExp(`TCP \\S+ ${tiefighter.ip.replace(/\./g, '\\.')}:\\d+ -> ${ds.ip.replace(/\./g, '\\.')}:80 .*Flags=\\[[^\\]]*FromProxy`), `a FromProxy conntrack entry tiefighter → ${ds.name}`);
    }

    // Flows: the connection REDIRECTED at the policy verdict, the denied request DROPPED as an L7 flow, its 403 response.
    const flows = (args: string[]) => beelineOk(['observe', '--since', '5m', '-o', 'json', ...args], env).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).flow);
    await until('the flows of the proxy', () => flows(['--protocol', 'http', '--http-status', '403']).length >= 2, 20_000, 500);
    const redirected = flows(['--verdict', 'REDIRECTED', '--to-pod', `empire/${deathstars[0]!.name}`]);
    assert.ok(redirected.length >= 1 && redirected.every((f) => f.proxy_port === 15001), 'policy verdicts REDIRECTED to port 15001');
    const denied = flows(['--protocol', 'http', '--http-method', 'PUT', '--verdict', 'DROPPED']);
    assert.ok(denied.length >= 2, 'one denied request flow per deathstar');
    for (const f of denied) {
      assert.equal(f.l7.type, 'REQUEST');
      assert.equal(f.source.pod_name, 'tiefighter');
      assert.match(f.l7.http.url, /\/v1\/exhaust-port$/);
    }
    // (POSTs tried while the proxy was still reloading with the new rules were denied too: it fails closed.)
    const resp = flows(['--protocol', 'http', '--http-status', '403', '--http-method', 'PUT']);
    assert.ok(resp.length >= 2 && resp.every((f) => f.l7.type === 'RESPONSE' && f.l7.http.code === 403 && f.is_reply === true), 'the 403 answers as RESPONSE flows');
    const landed = flows(['--protocol', 'http', '--http-method', 'POST', '--verdict', 'FORWARDED']).filter((f) => f.l7.type === 'REQUEST');
    assert.ok(landed.some((f) => f.ingress_allowed_by?.some((p: { name: string }) => p.name === 'rule1')), 'allowed requests name rule1');
  });

  test('full-match semantics: a longer path is not the path, a header rule is enforced, HEAD is not GET', async () => {
    const extra = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: status-with-force, namespace: empire}
spec:
  endpointSelector: {matchLabels: {org: empire, class: deathstar}}
  ingress:
  - fromEndpoints: [{matchLabels: {org: empire}}]
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules:
        http:
        - method: GET
          path: /v1
          headers: ["X-Has-Force: true"]
`;
    kubectl(env, 'apply', extra);
    try {
      await waitPoliciesProgrammed(LAB);
      const ds = deathstars.find((d) => d.node !== tiefighter.node)!;
      const force = ['-H', 'X-Has-Force: true'];
      // New rules on a redirected port: programmed once the proxy runs them, so the first try passes.
      assert.equal(responses(curl(tiefighter, ds.ip, [['GET', '/v1', ...force]]).out)[0]?.status, 200, 'the proxy has the second policy');
      const r = responses(curl(tiefighter, ds.ip, [
        ['POST', '/v1/request-landing-now'],
        ['POST', '/v1/request-landing?now=1'],
        ['GET', '/v1'],
        ['GET', '/v1', '-H', 'X-Has-Force: false'],
        ['GET', '/v1/', ...force],
        ['HEAD', '/v1', ...force, '-I'],
        ['GET', '/v1', ...force],
        ['POST', '/v1/request-landing'],
      ]).out);
      assert.deepEqual(r.map((x) => x.status), [403, 403, 403, 403, 403, 403, 200, 200], JSON.stringify(r));
      // Rules of both policies are ORed per request, and the connection survived every denial.
      assert.deepEqual(r.map((x) => x.connects), [1, 0, 0, 0, 0, 0, 0, 0]);
    } finally {
      kubectl(env, 'delete', extra);
    }
  });

  test('egress rules at the source\'s node: the tiefighter may only GET /v1 and land; with rule1 at the deathstar both rule sets apply, on either node', async () => {
    const egress = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: tiefighter-egress, namespace: empire}
spec:
  endpointSelector: {matchLabels: {class: tiefighter}}
  egress:
  - toEndpoints: [{matchLabels: {class: deathstar}}]
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules:
        http:
        - {method: GET, path: /v1}
        - {method: POST, path: /v1/request-landing}
`;
    kubectl(env, 'apply', egress);
    try {
      await waitPoliciesProgrammed(LAB);
      // rule1 (ingress: POST /v1/request-landing only) is in force: GET /v1 passes the tiefighter's egress and not the
      // deathstar's ingress, PUT neither; the same deathstar node (one proxy, both rule sets) and the other node (two).
      for (const ds of deathstars) {
        const seq = [['POST', '/v1/request-landing'], ['GET', '/v1'], ['PUT', '/v1/exhaust-port'], ['POST', '/v1/request-landing']];
        const got = await until(`egress and ingress rules towards ${ds.name} (${ds.node})`, () => {
          const r = responses(curl(tiefighter, ds.ip, seq).out);
          return r.length === 4 && r[2]!.status === 403 ? r : undefined;
        }, 20_000, 500);
        assert.deepEqual(got.map((x) => [x.status, x.connects]), [[200, 1], [403, 0], [403, 0], [200, 0]], `${ds.name} on ${ds.node} (tiefighter on ${tiefighter.node})`);
      }
      // The PUT was refused at the source's node by the egress rules: an EGRESS L7 flow there.
      const put = beelineOk(['observe', '--since', '5m', '-o', 'json', '--protocol', 'http', '--http-method', 'PUT', '--verdict', 'DROPPED', '--traffic-direction', 'egress'], env).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).flow);
      assert.ok(put.length >= 2 && put.every((f) => f.node_name === tiefighter.node && f.traffic_direction === 'EGRESS'), 'denied at the source, in its egress');
    } finally {
      kubectl(env, 'delete', egress);
    }
  });
});
