/**
 * The agent API accepts only what it should, against a real agent on a real
 * lab node: an endpoint request naming the node's uplink (or the tunnel
 * device, or another pod's veth) is refused with a 4xx naming the field, and
 * random endpoint requests (seeded: BEELINE_FUZZ_SEED replays a failure)
 * never change the programs attached to any device of the node, nor the
 * endpoints the agent has. The socket is mode 0600, and a second agent
 * started for the node refuses to start and leaves the first one serving,
 * even when it finds no socket (the node lock in the state directory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, renameSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { agentGet, agentRequest } from '../../src/agent/client.js';
import type { AgentStatus, EndpointCreateRequest, EndpointModel } from '../../src/agent/types.js';
import { hostIfname } from '../../src/cni/config.js';
import { run } from '../../src/common/exec.js';
import { TUNNEL_DEVICE } from '../../src/datapath/devices.js';
import { listPods } from '../../src/lab/pods.js';
import { readState } from '../../src/lab/state.js';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';
import { mulberry32 } from '../lib/rng.js';

const LAB = 'agapi';
const REQUESTS = Number(process.env.BEELINE_FUZZ_REQUESTS ?? 400);

type ApiError = { error?: { code?: string; message?: string; field?: string } };

/**
 * Every program attached in the node's namespace, as the kernel lists them:
 * `bpftool net show` (tc and XDP, with program ids) and each link's tc
 * filters. A re-attach changes a program id, so equal listings mean nothing
 * was attached, replaced or removed.
 */
function attachments(netns: string): string {
  const inNode = (cmd: string[]) => run('ip', ['netns', 'exec', netns, ...cmd]).stdout;
  const links = (JSON.parse(inNode(['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname).sort();
  const tc = links.flatMap((l) => ['ingress', 'egress'].map((dir) => `${l} ${dir}:\n${inNode(['tc', 'filter', 'show', 'dev', l, dir])}`));
  return [inNode(['bpftool', 'net', 'show']), ...tc].join('\n');
}

/** The agent's endpoints as they matter here (what the datapath was given). */
const endpointView = (eps: EndpointModel[]) => eps.map((e) => `${e.id} ${e.containerID}/${e.ifname} ${e.hostIfname} ${e.ipv4} ${e.mac} ${e.hostMac} ${e.identity}`).join('\n');

/** A raw body (not JSON, or too big) to PUT /v1/endpoints. */
function putRaw(socket: string, body: Buffer): Promise<{ status: number; body: ApiError }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, agent: false, method: 'PUT', path: '/v1/endpoints', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') as ApiError }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Random endpoint requests: mostly a real pod's request with fields swapped for hostile or broken values. */
function requestFuzzer(seed: number, ctx: { pods: EndpointModel[]; uplink: string; nodeNetns: string }) {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@ \u00e9\u0000';
  const str = (max: number) => Array.from({ length: Math.floor(rnd() * max) }, () => pick([...chars])).join('');
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
  const [a, b] = ctx.pods;
  const junk = (): unknown => pick([null, 0, -1, 1e308, true, [], {}, [1, 'x'], { x: { y: 1 } }, str(20), 'x'.repeat(5000)]);
  const values: Record<keyof EndpointCreateRequest, () => unknown> = {
    containerID: () => pick([a!.containerID, b!.containerID, hex(64), '', '-bad', str(30), 'x'.repeat(300), junk()]),
    ifname: () => pick(['eth0', 'eth1', 'lo', '', 'a'.repeat(16), str(10), junk()]),
    netns: () => pick([a!.netns, b!.netns, '/proc/1/ns/net', '/proc/self/ns/net', `/run/netns/${ctx.nodeNetns}`, '/etc/passwd', '/nonexistent', 'relative', str(40), junk()]),
    hostIfname: () => pick([ctx.uplink, TUNNEL_DEVICE, 'lo', a!.hostIfname, b!.hostIfname, hostIfname(hex(64), 'eth0'), `lxc${hex(11)}`, 'a'.repeat(16), str(15), junk()]),
    ipv4: () => pick([a!.ipv4, b!.ipv4, `10.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}`, '0.0.0.0', '255.255.255.255', '10.0.1.300', str(15), junk()]),
    mac: () => pick([a!.mac, b!.mac, a!.hostMac, '02:00:00:00:00:01', 'ff:ff:ff:ff:ff:ff', 'zz', junk()]),
    hostMac: () => pick([a!.hostMac, b!.hostMac, a!.mac, '02:00:00:00:00:02', 'zz', junk()]),
    pod: () => pick([a!.pod, b!.pod, { namespace: 'kube-system', name: 'coredns' }, { namespace: 'Bad', name: 'x' }, { namespace: 'default', name: 'x'.repeat(300) }, { namespace: 'default' }, junk()]),
    labels: () =>
      pick([
        { app: 'web' },
        { 'k8s:io.kubernetes.pod.namespace': 'kube-system' },
        { 'bad key': 'v' },
        { app: 'v'.repeat(64) },
        Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 'v'])),
        junk(),
      ]),
  };
  const fields = Object.keys(values) as (keyof EndpointCreateRequest)[];
  return (): Record<string, unknown> => {
    const base = { ...pick([a!, b!]) } as Record<string, unknown>;
    const req: Record<string, unknown> = {};
    for (const f of fields) if (base[f] !== undefined) req[f] = base[f];
    // Swap one to four fields; sometimes drop one; sometimes add one the API does not have.
    const n = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < n; i++) {
      const f = pick(fields);
      req[f] = values[f]();
    }
    if (rnd() < 0.1) delete req[pick(fields)];
    if (rnd() < 0.05) req[pick(['hostIfindex', 'identity', 'id', 'state'])] = 1;
    return req;
  };
}

