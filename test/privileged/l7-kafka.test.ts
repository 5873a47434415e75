/**
 * Issue 13's Kafka acceptance: Kafka policy through the node's Kafka proxy,
 * with the policy of Cilium's Kafka getting-started guide ("secure-empire-
 * kafka": empire-hq may produce to empire-announce only), on a 2-node lab with
 * the broker on one node and the producer on the other.
 *   - kafkajs (npm) and kcat (Debian's librdkafka client) in the producer pod
 *     produce to empire-announce, and get TOPIC_AUTHORIZATION_FAILED for
 *     deathstar-plans on the same connection (kafkajs goes on producing
 *     after it, through the same producer);
 *   - the broker (the protocol-exact test broker, test/lib/kafka-broker.ts,
 *     as a pod: no Kafka broker can be installed here) stored the allowed
 *     messages and never saw the denied one;
 *   - a pod the policy does not name cannot connect at all (L3/L4);
 *   - the flows: `observe --protocol kafka` shows the requests: those naming
 *     deathstar-plans DROPPED (the clients ask for its metadata first and stop
 *     there), their answers with error 29; the produce requests FORWARDED
 *     with the deciding policy.
 * Real clients in the pods, real datapath, the agents' real Kafka proxy.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../src/common/version.js';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';
import { kubectl, waitPoliciesProgrammed } from '../lib/policy.js';
import { until } from '../lib/wait.js';

const LAB = 'kafkatest';
const env = { BEELINE_LAB: LAB };
const NS = 'kafka';
const brokerMain = join(repoRoot, 'dist', 'test', 'lib', 'kafka-broker-main.js');
const produceMain = join(repoRoot, 'dist', 'test', 'lib', 'kafka-produce.js');
const kcatPath = (() => { const r = spawnSync('sh', ['-c', 'command -v kcat'], { encoding: 'utf8' }); return r.status === 0 ? r.stdout.trim() : undefined; })();

const PODS = `apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: kafka-broker, namespace: ${NS}, labels: {app: kafka}}
spec:
  nodeName: node2
  containers:
  - name: kafka
    image: beeline/kafka-test-broker
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(brokerMain)}, --port, "9092", --topics, "empire-announce,deathstar-plans"]
    ports: [{containerPort: 9092, name: kafka}]
---
apiVersion: v1
kind: Pod
metadata: {name: empire-hq, namespace: ${NS}, labels: {app: empire-hq}}
spec:
  nodeName: node1
  containers: [{name: hq, image: busybox, command: ["sleep", "infinity"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: empire-outpost, namespace: ${NS}, labels: {app: empire-outpost}}
spec:
  nodeName: node1
  containers: [{name: outpost, image: busybox, command: ["sleep", "infinity"]}]
`;

/** Cilium's "secure-empire-kafka" policy (kafka getting-started guide), its empire-hq part, unchanged in form. */
const POLICY = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: secure-empire-kafka
  namespace: ${NS}
spec:
  endpointSelector:
    matchLabels:
      app: kafka
  ingress:
  - fromEndpoints:
    - matchLabels:
        app: empire-hq
    toPorts:
    - ports:
      - port: "9092"
        protocol: TCP
      rules:
        kafka:
        - role: "produce"
          topic: "empire-announce"
