/**
 * L7 visibility without enforcement, end to end on a 2-node lab: the Star
 * Wars deathstar with Cilium's `policy.cilium.io/proxy-visibility`
 * annotation and no policy. Its ingress becomes enforced with default allow
 * and port 80 goes through node2's HAProxy: every request (tiefighter and
 * xwing from node1, over the fabric) is answered by the deathstar and
 * recorded as an L7 flow (`observe --protocol http`); what the annotation
 * asks that cannot be honoured (egress DNS) is a warning at apply and in
 * `policy get`. With the annotation removed the endpoint enforces nothing
 * and requests are no L7 flows any more. With the demo's L3/L4 policy and
 * the annotation: the tiefighter's requests are L7 flows, the xwing is
 * still dropped. Egress: the tiefighter annotated `<Egress/80/TCP/HTTP>`
 * (no policy): its requests go through node1's proxy and are L7 flows, the
 * xwing's are not.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';
import { until } from '../lib/wait.js';

const LAB = 'l7vis';
const env = { BEELINE_LAB: LAB };
const ANNOTATION = '<Ingress/80/TCP/HTTP>,<Egress/53/UDP/DNS>';

const deathstar = (annotation: string | undefined) => `apiVersion: v1
kind: Pod
metadata:
  name: deathstar
  namespace: vis
  labels: {org: empire, class: deathstar}
${annotation ? `  annotations: {policy.cilium.io/proxy-visibility: "${annotation}"}\n` : ''}spec:
  nodeName: node2
  containers: [{name: deathstar, image: docker.io/cilium/starwars}]
`;

const ship = (name: string, org: string, annotation?: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: vis, labels: {org: ${org}, class: ${name}}${annotation ? `, annotations: {policy.cilium.io/proxy-visibility: "${annotation}"}` : ''}}
spec:
  nodeName: node1
  containers: [{name: spaceship, image: busybox, command: ["sleep", "infinity"]}]
`;

const L4_POLICY = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: rule1, namespace: vis}
spec:
  endpointSelector: {matchLabels: {org: empire, class: deathstar}}
  ingress:
  - fromEndpoints: [{matchLabels: {org: empire}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
`;

function apply(yaml: string): { stdout: string; stderr: string } {
  const r = spawnSync(beelineBin, ['apply', '-f', '-'], { input: yaml, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** One HTTP request from a ship's namespace; the status code, or 0 when no answer came (dropped). */
function request(from: string, ip: string, method: string, path: string): number {
  const r = beeline(['exec', '-n', 'vis', from, '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '3', '-X', method, `http://${ip}${path}`], env);
  return r.code === 0 ? Number(r.stdout.trim()) : 0;
}

interface HttpFlow { verdict?: string; l7?: { type?: string; http?: { method?: string; url?: string; code?: number } }; source?: { pod_name?: string }; destination?: { pod_name?: string }; policy_match_type?: number }

/** L7 HTTP flows of the deathstar (requests to it, its responses) whose URL contains `marker`. */
function httpFlows(marker: string): HttpFlow[] {
  const r = beeline(['observe', '--protocol', 'http', '--pod', 'vis/deathstar', '--all', '-o', 'json'], env);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { flow?: HttpFlow }).flow).filter((f): f is HttpFlow => !!f && !!f.l7?.http?.url?.includes(marker));
}

interface EndpointRow { pod: string; ingressEnforced: boolean; ingressDefaultDeny: boolean; egressEnforced: boolean; egressDefaultDeny: boolean; problems: { policy: string; path: string; message: string }[] }
const endpointRow = (pod = 'vis/deathstar'): EndpointRow | undefined =>
  (JSON.parse(beelineOk(['policy', 'get', '-o', 'json'], env).stdout) as { endpoints: EndpointRow[] }[]).flatMap((n) => n.endpoints).find((e) => e.pod === pod);

let ip = '';

/**
 * Sends requests (each with its own marker) until one is recorded as an L7
 * flow: the policy map redirects within milliseconds, the proxy reloads with
 * the new rules moments later, and until then a connection is not recorded.
 * Every request must be answered (200) meanwhile.
 */
