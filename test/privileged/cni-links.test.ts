/**
 * bin/beeline-cni with real namespaces and links, against a fake agent (the
 * plugin's logic in-process, as the real agent runs it, over five in-memory
 * routes; its links made in the test node's namespace): the kernel side on its own. cni.test.ts
 * runs the same cases against a real lab agent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { run } from '../../src/common/exec.js';
import { listNetns } from '../../src/lab/netns.js';
import { hostIfname } from '../../src/cni/config.js';
import { IpLinks } from '../../src/cni/link.js';
import { fakeAgent } from '../lib/fake-agent.js';
import { addNetns, badInputCases, delNetnsIfPresent, harness, lifecycleCases, linkIn, linkNames, newContainerID, runCni } from '../lib/cni.js';

function namespaces(t: { after: (fn: () => void) => void }) {
  const prefix = `bl-test-${randomBytes(3).toString('hex')}`;
  t.after(() => {
    for (const ns of listNetns().filter((n) => n.startsWith(prefix))) delNetnsIfPresent(ns);
  });
  const node = `${prefix}-node`;
  addNetns(node);
  return { prefix, node };
}

test('CNI with real links, fake agent: lifecycle, CHECK, DEL idempotency, cycles; the gateway answers once a stand-in agent owns it', async (t) => {
  const { prefix, node } = namespaces(t);
  const agent = await fakeAgent(t, { links: new IpLinks({ nodeNetns: `/run/netns/${node}` }) });
  const h = harness({
    nodeNetns: node,
    agentSocket: agent.socket,
    podNetnsPrefix: `${prefix}-p`,
    allocated: async () => agent.pool.used,
    endpoints: async () => [...agent.endpoints.values()],
  });
  await lifecycleCases(h, (res, podNetns) => {
    // What the agent's datapath does for real, done by hand: the node owns the gateway on the pod's veth.
    const gw = res.ips![0]!.gateway!;
    const podIP = res.ips![0]!.address.split('/')[0]!;
    const host = res.interfaces![0]!.name;
    run('ip', ['-n', node, 'addr', 'add', `${gw}/32`, 'dev', host]);
    run('ip', ['-n', node, 'route', 'add', `${podIP}/32`, 'dev', host]);
    const ping = run('ip', ['netns', 'exec', podNetns, 'ping', '-c', '1', '-W', '2', gw], { allowFailure: true });
    assert.equal(ping.code, 0, `pod pings its gateway through the veth: ${ping.stdout}${ping.stderr}`);
  });
});

test('CNI with real links, fake agent: every bad input has its code and leaves nothing behind', async (t) => {
  const { prefix, node } = namespaces(t);
  const agent = await fakeAgent(t, { links: new IpLinks({ nodeNetns: `/run/netns/${node}` }) });
  const h = harness({
    nodeNetns: node,
    agentSocket: agent.socket,
    podNetnsPrefix: `${prefix}-p`,
    allocated: async () => agent.pool.used,
    endpoints: async () => [...agent.endpoints.values()],
  });
  await badInputCases(h, h.pod('bad'));
});

test('CNI with real links, fake agent: a failure after the veth exists rolls everything back', async (t) => {
  const { prefix, node } = namespaces(t);
  const agent = await fakeAgent(t, { links: new IpLinks({ nodeNetns: `/run/netns/${node}` }) });
  const h = harness({
    nodeNetns: node,
    agentSocket: agent.socket,
    podNetnsPrefix: `${prefix}-p`,
    allocated: async () => agent.pool.used,
    endpoints: async () => [...agent.endpoints.values()],
  });
  const pod = h.pod('rb');
  const id = newContainerID();
  agent.failNext.set('PUT /v1/endpoints', { status: 500, code: 'BL_ERR_DATAPATH', message: 'program endpoint: injected' });
  const r = await h.cni('ADD', id, pod, h.conf({ mtu: 1400 }));
  assert.equal(r.json?.code, 103, r.stdout);
  assert.equal(linkIn(node, hostIfname(id, 'eth0')), undefined, 'host veth deleted');
  assert.deepEqual(linkNames(`${prefix}-p-rb`), ['lo'], 'pod interface deleted');
  await h.assertNothingLeft('after a rolled-back ADD');
  // Then it works, with the MTU on both ends.
  const ok = await h.cni('ADD', id, pod, h.conf({ mtu: 1400 }));
  assert.equal(ok.code, 0, ok.stdout);
  assert.equal(linkIn(node, hostIfname(id, 'eth0'))!.mtu, 1400);
  assert.equal(linkIn(`${prefix}-p-rb`, 'eth0')!.mtu, 1400);
  assert.equal((await h.cni('DEL', id, pod)).code, 0);
  await h.assertNothingLeft('after DEL');
});

test("CNI: run in the machine's root network namespace, the plugin refuses to change anything (code 105)", async (t) => {
  const { prefix } = namespaces(t);
  const agent = await fakeAgent(t);
  const pod = addNetns(`${prefix}-p-root`);
  const before = run('ip', ['-o', 'link', 'show']).stdout;
  const r = await runCni(
    undefined,
    { CNI_COMMAND: 'ADD', CNI_CONTAINERID: newContainerID(), CNI_NETNS: pod, CNI_IFNAME: 'eth0' },
    { cniVersion: '1.0.0', name: 'beeline', type: 'beeline-cni', agentSocket: agent.socket },
  );
  assert.equal(r.json?.code, 105, r.stdout);
  assert.equal(agent.pool.used, 0);
  // The shim's one request; the agent's own namespace is the root one here, so the plugin's logic stops
  // once the agent says (its second status) that it does not run in host-netns mode.
  assert.deepEqual(agent.calls, ['POST /v1/cni', 'GET /v1/status', 'GET /v1/status']);
  assert.match(r.json!.msg, /beeline-cni: refusing to change the machine's root network namespace/);
  assert.equal(run('ip', ['-o', 'link', 'show']).stdout, before, 'root namespace links unchanged');
  assert.deepEqual(linkNames(`${prefix}-p-root`), ['lo']);
});
