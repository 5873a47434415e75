/**
 * The plugin's protocol and logic without a kernel: a fake agent (HTTP on a
 * unix socket) and fake links. test/privileged/cni-*.test.ts run the real
 * binary with real namespaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CniError } from '../common/errors.js';
import { repoRoot } from '../common/version.js';
import { fakeAgent, type FakeAgent } from '../../test/lib/fake-agent.js';
import { agentApi } from './agentapi.js';
import { hostIfname } from './config.js';
import { CONFLIST_FILE, conflistText, pluginConfig, renderConflist } from './conflist.js';
import { FakeLinks } from '../../test/lib/fake-links.js';
import { runPlugin, type PluginDeps } from './plugin.js';
import { errorObject, renderAddResult } from './result.js';
import type { CniErrorObject, CniResult } from './types.js';

const POD = '/run/netns/bl-test-pod';

function setup(agent: FakeAgent) {
  const links = new FakeLinks();
  links.addPod(POD);
  const logs: string[] = [];
  const deps: PluginDeps = { agent: agentApi, links, log: (l) => logs.push(l) };
  const conf = (over: Record<string, unknown> = {}) => ({ ...pluginConfig(renderConflist({ agentSocket: agent.socket })), ...over });
  const call = async (command: string, over: Record<string, string | undefined> = {}, config: unknown = conf()) => {
    const env = { CNI_COMMAND: command, CNI_CONTAINERID: 'c0ffee', CNI_NETNS: POD, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', ...over };
    const out = await runPlugin(env, async () => (typeof config === 'string' ? config : JSON.stringify(config)), deps);
    return { ...out, json: out.stdout ? (JSON.parse(out.stdout) as CniResult & CniErrorObject) : undefined };
  };
  return { links, logs, conf, call };
}

/** Nothing of container c0ffee is left: no veth, no address, no endpoint. */
function assertClean(agent: FakeAgent, links: FakeLinks) {
  assert.deepEqual([...links.host.keys()], [], 'no host veth');
  assert.deepEqual([...links.pods.get(POD)!.keys()], [], 'no pod interface');
  assert.equal(agent.pool.used, 0, 'no address allocated');
  assert.equal(agent.endpoints.size, 0, 'no endpoint');
}

