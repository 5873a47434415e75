/**
 * CNI conformance against a real node agent in a real lab: bin/beeline-cni
 * is driven only through the CNI protocol (environment, stdin, stdout) as a
 * runtime does, then `lab pod` runs it the kubelet's way. The same cases run
 * against a fake agent in cni-links.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentGet } from '../../src/agent/client.js';
import type { AgentStatus } from '../../src/agent/types.js';
import type { AgentReply } from '../../src/agent/replies.js';
import { PodExistsError, PodNotFoundError } from '../../src/common/errors.js';
import { run } from '../../src/common/exec.js';
import { listNetns } from '../../src/lab/netns.js';
import { addPod, deletePod, listPods } from '../../src/lab/pods.js';
import { readState } from '../../src/lab/state.js';
import { beeline } from '../lib/cli.js';
import { badInputCases, delNetnsIfPresent, harness, lifecycleCases, type CniTarget } from '../lib/cni.js';

const LAB = 'cnitest';

const ping = (netns: string, ip: string) => run('ip', ['netns', 'exec', netns, 'ping', '-c', '1', '-W', '2', ip], { allowFailure: true });

test('CNI conformance against a real lab agent', { timeout: 300_000 }, async (t) => {
  t.after(() => {
    beeline(['lab', 'down', '--name', LAB, '-q']);
    for (const ns of listNetns().filter((n) => n.startsWith(`bl-${LAB}-`))) delNetnsIfPresent(ns);
  });
  const up = beeline(['lab', 'up', '--nodes', '1', '--name', LAB, '-q']);
  assert.equal(up.code, 0, `lab up: ${up.stderr}`);
  const state = readState(LAB)!;
  const node = state.plan.nodes[0]!;
  const socket = state.agents[node.name]!.socket;

  // The lab's own pods (its cluster DNS pod in kube-system) hold addresses and namespaces before the test's.
  const labPodNetns = listNetns().filter((n) => n.startsWith(`bl-${LAB}-p-`));
  const labPodAddresses = (await agentGet<AgentStatus>(socket, '/v1/status')).ipam.used;
  const target: CniTarget = {
    nodeNetns: node.netns,
    agentSocket: socket,
    podNetnsPrefix: `bl-${LAB}-p-cni`,
    allocated: async () => {
      const st = await agentGet<AgentStatus>(socket, '/v1/status');
      assert.ok(st.ipam, 'agent status reports ipam');
      return st.ipam.used - labPodAddresses;
    },
    // The test's endpoints: not the lab's cluster DNS pod's.
    endpoints: async () => (await agentGet<AgentReply<'ListEndpoints'>>(socket, '/v1/endpoints')).filter((e) => e.pod?.namespace !== 'kube-system'),
  };
  const h = harness(target);
  const status = await agentGet<AgentStatus>(socket, '/v1/status');
  t.diagnostic(`agent serves network ${status.cniNetwork ?? '(unset: beeline)'}, pod CIDR ${status.podCIDR ?? '?'}`);

  await t.test('VERSION, ADD (result and pod configuration), CHECK, CHECK after the host veth is deleted, DEL twice, DEL of the unknown, 5 cycles', () =>
    lifecycleCases(h, (res) => {
      const ip = res.ips![0]!;
      if (status.podCIDR) {
        const [net] = status.podCIDR.split('/');
        assert.equal(ip.gateway, net!.replace(/\.0$/, '.1'), "the gateway is the router address of the node's pod CIDR");
      }
    }),
  );

  await t.test('bad input: each case has its code and leaves nothing behind', async () => {
    await badInputCases(h, h.pod('bad'));
    await h.assertNothingLeft('after the bad-input cases');
    delNetnsIfPresent(`${target.podNetnsPrefix}-bad`);
  });

  await t.test('lab pod add/list/del: pods made through the plugin as a kubelet would reach each other', async () => {
    const web = await addPod(LAB, { node: node.name, name: 'web', labels: { app: 'web' } });
    const db = await addPod(LAB, { node: node.name, name: 'db', namespace: 'data' });
    assert.equal(web.netns, `bl-${LAB}-p-default-web`);
    assert.equal(db.netns, `bl-${LAB}-p-data-db`);
    assert.notEqual(web.ip, db.ip);
    assert.deepEqual(listPods(LAB).map((p) => [p.name, p.phase, p.ip]), [
      ['db', 'running', db.ip],
      ['web', 'running', web.ip],
    ]);
    const eps = await target.endpoints();
    const ep = eps.find((e) => e.containerID === web.containerID)!;
    assert.ok(ep, 'the agent has the pod as an endpoint');
    assert.deepEqual(ep.pod, { namespace: 'default', name: 'web' });
    assert.equal(ep.labels.app, 'web');
    await assert.rejects(addPod(LAB, { node: node.name, name: 'web' }), PodExistsError);
    await assert.rejects(addPod(LAB, { node: 'node9', name: 'x' }), /has no node 'node9'/);

    const gw = web.result!.ips![0]!.gateway!;
    const toGw = ping(web.netns, gw);
    const toPod = ping(web.netns, db.ip!);
    t.diagnostic(`web → gateway ${gw}: ${toGw.code === 0 ? 'ok' : 'no answer'}; web → db ${db.ip}: ${toPod.code === 0 ? 'ok' : 'no answer'}`);
    // The router address answering ICMP is the agent's choice (Cilium's cilium_host does); a pod reaching
    // another pod through it is the contract.
    assert.equal(toPod.code, 0, `pod pings a pod on the same node through its gateway: ${toPod.stdout}${toPod.stderr}`);

    await deletePod(LAB, 'web');
    await deletePod(LAB, 'db');
    await assert.rejects(deletePod(LAB, 'web'), PodNotFoundError);
    assert.deepEqual(listPods(LAB), []);
    assert.deepEqual(listNetns().filter((n) => n.startsWith(`bl-${LAB}-p-`) && !labPodNetns.includes(n)), []);
    // No veth, address or endpoint of the test's pods is left (the lab's own DNS pod keeps its).
    await h.assertNothingLeft('after lab pod del');
  });
});
