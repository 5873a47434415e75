/**
 * Fail closed (issue 17): an endpoint whose identity is not known yet (the
 * store is down when its pod is made) is reserved:init and drops what its
 * policy would decide, instead of letting everything through; once the
 * store is back it gets its identity and policy and its allowed traffic
 * flows (the window is measured). The same lab shows the datapath's health in
 * `status` (a detached program: degraded, named) and IPv6 from a pod counted
 * as dropped (Unsupported L3 protocol).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { agentGet } from '../../src/agent/client.js';
import type { AgentStatus, EndpointModel } from '../../src/agent/types.js';
import type { MetricRow } from '../../src/agent/datapath.js';
import { run } from '../../src/common/exec.js';
import { listPods } from '../../src/lab/pods.js';
import { readState } from '../../src/lab/state.js';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';
import { sleep, until } from '../lib/wait.js';

const LAB = 'failclosed';
const env = { BEELINE_LAB: LAB };

/** victim pods may send to srv and nothing else (egress default deny); the others are not selected. */
const POLICY = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: victim-egress, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: victim}}
  egress:
  - toEndpoints: [{matchLabels: {app: srv}}]
`;

const podOf = (name: string) => listPods(LAB).find((p) => p.name === name)!;
const ping = (from: string, ip: string) => run('ip', ['netns', 'exec', podOf(from).netns, 'ping', '-c', '1', '-W', '1', ip], { allowFailure: true }).code === 0;

test('an endpoint made while its identity cannot be known drops what its policy would drop, and passes its allowed traffic once ready', { timeout: 300_000 }, async (t) => {
  t.after(() => {
    beeline(['lab', 'etcd', 'start', '--lab', LAB]);
    beeline(['lab', 'down', '--name', LAB, '-q']);
  });
  beeline(['lab', 'down', '--name', LAB, '-q']);
  const up = beeline(['lab', 'up', '--nodes', '1', '--name', LAB, '-q']);
  assert.equal(up.code, 0, up.stderr);
  const state = readState(LAB)!;
  const node = state.plan.nodes[0]!;
  const socket = state.agents[node.name]!.socket;
  const endpoints = () => agentGet<EndpointModel[]>(socket, '/v1/endpoints');
  const metric = async (reason: number) => (await agentGet<(Omit<MetricRow, 'packets'> & { packets: string })[]>(socket, '/v1/metrics/datapath')).filter((m) => m.reason === reason && m.direction === 'egress').reduce((n, m) => n + Number(m.packets), 0);

  beelineOk(['lab', 'pod', 'add', '--lab', LAB, node.name, 'srv', '--label', 'app=srv']);
  beelineOk(['lab', 'pod', 'add', '--lab', LAB, node.name, 'other', '--label', 'app=other']);
  const r = spawnSync(beelineBin, ['apply', '-f', '-'], { input: POLICY, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  await until('the policy is in force on the node', () => {
    const nodes = JSON.parse(beelineOk(['policy', 'get', '-o', 'json'], env).stdout) as { policies: { key: string }[] }[];
    return nodes.every((n) => n.policies.some((p) => p.key.includes('victim-egress')));
  }, 30_000);
  const srv = podOf('srv').ip!;
  const other = podOf('other').ip!;

  await t.test('with the store up: a new pod has its identity and policy when CNI ADD returns (no startup window)', async () => {
    const t0 = Date.now();
    beelineOk(['lab', 'pod', 'add', '--lab', LAB, node.name, 'early', '--label', 'app=victim']);
    const addMs = Date.now() - t0;
    const t1 = Date.now();
    assert.equal(ping('early', srv), true, 'the very first ping after CNI ADD passes');
    const firstMs = Date.now() - t1;
    assert.equal(ping('early', other), false, 'what its policy drops is dropped');
    const ep = (await endpoints()).find((e) => e.pod?.name === 'early')!;
    assert.notEqual(ep.identity, 5);
    t.diagnostic(`store up: CNI ADD ${addMs} ms; first allowed ping answered ${firstMs} ms after ADD returned (no retry needed)`);
  });

  await t.test('with the store down: the pod is reserved:init, nothing its policy would drop passes; then its identity comes and allowed traffic flows', async () => {
    beelineOk(['lab', 'etcd', 'stop', '--lab', LAB]);
    await until('the agent sees the store unreachable', async () => (await agentGet<AgentStatus>(socket, '/v1/status?maps=0')).kvstore.state === 'unreachable', 15_000);
    const t0 = Date.now();
    beelineOk(['lab', 'pod', 'add', '--lab', LAB, node.name, 'late', '--label', 'app=victim']);
    const addMs = Date.now() - t0;
    const ep = (await endpoints()).find((e) => e.pod?.name === 'late')!;
    assert.equal(ep.identity, 5, 'reserved:init: the allocator is out of reach');
    const deniedBefore = await metric(133);
    for (let i = 0; i < 3; i++) assert.equal(ping('late', other), false, 'traffic its policy would drop does not pass while it is init');
    assert.equal(ping('late', srv), false, 'fail closed: nothing selects reserved:init, so allowed traffic waits too');
    assert.ok((await metric(133)) >= deniedBefore + 4, 'dropped as Policy denied (133), counted in egress');

    beelineOk(['lab', 'etcd', 'start', '--lab', LAB]);
    const started = Date.now();
    await until('the allowed ping passes once the endpoint is ready', () => ping('late', srv), 60_000, 100);
    const windowMs = Date.now() - started;
    const ready = (await endpoints()).find((e) => e.pod?.name === 'late')!;
    assert.notEqual(ready.identity, 5, 'it has its identity');
    assert.equal(ready.identity, (await endpoints()).find((e) => e.pod?.name === 'early')!.identity, 'the same labels, the same identity');
    assert.equal(ping('late', other), false, 'and its policy still drops the rest');
    t.diagnostic(`store down: CNI ADD ${addMs} ms (the identity allocation fails at once with etcd stopped: answered with reserved:init); after etcd start, allowed traffic flowed in ${windowMs} ms`);
  });

  await t.test('IPv6 from a pod is dropped as Unsupported L3 protocol (139) and counted; IPv4 and ARP keep working', async () => {
    const before = await metric(139);
    // Link-local traffic the pod's stack would send anyway (neighbour discovery, MLD); an explicit one to all routers too.
    run('ip', ['netns', 'exec', podOf('srv').netns, 'ping', '-6', '-c', '2', '-W', '1', '-I', 'eth0', 'ff02::2'], { allowFailure: true });
    await until('IPv6 drops are counted', async () => (await metric(139)) > before, 10_000);
    // And visible as flows, with Hubble's name of the reason.
    const flows = await until('the drops are flows', () => {
      const r = beeline(['observe', '--drop-reason-desc', 'UNSUPPORTED_L3_PROTOCOL', '--last', '20', '-o', 'json'], env);
      const fs = r.stdout.split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { flow?: { verdict?: string; drop_reason_desc?: string; ethernet?: unknown } }).flow).filter((f) => f);
      return fs.length ? fs : undefined;
    }, 15_000, 500);
    assert.ok(flows.every((f) => f!.verdict === 'DROPPED' && f!.drop_reason_desc === 'UNSUPPORTED_L3_PROTOCOL'), JSON.stringify(flows[0]));
    run('ip', ['netns', 'exec', podOf('srv').netns, 'ip', 'neigh', 'flush', 'dev', 'eth0'], { allowFailure: true });
    assert.equal(ping('early', srv), true, 'IPv4 (and the ARP it needs) still flows');
  });

  await t.test('status: a program detached behind the agent\'s back makes the datapath degraded, naming it; ok again once gone with its endpoint', async () => {
    const st0 = await agentGet<AgentStatus>(socket, '/v1/status?maps=0');
    assert.equal(st0.datapath.state, 'ok', st0.datapath.message);
    const ep = (await endpoints()).find((e) => e.pod?.name === 'early')!;
    run('ip', ['netns', 'exec', node.netns, 'tc', 'filter', 'del', 'dev', ep.hostIfname, 'ingress']);
    const st = await until('status says degraded', async () => {
      const s = await agentGet<AgentStatus>(socket, '/v1/status?maps=0');
      return s.datapath.state === 'degraded' ? s : undefined;
    }, 10_000);
    assert.match(st.datapath.message ?? '', new RegExp(`program bl_from_container is no longer attached to ${ep.hostIfname} ingress`));
    assert.equal(st.health, 'degraded');
    const cli = beeline(['status', '--node', node.name], env);
    assert.match(cli.stdout, /Datapath:\s+Degraded\s/);
    beelineOk(['lab', 'pod', 'del', '--lab', LAB, 'early']);
    await sleep(1100);
    const after = await agentGet<AgentStatus>(socket, '/v1/status?maps=0');
    assert.equal(after.datapath.state, 'ok', after.datapath.message);
  });

  await t.test('status: a pinned map that cannot be opened makes the datapath degraded, naming it', async () => {
    const pinDir = (JSON.parse(readFileSync(state.agents[node.name]!.config, 'utf8')) as { pinDir: string }).pinDir;
    // The programs keep their map; only the pin (what the CLI and a restarted agent open) goes.
    rmSync(join(pinDir, 'bl_metrics'));
    const st = await until('status says degraded', async () => {
      const s = await agentGet<AgentStatus>(socket, '/v1/status?maps=0');
      return s.datapath.state === 'degraded' ? s : undefined;
    }, 10_000);
    assert.match(st.datapath.message ?? '', /map bl_metrics: open pinned map .*bl_metrics/);
  });
});