test('ADD: allocates, makes the veth, registers the endpoint, prints a 1.0.0 result', async (t) => {
  const agent = await fakeAgent(t);
  const { links, call, conf } = setup(agent);
  const r = await call('ADD', { CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web' }, conf({ mtu: 1450, args: { cni: { labels: [{ key: 'app', value: 'web' }] } } }));
  assert.equal(r.exitCode, 0, r.stdout);
  const host = hostIfname('c0ffee', 'eth0');
  const pod = links.podLink(POD, 'eth0')!;
  assert.deepEqual(r.json, {
    cniVersion: '1.0.0',
    interfaces: [
      { name: host, mac: links.hostLink(host)!.mac },
      { name: 'eth0', mac: pod.mac, sandbox: POD },
    ],
    ips: [{ address: '10.0.1.2/32', gateway: '10.0.1.1', interface: 1 }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.0.1.1' }],
    dns: {},
  });
  assert.equal(pod.mtu, 1450);
  assert.equal(links.hostLink(host)!.mtu, 1450);
  const ep = agent.endpoints.get('c0ffee/eth0')!;
  assert.equal(ep.ipv4, '10.0.1.2');
  assert.equal(ep.hostIfname, host);
  assert.equal(ep.mac, pod.mac);
  assert.equal(ep.netns, POD);
  assert.deepEqual(ep.pod, { namespace: 'default', name: 'web' });
  assert.deepEqual(ep.labels, { app: 'web' });
  assert.equal(agent.pool.lookup('c0ffee/eth0'), '10.0.1.2');
  assert.deepEqual(agent.calls, ['GET /v1/status', 'POST /v1/ipam/allocate', 'PUT /v1/endpoints']);
});

test("ADD: a requested MAC (podman's --mac-address as CNI_ARGS MAC=, or the mac capability) is the pod interface's and the endpoint's", async (t) => {
  const agent = await fakeAgent(t);
  const { links, call, conf } = setup(agent);
  const r = await call('ADD', { CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web_1;MAC=02:42:AC:11:00:99' });
  assert.equal(r.exitCode, 0, r.stdout);
  assert.equal(links.podLink(POD, 'eth0')!.mac, '02:42:ac:11:00:99');
  assert.equal(r.json!.interfaces![1]!.mac, '02:42:ac:11:00:99');
  assert.equal(agent.endpoints.get('c0ffee/eth0')!.mac, '02:42:ac:11:00:99');
  assert.deepEqual(agent.endpoints.get('c0ffee/eth0')!.pod, { namespace: 'default', name: 'web-1' }, "podman's container name, `_` as `-`");
  assert.equal((await call('DEL')).exitCode, 0);
  const c = await call('ADD', {}, conf({ runtimeConfig: { mac: '02:00:00:00:00:07' } }));
  assert.equal(c.exitCode, 0, c.stdout);
  assert.equal(links.podLink(POD, 'eth0')!.mac, '02:00:00:00:00:07');
  assert.equal((await call('DEL')).exitCode, 0);
  // A multicast MAC is refused before anything is made.
  const bad = await call('ADD', { CNI_ARGS: 'MAC=01:00:5e:00:00:01' });
  assert.equal(bad.json!.code, 4);
  assert.match(bad.json!.msg, /requested MAC "01:00:5e:00:00:01" \(CNI_ARGS MAC\) is a multicast address/);
  assertClean(agent, links);
});

test('ADD: a 0.4.0 / 0.3.1 configuration gets a result of its own version', async (t) => {
  const agent = await fakeAgent(t);
  const { call, conf } = setup(agent);
  const r = await call('ADD', {}, conf({ cniVersion: '0.4.0', dns: { nameservers: ['10.96.0.10'] } }));
  assert.equal(r.exitCode, 0, r.stdout);
  assert.equal(r.json!.cniVersion, '0.4.0');
  assert.deepEqual(r.json!.ips, [{ version: '4', address: '10.0.1.2/32', gateway: '10.0.1.1', interface: 1 }]);
  assert.deepEqual(r.json!.dns, { nameservers: ['10.96.0.10'] });
});

test('ADD: a failure at each step undoes everything done before it', async (t) => {
  const agent = await fakeAgent(t);
  const { links, call } = setup(agent);
  for (const step of ['createVeth', 'configurePod', 'configureHost']) {
    links.failOn = step;
    const r = await call('ADD');
    assert.equal(r.exitCode, 1, step);
    assert.equal(r.json!.code, 102, step);
    assert.match(r.json!.msg, /injected failure/);
    assertClean(agent, links);
  }
  links.failOn = undefined;
  agent.failNext.set('PUT /v1/endpoints', { status: 500, code: 'BL_ERR_DATAPATH', message: 'endpoint 7: write lxc map: E2BIG' });
  const r = await call('ADD');
  assert.equal(r.json!.code, 103);
  assert.equal(r.json!.msg, 'agent PUT /v1/endpoints: endpoint 7: write lxc map: E2BIG');
  assertClean(agent, links);
  assert.deepEqual(agent.calls.slice(-4), ['POST /v1/ipam/allocate', 'PUT /v1/endpoints', 'DELETE /v1/endpoints', 'POST /v1/ipam/release']);
  // And the next ADD works: nothing half-made is in the way.
  assert.equal((await call('ADD')).exitCode, 0);
});

test('ADD: an exhausted pool is code 101 naming the CIDR; nothing is made', async (t) => {
  const agent = await fakeAgent(t, { podCIDR: '10.0.9.0/30' });
  const { links, call } = setup(agent);
  agent.pool.allocate('someone/eth0');
  const r = await call('ADD');
  assert.equal(r.exitCode, 1);
  assert.equal(r.json!.code, 101);
  assert.match(r.json!.msg, /pod CIDR 10\.0\.9\.0\/30 is exhausted: 1 of 1 addresses in use/);
  assert.match(r.json!.details!, /BL_ERR_IPAM_EXHAUSTED/);
  assert.deepEqual([...links.host.keys()], []);
  assert.deepEqual(links.ops, [], 'no link was touched');
});

test('ADD: validated before anything is made (network name, sandbox, root namespace)', async (t) => {
  const agent = await fakeAgent(t);
  const { links, call, conf } = setup(agent);
  const expect = async (over: Record<string, string | undefined>, config: unknown, code: number, msg: RegExp) => {
    const r = await call('ADD', over, config);
    assert.equal(r.exitCode, 1, r.stdout);
    assert.equal(r.json!.code, code, r.stdout);
    assert.match(r.json!.msg, msg);
    assert.equal(agent.pool.used, 0);
    assert.deepEqual(links.ops, []);
  };
  // Until the agent reports cniNetwork it serves "beeline".
  await expect({}, conf({ name: 'other' }), 7, /network other is not served by the agent at .*agent\.sock/);
  agent.cniNetwork = 'lab-net';
  await expect({}, conf(), 7, /network beeline is not served/);
  agent.cniNetwork = 'beeline';
  await expect({ CNI_NETNS: '/run/netns/gone' }, conf(), 3, /CNI_NETNS \/run\/netns\/gone does not exist/);
  await expect({ CNI_NETNS: '/proc/1/ns/net' }, conf(), 4, /root network namespace/);
  await expect({ CNI_NETNS: '/proc/self/ns/net' }, conf(), 4, /node's own network namespace/);
  links.root = true;
  await expect({}, conf(), 105, /beeline-cni: refusing to change the machine's root network namespace/);
  links.root = false;
});

test('ADD: an interface name already taken (in the pod, or the host end) is code 102; the address is released and that interface left alone', async (t) => {
  const agent = await fakeAgent(t);
  const { links, call } = setup(agent);
  const taken = async (msg: RegExp) => {
    links.ops = [];
    const r = await call('ADD');
    assert.equal(r.exitCode, 1, r.stdout);
    assert.equal(r.json!.code, 102, r.stdout);
    assert.match(r.json!.msg, msg);
    assert.equal(agent.pool.used, 0, 'address released');
    assert.deepEqual(links.ops, ['createVeth'], 'the refused veth is all that was tried');
  };
  const podEth0 = { name: 'eth0', ifindex: 2, mac: '02:00:00:00:00:99', mtu: 1500, up: true, addrs: ['10.9.9.9/32'] };
  links.pods.get(POD)!.set('eth0', podEth0);
  await taken(/interface eth0 already exists/);
  assert.equal(links.pods.get(POD)!.get('eth0'), podEth0, "the pod's own eth0 is still there");
  links.pods.get(POD)!.delete('eth0');
  const host = hostIfname('c0ffee', 'eth0');
  const hostLink = { name: host, ifindex: 3, mac: '02:00:00:00:00:98', mtu: 1500, up: true };
  links.host.set(host, hostLink);
  await taken(/host interface lxc[0-9a-f]{11} for c0ffee\/eth0 already exists/);
  assert.equal(links.host.get(host), hostLink, 'the host link is still there');
  links.host.delete(host);
  assert.equal((await call('ADD')).exitCode, 0);
});

test('a dead or missing agent socket is code 11, naming the socket', async (t) => {
  const agent = await fakeAgent(t);
  const { links, call, conf } = setup(agent);
  const dead = conf({ agentSocket: '/run/beeline/nonexistent/agent.sock' });
  for (const cmd of ['ADD', 'DEL']) {
    const r = await call(cmd, {}, dead);
    assert.equal(r.exitCode, 1);
    assert.equal(r.json!.code, 11);
    assert.equal(r.json!.msg, 'agent not reachable at /run/beeline/nonexistent/agent.sock (is the agent running?)');
    assert.match(r.json!.details!, /ENOENT/);
  }
  assert.deepEqual(links.ops, []);
});

test('DEL: removes endpoint, veth and address; idempotent; fine for what was never added or whose netns is gone', async (t) => {
  const agent = await fakeAgent(t);
  const { links, call } = setup(agent);
  const add = await call('ADD');
  assert.equal(add.exitCode, 0);
  const prev = JSON.parse(add.stdout) as CniResult;
  const del = await call('DEL', {}, { ...pluginConfig(renderConflist({ agentSocket: agent.socket }), 0, { prevResult: prev }) });
  assert.deepEqual([del.exitCode, del.stdout], [0, '']);
  assertClean(agent, links);
  assert.equal((await call('DEL')).exitCode, 0, 'second DEL');
  assert.equal((await call('DEL', { CNI_CONTAINERID: 'never-added' })).exitCode, 0, 'DEL of a container never added');
  // The netns went first (the runtime removed the sandbox), or no netns is given at all.
  assert.equal((await call('ADD')).exitCode, 0);
  links.pods.delete(POD);
  assert.equal((await call('DEL', { CNI_NETNS: undefined })).exitCode, 0);
  assert.equal((await call('DEL')).exitCode, 0);
  assert.deepEqual([...links.host.keys()], []);
  assert.equal(agent.pool.used, 0);
  assert.equal(agent.endpoints.size, 0);
});

test('DEL: with the agent down the veth still goes, and the runtime is told to try again', async (t) => {
  const agent = await fakeAgent(t);
  const { links, call, conf } = setup(agent);
  assert.equal((await call('ADD')).exitCode, 0);
  const r = await call('DEL', {}, conf({ agentSocket: '/run/beeline/nonexistent/agent.sock' }));
  assert.equal(r.json!.code, 11);
  assert.deepEqual([...links.host.keys()], [], 'veth removed');
  assert.equal((await call('DEL')).exitCode, 0, 'the retry releases the rest');
  assertClean(agent, links);
});

test('CHECK: passes after ADD; names what is wrong otherwise', async (t) => {
  const agent = await fakeAgent(t);
  const { links, call } = setup(agent);
  const add = await call('ADD');
  const prev = JSON.parse(add.stdout) as CniResult;
  const check = (over: Record<string, string | undefined> = {}, p: CniResult = prev) =>
    call('CHECK', over, pluginConfig(renderConflist({ agentSocket: agent.socket }), 0, { prevResult: p }));
  const ok = await check();
  assert.deepEqual([ok.exitCode, ok.stdout], [0, '']);
  const host = hostIfname('c0ffee', 'eth0');

  const failsWith = async (msg: RegExp, over?: Record<string, string | undefined>, p?: CniResult) => {
    const r = await check(over, p);
    assert.equal(r.exitCode, 1);
    assert.equal(r.json!.code, 104, r.stdout);
    assert.match(r.json!.msg, msg);
  };
  const other = { ...prev, ips: [{ address: '10.0.1.77/32', gateway: '10.0.1.1', interface: 1 }] };
  await failsWith(/eth0 in \/run\/netns\/bl-test-pod lacks address 10\.0\.1\.77\/32/, {}, other);
  links.host.get(host)!.up = false;
  await failsWith(new RegExp(`host interface ${host} of c0ffee/eth0 is down`));
  links.host.get(host)!.up = true;
  const ep = agent.endpoints.get('c0ffee/eth0')!;
  agent.endpoints.delete('c0ffee/eth0');
  await failsWith(/the agent has no endpoint for c0ffee\/eth0/);
  agent.endpoints.set('c0ffee/eth0', ep);
  links.host.delete(host);
  await failsWith(new RegExp(`host interface ${host} of c0ffee/eth0 does not exist`));
  const r = await check({}, { cniVersion: '1.0.0', interfaces: [], ips: [{ address: '10.0.1.2/32', interface: 4 }] });
  assert.equal(r.json!.code, 7, 'a prevResult without our address is a configuration error');
  const missing = await call('CHECK', {}, pluginConfig(renderConflist({ agentSocket: agent.socket })));
  assert.equal(missing.json!.code, 7);
  assert.match(missing.json!.msg, /prevResult/);
});

test('result and error rendering', () => {
  const base = { netns: '/run/netns/p', ifname: 'eth0', mac: 'aa:aa:aa:aa:aa:aa', hostIfname: 'lxc0', hostMac: 'bb:bb:bb:bb:bb:bb', ip: '10.0.1.5', gateway: '10.0.1.1' };
  assert.equal(renderAddResult({ ...base, cniVersion: '1.0.0' }).ips![0]!.version, undefined);
  assert.equal(renderAddResult({ ...base, cniVersion: '0.3.1' }).ips![0]!.version, '4');
  assert.deepEqual(errorObject(new CniError(7, 'bad', { details: 'longer' }), '0.4.0'), { cniVersion: '0.4.0', code: 7, msg: 'bad', details: 'longer' });
  assert.deepEqual(errorObject(new CniError(11, 'agent down', { hint: 'is the agent running?' }), '7.7.7'), {
    cniVersion: '1.0.0',
    code: 11,
    msg: 'agent down (is the agent running?)',
    details: 'try again later',
  });
  // Chained after another plugin: its result passes through, ours is appended with indexes shifted.
  const chained = renderAddResult({
    ...base,
    cniVersion: '1.0.0',
    prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'tap0' }], ips: [{ address: '192.0.2.2/24', interface: 0 }], routes: [{ dst: '192.0.2.0/24' }], dns: { nameservers: ['192.0.2.53'] } },
  });
  assert.deepEqual(chained.interfaces!.map((i) => i.name), ['tap0', 'lxc0', 'eth0']);
  assert.deepEqual(chained.ips, [{ address: '192.0.2.2/24', interface: 0 }, { address: '10.0.1.5/32', gateway: '10.0.1.1', interface: 2 }]);
  assert.deepEqual(chained.routes, [{ dst: '192.0.2.0/24' }, { dst: '0.0.0.0/0', gw: '10.0.1.1' }]);
  assert.deepEqual(chained.dns, { nameservers: ['192.0.2.53'] });
  const internal = errorObject(new TypeError('boom'));
  assert.equal(internal.code, 100);
  assert.equal(internal.msg, 'boom');
});

test('conflist: deploy/cni/05-beeline.conflist is the rendered default; a node gets its own socket', () => {
  const file = readFileSync(join(repoRoot, 'deploy', 'cni', CONFLIST_FILE), 'utf8');
  assert.equal(file, conflistText(renderConflist()));
  assert.deepEqual(JSON.parse(file), {
    cniVersion: '1.0.0',
    cniVersions: ['1.0.0', '1.1.0'],
    name: 'beeline',
    plugins: [{ type: 'beeline-cni', agentSocket: '/var/run/beeline/agent.sock', capabilities: { ips: true, mac: true } }],
  });
  const lab = renderConflist({ agentSocket: '/run/beeline/labs/demo/nodes/node1/agent.sock', mtu: 1450 });
  assert.deepEqual(pluginConfig({ ...lab, plugins: [{ ...lab.plugins[0]!, capabilities: { portMappings: true } }] }, 0, { labels: { app: 'web' } }), {
    type: 'beeline-cni',
    agentSocket: '/run/beeline/labs/demo/nodes/node1/agent.sock',
    mtu: 1450,
    cniVersion: '1.0.0',
    name: 'beeline',
    args: { cni: { labels: [{ key: 'app', value: 'web' }] } },
  });
  // The ips capability: requested addresses become runtimeConfig.ips, only for a plugin that declares it.
  assert.deepEqual(pluginConfig(lab, 0, { ips: ['10.0.1.9/24'] }).runtimeConfig, { ips: ['10.0.1.9/24'] });
  assert.equal(pluginConfig({ ...lab, plugins: [{ type: 'beeline-cni' }] }, 0, { ips: ['10.0.1.9/24'] }).runtimeConfig, undefined);
});

test('agent API: an HTTP error of the agent keeps its message and code', async (t) => {
  const agent = await fakeAgent(t);
  agent.failNext.set('POST /v1/ipam/allocate', { status: 507, code: 'BL_ERR_IPAM_EXHAUSTED', message: 'allocate x: pod CIDR 10.0.1.0/24 is exhausted: 253 of 253 addresses in use' });
  await assert.rejects(agentApi(agent.socket).allocate('x'), (e: CniError) => e.cniCode === 101 && /exhausted/.test(e.message) && /BL_ERR_IPAM_EXHAUSTED \(status 507\)/.test(e.details!));
  assert.equal(await agentApi(agent.socket).network(), undefined, 'an agent that does not report cniNetwork');
});