async function untilRecorded(from: string, prefix: string): Promise<void> {
  let n = 0;
  await until(`a request of the ${from} recorded at L7 (${prefix})`, () => {
    assert.equal(request(from, ip, 'GET', `/v1/?${prefix}=${++n}`), 200);
    return httpFlows(`${prefix}=`).length > 0;
  }, 30_000, 500);
}

before(async () => {
  beeline(['lab', 'down', '--name', LAB, '-q']);
  beelineOk(['lab', 'up', '--name', LAB, '--nodes', '2', '-q']);
  apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: vis}\n');
  const out = apply([deathstar(ANNOTATION), ship('tiefighter', 'empire'), ship('xwing', 'alliance')].join('---\n'));
  // apply says at once what of the annotation will not be honoured; the pod is applied all the same.
  assert.match(out.stderr, /^Warning: .*Pod\/vis\/deathstar: metadata\.annotations\[policy\.cilium\.io\/proxy-visibility\]: <Egress\/53\/UDP\/DNS>: not honoured/m);
  assert.match(out.stdout, /pod\/deathstar created/);
  ip = await until('three pods running', () => {
    const items = JSON.parse(beelineOk(['get', 'pods', '-n', 'vis', '-o', 'json'], env).stdout).items as { metadata: { name: string }; status?: { phase?: string; podIP?: string } }[];
    if (items.filter((p) => p.status?.phase === 'Running' && p.status.podIP).length !== 3) return undefined;
    return items.find((p) => p.metadata.name === 'deathstar')!.status!.podIP!;
  }, 120_000, 500);
});

after(() => {
  // BEELINE_KEEP_LAB=1 leaves the lab up to look at after a failure.
  if (!process.env.BEELINE_KEEP_LAB) beeline(['lab', 'down', '--name', LAB, '-q']);
});

test('annotation and no policy: every request is answered and recorded as an L7 flow; ingress enforced with default allow; the egress part is a warning', async () => {
  const row = await until('the deathstar enforces ingress for visibility', () => {
    const e = endpointRow();
    return e?.ingressEnforced ? e : undefined;
  }, 30_000);
  assert.equal(row.ingressDefaultDeny, false, 'default allow: the annotation denies nothing');
  assert.deepEqual(row.problems.map((p) => [p.policy, p.path]), [['Pod/vis/deathstar', 'metadata.annotations[policy.cilium.io/proxy-visibility]']]);
  const get = beeline(['policy', 'get'], env);
  assert.match(get.stderr, /^Warning: node2: endpoint \d+ vis\/deathstar: Pod\/vis\/deathstar: .*<Egress\/53\/UDP\/DNS>: not honoured/m);
  await untilRecorded('tiefighter', 'warmup1');
  // Both ships are answered (no policy: the X-wing too).
  assert.equal(request('tiefighter', ip, 'POST', '/v1/request-landing?vis=a1'), 200);
  assert.equal(request('xwing', ip, 'GET', '/v1/?vis=a2'), 200);
  assert.equal(request('xwing', ip, 'GET', '/no-such-path?vis=a3'), 404);
  const flows = await until('the requests are L7 flows', () => {
    const f = httpFlows('vis=a');
    return f.filter((x) => x.l7?.type === 'RESPONSE').length >= 3 ? f : undefined;
  }, 20_000, 500);
  // A response goes from the deathstar back to the ship.
  const responses = flows.filter((f) => f.l7?.type === 'RESPONSE').map((f) => `${f.destination?.pod_name} ${f.l7!.http!.method} ${f.l7!.http!.url!.replace(/^.*\//, '/')} ${f.l7!.http!.code} ${f.verdict}`).sort();
  assert.deepEqual(responses, [
    'tiefighter POST /request-landing?vis=a1 200 FORWARDED',
    'xwing GET /?vis=a2 200 FORWARDED',
    'xwing GET /no-such-path?vis=a3 404 FORWARDED',
  ]);
  assert.equal(flows.filter((f) => f.l7?.type === 'REQUEST').length, 3, 'and one REQUEST flow each');
  // The trace names the annotation as what allows and redirects.
  const trace = beelineOk(['policy', 'trace', '--src-pod', 'vis/xwing', '--dst-pod', 'vis/deathstar', '--dport', '80/TCP'], env).stdout;
  assert.match(trace, /redirected to proxy port \d+ \(L7 http rules of visibility-annotation\)/);
  assert.match(trace, /ALLOWED/);
});