test('the agent API refuses endpoint requests that are not a CNI veth of that container, and random requests change no program', { timeout: 420_000 }, async (t) => {
  t.after(() => beeline(['lab', 'down', '--name', LAB, '-q']));
  const up = beeline(['lab', 'up', '--nodes', '1', '--name', LAB, '--routing', 'tunnel', '-q']);
  assert.equal(up.code, 0, `lab up: ${up.stderr}`);
  const state = readState(LAB)!;
  const node = state.plan.nodes[0]!;
  const socket = state.agents[node.name]!.socket;
  for (const name of ['fa', 'fb']) beelineOk(['lab', 'pod', 'add', node.name, name, '--lab', LAB]);
  const pods = listPods(LAB).filter((p) => p.name === 'fa' || p.name === 'fb');
  assert.equal(pods.length, 2);

  // The socket: only root may talk to the node's agent.
  assert.equal(statSync(socket).mode & 0o777, 0o600, 'agent socket mode');

  const eps = await agentGet<EndpointModel[]>(socket, '/v1/endpoints');
  const mine = eps.filter((e) => pods.some((p) => p.ip === e.ipv4));
  assert.equal(mine.length, 2, JSON.stringify(eps));
  const [a, b] = mine as [EndpointModel, EndpointModel];
  const before = attachments(node.netns);
  assert.notEqual(run('ip', ['netns', 'exec', node.netns, 'tc', 'filter', 'show', 'dev', node.uplink, 'ingress']).stdout.trim(), '', 'the uplink has its program');
  assert.ok(before.includes(a.hostIfname) && before.includes(b.hostIfname), 'the pods\' veths have their programs');
  const endpointsBefore = endpointView(eps);

  const reqOf = (e: EndpointModel): EndpointCreateRequest => ({
    containerID: e.containerID,
    ifname: e.ifname,
    netns: e.netns,
    hostIfname: e.hostIfname,
    ipv4: e.ipv4,
    mac: e.mac,
    hostMac: e.hostMac,
    ...(e.pod ? { pod: e.pod } : {}),
  });
  const put = (body: unknown) => agentRequest<ApiError>(socket, 'PUT', '/v1/endpoints', body);

  await t.test('acceptance: the node\'s uplink as an endpoint\'s interface is refused with a 4xx, the uplink\'s programs unchanged', async () => {
    const uplinkBefore = run('ip', ['netns', 'exec', node.netns, 'tc', 'filter', 'show', 'dev', node.uplink, 'ingress']).stdout;
    const r = await put({ ...reqOf(a), hostIfname: node.uplink });
    assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
    assert.equal(r.body.error?.code, 'BL_ERR_ENDPOINT_INTERFACE');
    assert.equal(r.body.error?.field, 'hostIfname');
    assert.match(r.body.error?.message ?? '', new RegExp(`${node.uplink} is the node's uplink`));
    assert.equal(run('ip', ['netns', 'exec', node.netns, 'tc', 'filter', 'show', 'dev', node.uplink, 'ingress']).stdout, uplinkBefore);
    assert.equal(attachments(node.netns), before);
  });

  await t.test('the tunnel device, another pod\'s veth, an address IPAM gave another pod, a MAC that is not the pod\'s: each refused, naming the field', async () => {
    const cases: [Record<string, unknown>, number, string, string][] = [
      [{ ...reqOf(a), hostIfname: TUNNEL_DEVICE }, 403, 'BL_ERR_ENDPOINT_INTERFACE', 'hostIfname'],
      [{ ...reqOf(a), hostIfname: b.hostIfname }, 403, 'BL_ERR_ENDPOINT_INTERFACE', 'hostIfname'],
      [{ ...reqOf(a), ipv4: b.ipv4 }, 403, 'BL_ERR_ENDPOINT_ADDRESS', 'ipv4'],
      [{ ...reqOf(a), netns: b.netns }, 403, 'BL_ERR_ENDPOINT_INTERFACE', 'hostIfname'],
      [{ ...reqOf(a), mac: b.mac }, 400, 'BL_ERR_ENDPOINT_INVALID', 'mac'],
      [{ ...reqOf(a), labels: { 'no spaces': 'x' } }, 400, 'BL_ERR_ENDPOINT_INVALID', 'labels["no spaces"]'],
      [{ ...reqOf(a), pod: { namespace: 'Default', name: 'fa' } }, 400, 'BL_ERR_ENDPOINT_INVALID', 'pod.namespace'],
    ];
    for (const [body, status, code, field] of cases) {
      const r = await put(body);
      assert.deepEqual([r.status, r.body.error?.code, r.body.error?.field], [status, code, field], JSON.stringify(r.body));
    }
    const big = await putRaw(socket, Buffer.from(JSON.stringify({ ...reqOf(a), labels: { a: 'x'.repeat(2 << 20) } })));
    assert.equal(big.status, 413);
    assert.equal(big.body.error?.code, 'BL_ERR_REQUEST_TOO_LARGE');
    // The pod's own request, as CNI sent it, is still accepted (and changes nothing: it is the same endpoint).
    const same = await put(reqOf(a));
    assert.equal(same.status, 200, JSON.stringify(same.body));
    assert.equal(attachments(node.netns), before);
  });

  await t.test('fuzz: random endpoint requests never change a program of the uplink or of another endpoint', async (st) => {
    const seed = Number(process.env.BEELINE_FUZZ_SEED ?? Date.now() % 1_000_000);
    st.diagnostic(`seed ${seed} (BEELINE_FUZZ_SEED=${seed} replays it)`);
    const next = requestFuzzer(seed, { pods: [a, b], uplink: node.uplink, nodeNetns: node.netns });
    const statuses = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const body = next();
      const r = i % 50 === 49 ? await putRaw(socket, Buffer.from(JSON.stringify(body).slice(0, -1))) : await put(body);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      const what = `seed ${seed} request ${i}: ${JSON.stringify(body).slice(0, 300)} → ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`;
      assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), what);
      if (r.status !== 200) assert.match(r.body.error?.code ?? '', /^BL_ERR_/, what);
      // An accepted request is a pod's own, unchanged: the endpoint it already has.
      if (r.status === 200) assert.ok([a, b].some((e) => e.containerID === body.containerID && e.hostIfname === body.hostIfname && e.ipv4 === body.ipv4), what);
    }
    st.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
    assert.ok((statuses.get(403) ?? 0) > 0 && (statuses.get(400) ?? 0) > 0, 'the fuzzer reached both the syntax and the admission checks');
    assert.equal(attachments(node.netns), before, `seed ${seed}: the node's attachments changed`);
    assert.equal(endpointView(await agentGet<EndpointModel[]>(socket, '/v1/endpoints')), endpointsBefore, `seed ${seed}: the agent's endpoints changed`);
    // And the pods still reach each other.
    assert.equal(run('ip', ['netns', 'exec', pods[0]!.netns, 'ping', '-c', '1', '-W', '2', pods[1]!.ip!], { allowFailure: true }).code, 0);
  });

  await t.test('a second agent for the node refuses to start, touches nothing, and the first keeps serving', async () => {
    const first = await agentGet<AgentStatus>(socket, '/v1/status?maps=0');
    // The node's own configuration: the same socket, the same devices, the same pins.
    const r = run('ip', ['netns', 'exec', node.netns, beelineBin, 'agent', '--config', state.agents[node.name]!.config], { allowFailure: true, timeoutMs: 30_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /BL_ERR_AGENT_RUNNING/, r.stderr);
    const again = await agentGet<AgentStatus>(socket, '/v1/status?maps=0');
    assert.equal(again.pid, first.pid, 'the same agent answers on the socket');
    assert.equal(attachments(node.netns), before);
  });

  await t.test('a second agent refuses to start while the first holds the node lock, even with no socket to find (the startup race)', async () => {
    const first = await agentGet<AgentStatus>(socket, '/v1/status?maps=0');
    // As when the first agent has started but does not listen yet: nothing answers at the socket path.
    const aside = `${socket}.aside`;
    renameSync(socket, aside);
    try {
      const r = run('ip', ['netns', 'exec', node.netns, beelineBin, 'agent', '--config', state.agents[node.name]!.config], { allowFailure: true, timeoutMs: 30_000 });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /BL_ERR_AGENT_RUNNING/, r.stderr);
      assert.match(r.stderr, new RegExp(`agent\\.lock: held by pid ${first.pid}`), r.stderr);
      assert.ok(!existsSync(socket), 'it did not listen on the socket path');
    } finally {
      renameSync(aside, socket);
    }
    assert.equal((await agentGet<AgentStatus>(socket, '/v1/status?maps=0')).pid, first.pid, 'the first agent still answers');
    assert.equal(attachments(node.netns), before);
  });
});
