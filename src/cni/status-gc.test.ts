/**
 * CNI 1.1 (STATUS, GC) and a requested address, through runPlugin with the
 * agent's in-process API (localAgentApi, as the agent serves POST /v1/cni)
 * over a real address pool and fake links.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from '../ipam/pool.js';
import { INIT_NETNS } from '../common/netns.js';
import type { EndpointCreateRequest, EndpointModel } from '../agent/types.js';
import { FakeLinks } from '../../test/lib/fake-links.js';
import type { AgentNetns, AgentReadiness } from './agentapi.js';
import { hostIfname } from './config.js';
import { pluginConfig, renderConflist } from './conflist.js';
import { runPlugin } from './plugin.js';
import { localAgentApi } from './service.js';
import type { CniErrorObject } from './types.js';

const SOCK = '/run/beeline/test-agent.sock';

function setup(podCIDR = '10.0.1.0/24') {
  const pool = new Pool(podCIDR);
  const endpoints = new Map<string, EndpointModel>();
  const links = new FakeLinks();
  const logs: string[] = [];
  const readiness: AgentReadiness & { starting?: boolean } = {};
  /** What the agent says of its namespace (the host-safety decision's input). */
  const agentNetns: AgentNetns = { hostNetns: false, netns: 'net:[4026532001]' };
  /** The namespace the plugin was run in, as the shim reports it. */
  const plugin: { netns?: string } = { netns: 'net:[4026532001]' };
  let nextId = 1;
  const agent = localAgentApi(SOCK, {
    network: () => 'beeline',
    allocate: (owner) => ({ ip: pool.allocate(owner), podCIDR, gateway: pool.router }),
    allocateSpecific: (owner, ip) => ({ ip: pool.allocateSpecific(ip, owner), podCIDR, gateway: pool.router }),
    allocations: () => pool.entries(),
    hostNetns: () => ({ ...agentNetns }),
    readiness: () => ({ ...(readiness.starting ? {} : { ipam: { used: pool.used, capacity: pool.capacity } }), ...(readiness.datapathProblem ? { datapathProblem: readiness.datapathProblem } : {}) }),
    release: (owner) => void pool.release(owner),
    createEndpoint: async (r: EndpointCreateRequest) => {
      const ep = { id: nextId++, ...r, hostIfindex: 0, labels: r.labels ?? {}, identity: 5, state: 'ready', createdAt: '' } as EndpointModel;
      endpoints.set(`${r.containerID}/${r.ifname}`, ep);
      return ep;
    },
    deleteEndpoint: async (c, i) => {
      const had = endpoints.delete(`${c}/${i}`);
      return had ? { deleted: true, id: 1 } : { deleted: false };
    },
    listEndpoints: () => [...endpoints.values()],
  });
  const conf = (over: Record<string, unknown> = {}) => ({ ...pluginConfig(renderConflist({ agentSocket: SOCK })), cniVersion: '1.1.0', ...over });
  const call = async (env: Record<string, string>, config: unknown = conf()) => {
    const out = await runPlugin(env, async () => JSON.stringify(config), { agent: () => agent, links, log: (l) => void logs.push(l), ...(plugin.netns ? { pluginNetns: plugin.netns } : {}) });
    return { ...out, err: out.stdout ? (JSON.parse(out.stdout) as CniErrorObject) : undefined };
  };
  const add = (id: string, args = '', config: unknown = conf()) => {
    const netns = `/run/netns/${id}`;
    if (!links.pods.has(netns)) links.addPod(netns);
    return call({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: 'eth0', ...(args ? { CNI_ARGS: args } : {}) }, config);
  };
  return { pool, endpoints, links, logs, readiness, agentNetns, plugin, conf, call, add };
}