test('annotation removed: nothing is enforced and requests are no L7 flows any more', async () => {
  apply(deathstar(undefined));
  await until('the deathstar enforces nothing', () => endpointRow()?.ingressEnforced === false, 30_000);
  assert.equal(request('tiefighter', ip, 'POST', '/v1/request-landing?vis=b1'), 200);
  assert.equal(request('xwing', ip, 'GET', '/v1/?vis=b2'), 200);
  // Give the (absent) records time to arrive, with a request of the other case as the witness that L7 flows still flow nowhere.
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual(httpFlows('vis=b'), [], 'no L7 flow for requests after the annotation went');
  assert.deepEqual(endpointRow()!.problems, []);
});

test('annotation with the L3/L4 policy: the tiefighter is recorded at L7, the X-wing is still dropped', async () => {
  apply(L4_POLICY);
  apply(deathstar('<Ingress/80/TCP/HTTP>'));
  await until('the deathstar enforces default deny with the redirect', () => {
    const e = endpointRow();
    return e?.ingressEnforced && e.ingressDefaultDeny ? e : undefined;
  }, 30_000);
  const trace = await until('the trace shows the redirect', () => {
    const t = beelineOk(['policy', 'trace', '--src-pod', 'vis/tiefighter', '--dst-pod', 'vis/deathstar', '--dport', '80/TCP'], env).stdout;
    return /redirected to proxy port/.test(t) ? t : undefined;
  }, 30_000);
  assert.match(trace, /L7 http rules of CiliumNetworkPolicy\/vis\/rule1/);
  await untilRecorded('tiefighter', 'warmup3');
  assert.equal(request('tiefighter', ip, 'POST', '/v1/request-landing?vis=c1'), 200);
  assert.equal(request('xwing', ip, 'GET', '/v1/?vis=c2'), 0, 'the X-wing stays denied');
  const flows = await until('the tiefighter\'s request is an L7 flow', () => {
    const f = httpFlows('vis=c');
    return f.some((x) => x.l7?.type === 'RESPONSE') ? f : undefined;
  }, 20_000, 500);
  assert.deepEqual(flows.filter((f) => f.l7?.type === 'RESPONSE').map((f) => `${f.destination?.pod_name} ${f.l7!.http!.code}`), ['tiefighter 200']);
  assert.ok(!flows.some((f) => f.source?.pod_name === 'xwing' || f.destination?.pod_name === 'xwing'), 'nothing of the X-wing reached the proxy');
  const xtrace = beelineOk(['policy', 'trace', '--src-pod', 'vis/xwing', '--dst-pod', 'vis/deathstar', '--dport', '80/TCP'], env).stdout;
  assert.match(xtrace, /DENIED/);
});

test('egress: the tiefighter annotated <Egress/80/TCP/HTTP>, no policy: its requests go through node1\'s proxy and are L7 flows, nothing denied', async () => {
  beelineOk(['delete', 'cnp', 'rule1', '-n', 'vis'], env);
  apply(deathstar(undefined));
  apply(ship('tiefighter', 'empire', '<Egress/80/TCP/HTTP>'));
  const row = await until('the tiefighter enforces egress for visibility', () => {
    const e = endpointRow('vis/tiefighter');
    return e?.egressEnforced ? e : undefined;
  }, 30_000);
  assert.deepEqual([row.egressDefaultDeny, row.ingressEnforced, row.problems], [false, false, []]);
  await untilRecorded('tiefighter', 'warmup4');
  assert.equal(request('tiefighter', ip, 'POST', '/v1/request-landing?vis=d1'), 200);
  assert.equal(request('xwing', ip, 'GET', '/v1/?vis=d2'), 200, 'the xwing, not annotated, is answered');
  const flows = await until('the tiefighter\'s request is an L7 flow', () => {
    const f = httpFlows('vis=d');
    return f.some((x) => x.l7?.type === 'RESPONSE') ? f : undefined;
  }, 20_000, 500);
  assert.deepEqual(flows.filter((f) => f.l7?.type === 'RESPONSE').map((f) => `${f.destination?.pod_name} ${f.l7!.http!.code}`), ['tiefighter 200']);
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(!httpFlows('vis=d2').length, 'the xwing\'s request is no L7 flow');
});