`;

interface Pod { name: string; ip: string; node: string; phase: string }
let broker: Pod;

function pods(): Pod[] {
  const items = JSON.parse(beelineOk(['get', 'pods', '-n', NS, '-o', 'json'], env).stdout).items as { metadata: { name: string }; spec: { nodeName: string }; status: { podIP?: string; phase: string } }[];
  return items.map((p) => ({ name: p.metadata.name, ip: p.status.podIP ?? '', node: p.spec.nodeName, phase: p.status.phase }));
}

/** The JSON lines the broker printed: what it stored. */
function brokerLog(): { produced?: string; values?: string[] }[] {
  const r = beeline(['logs', '-n', NS, 'kafka-broker'], env);
  return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { produced?: string; values?: string[] });
}

/** kafkajs in a pod: one producer sends to each topic in order; its JSON lines. */
function kafkajsProduce(pod: string, topics: string[]): { topic: string; ok: boolean; error?: string }[] {
  const r = beeline(['exec', '-n', NS, pod, '--', process.execPath, produceMain, '--broker', `${broker.ip}:9092`, '--client-id', 'empire-hq-kafkajs', ...topics], env, 60_000);
  return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { topic: string; ok: boolean; error?: string });
}

/** kcat in a pod: produces one message to a topic; exit status and stderr. */
function kcatProduce(pod: string, topic: string, message: string): { code: number; stderr: string } {
  const r = spawnSync(beelineBin, ['exec', '-i', '-n', NS, pod, '--', kcatPath!, '-P', '-b', `${broker.ip}:9092`, '-t', topic, '-c', '1', '-X', 'message.timeout.ms=5000', '-X', 'client.id=empire-hq-kcat'], { input: `${message}\n`, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status ?? -1, stderr: r.stderr };
}

describe('Kafka policy through the node\'s Kafka proxy: Cilium\'s secure-empire-kafka', { timeout: 600_000 }, () => {
  before(async () => {
    beeline(['lab', 'down', '--name', LAB, '-q']);
    const up = beeline(['lab', 'up', '--nodes', '2', '--name', LAB, '-q']);
    assert.equal(up.code, 0, up.stderr);
    kubectl(env, 'apply', PODS);
    broker = await until('the broker and the clients running', () => {
      const ps = pods().filter((p) => p.phase === 'Running' && p.ip);
      return ps.length === 3 ? ps.find((p) => p.name === 'kafka-broker') : undefined;
    }, 120_000, 500);
    await until('the broker listening', () => brokerLog().some((l) => 'listening' in l), 30_000, 300);
    kubectl(env, 'apply', POLICY);
    await waitPoliciesProgrammed(LAB);
  });

  after(() => {
    if (process.env.KEEP_LAB) return;
    beeline(['lab', 'down', '--name', LAB, '-q']);
  });

  test('kafkajs: produce to empire-announce succeeds, deathstar-plans gets TOPIC_AUTHORIZATION_FAILED, and the same producer goes on', () => {
    const got = kafkajsProduce('empire-hq', ['empire-announce', 'deathstar-plans', 'empire-announce']);
    assert.deepEqual(got.map((g) => [g.topic, g.ok, g.error ?? null]), [
      ['empire-announce', true, null],
      ['deathstar-plans', false, 'TOPIC_AUTHORIZATION_FAILED'],
      ['empire-announce', true, null],
    ]);
    const stored = brokerLog().filter((l) => l.produced);
    assert.equal(stored.filter((l) => l.produced === 'empire-announce').length, 2, 'the broker stored both allowed messages');
    assert.ok(!stored.some((l) => l.produced === 'deathstar-plans'), 'the broker never saw the denied produce');
  });

  test('kcat (librdkafka): produce to empire-announce succeeds, deathstar-plans fails with the authorization error', { skip: kcatPath ? false : 'kcat is not installed (make setup installs it)' }, () => {
    const ok = kcatProduce('empire-hq', 'empire-announce', 'hello from kcat');
    assert.equal(ok.code, 0, `kcat to empire-announce: ${ok.stderr}`);
    assert.ok(brokerLog().some((l) => l.produced === 'empire-announce' && l.values?.includes('hello from kcat')), 'the broker stored kcat\'s message');
    const denied = kcatProduce('empire-hq', 'deathstar-plans', 'the plans');
    assert.notEqual(denied.code, 0, 'kcat reports the failed delivery');
    assert.match(denied.stderr, /authoriz/i, `kcat names the authorization failure: ${denied.stderr}`);
    assert.ok(!brokerLog().some((l) => l.produced === 'deathstar-plans'), 'the broker never saw the denied produce');
  });

  test('a pod the policy does not name cannot reach the broker at all (L3/L4)', () => {
    const got = kafkajsProduce('empire-outpost', ['empire-announce']);
    assert.ok(got.length === 0 || !got[0]!.ok, `the outpost's produce fails: ${JSON.stringify(got)}`);
  });

  test('flows: observe --protocol kafka shows the requests; those naming deathstar-plans dropped, answered with error 29; the allowed produce names the policy', async () => {
    interface KFlow { verdict: string; l7?: { type: string; kafka?: { api_key: string; topic: string; error_code?: number } }; ingress_allowed_by?: { name: string }[] }
    const flows = await until('kafka flows for both topics', () => {
      const r = beeline(['observe', '--protocol', 'kafka', '--last', '500', '-o', 'json'], env);
      const fs = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => { const j = JSON.parse(l) as { flow?: KFlow } & KFlow; return j.flow ?? j; });
      const k = fs.filter((f) => f.l7?.kafka);
      return k.some((f) => f.l7!.kafka!.topic === 'deathstar-plans') && k.some((f) => f.l7!.kafka!.api_key === 'produce' && f.l7!.kafka!.topic === 'empire-announce') ? k : undefined;
    }, 20_000, 500);
    // The clients ask for the topic's metadata first; the proxy refuses that, so they never send the produce.
    const denied = flows.filter((f) => f.l7!.kafka!.topic === 'deathstar-plans');
    const deniedRequests = denied.filter((f) => f.l7!.type === 'REQUEST');
    assert.ok(deniedRequests.length > 0 && deniedRequests.every((f) => f.verdict === 'DROPPED'), `requests naming deathstar-plans are dropped: ${JSON.stringify(denied[0])}`);
    assert.ok(denied.filter((f) => f.l7!.type === 'RESPONSE').every((f) => f.l7!.kafka!.error_code === 29), 'their answers carry TOPIC_AUTHORIZATION_FAILED (29)');
    const produced = flows.filter((f) => f.l7!.kafka!.api_key === 'produce' && f.l7!.kafka!.topic === 'empire-announce' && f.l7!.type === 'REQUEST');
    assert.ok(produced.length >= 3, 'kafkajs\'s two produce requests and kcat\'s');
    assert.ok(produced.every((f) => f.verdict === 'FORWARDED' && (f.ingress_allowed_by ?? []).some((p) => p.name === 'secure-empire-kafka')), `allowed produce flows name the policy: ${JSON.stringify(produced[0])}`);
  });
});