test('ADD with a requested address: exactly that one; taken, outside the pod CIDR or reserved is code 106 naming it and why', async () => {
  const s = setup();
  const a = await s.add('c1', 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=a;IP=10.0.1.77');
  assert.equal(a.exitCode, 0, a.stdout);
  assert.equal(s.pool.lookup('c1/eth0'), '10.0.1.77');
  assert.equal(JSON.parse(a.stdout).ips[0].address, '10.0.1.77/32');
  const b = await s.add('c2', '', s.conf({ runtimeConfig: { ips: ['10.0.1.78/24'] } }));
  assert.equal(b.exitCode, 0, b.stdout);
  assert.equal(s.endpoints.get('c2/eth0')!.ipv4, '10.0.1.78', 'the ips capability');

  const refused: [string, string, RegExp][] = [
    ['c3', 'IP=10.0.1.77', /10\.0\.1\.77.*already held by c1\/eth0/],
    ['c4', 'IP=10.0.2.5', /10\.0\.2\.5.*not in pod CIDR 10\.0\.1\.0\/24/],
    ['c5', 'IP=10.0.1.1', /10\.0\.1\.1.*router address of 10\.0\.1\.0\/24, reserved/],
    ['c6', 'IP=10.0.1.255', /10\.0\.1\.255.*broadcast/],
  ];
  for (const [id, args, msg] of refused) {
    const r = await s.add(id, args);
    assert.equal(r.exitCode, 1, args);
    assert.equal(r.err!.code, 106, args);
    assert.match(r.err!.msg, msg);
    assert.equal(s.pool.lookup(`${id}/eth0`), undefined, `${args}: nothing held`);
    assert.equal(s.links.hostLink(hostIfname(id, 'eth0')), undefined, `${args}: no veth`);
  }
  assert.equal(s.pool.used, 2);
});

test('ADD without a Kubernetes namespace: registered in the configured default namespace under its name, so it gets an identity', async () => {
  const s = setup();
  assert.equal((await s.add('podman1', 'IgnoreUnknown=1;K8S_POD_NAME=web')).exitCode, 0);
  assert.deepEqual(s.endpoints.get('podman1/eth0')!.pod, { namespace: 'default', name: 'web' });
  assert.equal((await s.add('abcdef0123456789', '', s.conf({ defaultNamespace: 'containers' }))).exitCode, 0);
  assert.deepEqual(s.endpoints.get('abcdef0123456789/eth0')!.pod, { namespace: 'containers', name: 'abcdef012345' });
});

test('STATUS: 0 when an ADD can be served; 50 while starting or with a full pool; 51 with a degraded datapath', async () => {
  const s = setup('10.0.1.0/30'); // one usable address
  const status = () => s.call({ CNI_COMMAND: 'STATUS', CNI_PATH: '/opt/cni/bin' });
  let r = await status();
  assert.deepEqual([r.exitCode, r.stdout], [0, '']);
  s.readiness.starting = true;
  r = await status();
  assert.equal(r.err!.code, 50);
  assert.match(r.err!.msg, /still starting/);
  s.readiness.starting = false;
  assert.equal((await s.add('c1')).exitCode, 0);
  r = await status();
  assert.equal(r.err!.code, 50);
  assert.match(r.err!.msg, /no free pod address: 1 of 1 in use/);
  s.readiness.datapathProblem = 'program lxc detached';
  r = await status();
  assert.equal(r.err!.code, 51);
  assert.equal(r.err!.details, 'program lxc detached');
  // A network the agent does not serve is the configuration's fault.
  s.readiness.datapathProblem = undefined;
  r = await s.call({ CNI_COMMAND: 'STATUS' }, s.conf({ name: 'other' }));
  assert.equal(r.err!.code, 7);
});

test('GC: releases every endpoint, veth and address not in cni.dev/valid-attachments; keeps the valid ones and foreign owners', async () => {
  const s = setup();
  for (const id of ['keep1', 'gone1', 'gone2']) assert.equal((await s.add(id)).exitCode, 0, id);
  s.pool.allocate('orphan9/eth0'); // an address whose ADD never finished
  s.pool.allocate('health'); // not the plugin's
  const gc = (valid: unknown) => s.call({ CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' }, s.conf({ 'cni.dev/valid-attachments': valid }));
  const r = await gc([{ containerID: 'keep1', ifname: 'eth0' }, { containerID: 'never-added', ifname: 'eth0' }]);
  assert.deepEqual([r.exitCode, r.stdout], [0, ''], r.stdout);
  assert.deepEqual([...s.endpoints.keys()], ['keep1/eth0']);
  assert.deepEqual(s.pool.entries().map((e) => e.owner).sort(), ['health', 'keep1/eth0']);
  assert.deepEqual([...s.links.host.keys()], [hostIfname('keep1', 'eth0')]);
  assert.ok(s.logs.some((l) => /GC gone1\/eth0: released/.test(l)));
  // Idempotent; an empty list releases all of the plugin's.
  assert.equal((await gc([{ containerID: 'keep1', ifname: 'eth0' }])).exitCode, 0);
  assert.equal((await gc([])).exitCode, 0);
  assert.deepEqual(s.pool.entries().map((e) => e.owner), ['health']);
  assert.equal(s.endpoints.size, 0);
  // No list at all is refused, not taken as "release everything".
  const none = await s.call({ CNI_COMMAND: 'GC' });
  assert.equal(none.err!.code, 7);
});

test('the root namespace: refused (105, STATUS 50) unless the agent runs in host-netns mode in the plugin\'s own namespace; all four (inRootNetns, hostNetns) combinations', async () => {
  const s = setup();
  const combos: [root: boolean, hostNetns: boolean, allowed: boolean][] = [
    [false, false, true],
    [false, true, true],
    [true, false, false],
    [true, true, true],
  ];
  let n = 0;
  for (const [root, hostNetns, allowed] of combos) {
    s.links.root = root;
    s.agentNetns.hostNetns = hostNetns;
    const id = `combo${n++}`;
    const what = `inRootNetns=${root} hostNetns=${hostNetns}`;
    const add = await s.add(id);
    const status = await s.call({ CNI_COMMAND: 'STATUS' });
    if (allowed) {
      assert.equal(add.exitCode, 0, `${what}: ${add.stdout}`);
      assert.ok(s.links.hostLink(hostIfname(id, 'eth0')), `${what}: veth made`);
      assert.equal(status.exitCode, 0, `${what}: ${status.stdout}`);
      continue;
    }
    assert.equal(add.err?.code, 105, `${what}: ${add.stdout}`);
    assert.match(add.err!.msg, /beeline-cni: refusing to change the machine's root network namespace/);
    assert.match(add.stdout, /--host-netns/, 'the hint names the switch');
    assert.equal(s.pool.lookup(`${id}/eth0`), undefined, `${what}: nothing allocated`);
    assert.equal(s.links.hostLink(hostIfname(id, 'eth0')), undefined, `${what}: no veth`);
    assert.equal(status.err?.code, 50, `${what}: STATUS`);
    assert.match(status.err!.msg, /ADD is refused here \(code 105\)/);
  }

  // Host-netns mode, but the agent in another namespace than the plugin (or the plugin's unknown): refused.
  s.links.root = true;
  s.agentNetns.hostNetns = true;
  s.plugin.netns = 'net:[4026532999]';
  const elsewhere = await s.add('elsewhere');
  assert.equal(elsewhere.err?.code, 105, elsewhere.stdout);
  assert.match(elsewhere.err!.msg, /host-netns mode in net:\[4026532001\], the plugin in net:\[4026532999\]/);
  delete s.plugin.netns;
  assert.equal((await s.add('unknown')).err?.code, 105);

  // The plugin run in the root namespace (the shim says so), beside an agent whose links are not there:
  // refused unless that agent runs in host-netns mode in the root namespace too.
  s.links.root = false;
  s.plugin.netns = INIT_NETNS;
  s.agentNetns.hostNetns = false;
  assert.equal((await s.add('shim-in-root')).err?.code, 105);
  s.agentNetns.hostNetns = true;
  s.agentNetns.netns = INIT_NETNS;
  assert.equal((await s.add('both-in-root')).exitCode, 0);

  // A pod namespace that is the root's or the plugin's own stays refused in host-netns mode too.
  s.plugin.netns = s.agentNetns.netns;
  for (const netns of ['/proc/1/ns/net', '/proc/self/ns/net']) {
    const r = await s.call({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'self', CNI_NETNS: netns, CNI_IFNAME: 'eth0' });
    assert.equal(r.err?.code, 4, `${netns}: ${r.stdout}`);
  }
});
