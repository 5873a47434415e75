/**
 * CNI 1.1 against a real lab agent, through bin/beeline-cni as a runtime runs
 * it: STATUS (0, and 50 with the agent gone), a requested address (IP=),
 * a container without a Kubernetes namespace getting an identity, and GC
 * releasing what is not in cni.dev/valid-attachments while the lab's own pods stay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { agentApi } from '../../src/cni/agentapi.js';
import { CniError } from '../../src/common/errors.js';
import { hostIfname } from '../../src/cni/config.js';
import { listNetns } from '../../src/lab/netns.js';
import { beeline } from '../lib/cli.js';
import { delNetnsIfPresent, harness, linkNames, newContainerID, runCni, upOneNodeLab } from '../lib/cni.js';

const LAB = 'cni11';

test('CNI 1.1 STATUS and GC, a requested address, a container without a Kubernetes namespace, on a real lab agent', { timeout: 300_000 }, async (t) => {
  t.after(() => {
    beeline(['lab', 'down', '--name', LAB, '-q']);
    for (const ns of listNetns().filter((n) => n.startsWith(`bl-${LAB}-`))) delNetnsIfPresent(ns);
  });
  const { node, socket, endpoints, status } = upOneNodeLab(LAB);
  const labPods = (await endpoints()).map((e) => ({ containerID: e.containerID, ifname: e.ifname }));
  const h = harness({ nodeNetns: node.netns, agentSocket: socket, podNetnsPrefix: `bl-${LAB}-p-cni`, allocated: async () => 0, endpoints: async () => [] });
  const conf11 = (over: Record<string, unknown> = {}) => h.conf({ cniVersion: '1.1.0', ...over });

  // STATUS: the agent answers and has room.
  const st = await runCni(node.netns, { CNI_COMMAND: 'STATUS', CNI_PATH: '/opt/cni/bin' }, conf11());
  assert.deepEqual([st.code, st.stdout], [0, ''], st.stdout + st.stderr);

  // A requested address: the pod CIDR's .200.
  const cidr = (await status()).podCIDR;
  const wanted = cidr.replace(/\.0\/\d+$/, '.200');
  const a = newContainerID();
  const addA = await h.cni('ADD', a, h.pod('a'), conf11(), { CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=a;IP=${wanted}` });
  assert.equal(addA.code, 0, addA.stdout + addA.stderr);
  assert.equal(addA.json!.ips![0]!.address, `${wanted}/32`);
  const taken = await h.cni('ADD', newContainerID(), h.pod('taken'), conf11(), { CNI_ARGS: `IP=${wanted}` });
  assert.equal(taken.code, 1);
  assert.equal(taken.json!.code, 106);
  assert.match(taken.json!.msg, new RegExp(`${wanted.replace(/\./g, '\\.')}.*already held by ${a}/eth0`));
  const outside = await h.cni('ADD', newContainerID(), h.pod('outside'), conf11(), { CNI_ARGS: 'IP=192.0.2.10' });
  assert.equal(outside.json!.code, 106);
  assert.match(outside.json!.msg, /192\.0\.2\.10.*not in pod CIDR/);

  // The same through the agent's HTTP API (POST /v1/ipam/allocate with `ip`, the plugin's agentApi):
  // exactly that address, or code 106 naming it and why. Released again: GC below counts addresses.
  const api = agentApi(socket);
  const viaHttp = cidr.replace(/\.0\/\d+$/, '.201');
  const holder = `${newContainerID()}/eth0`;
  const got = await api.allocateSpecific(holder, viaHttp);
  assert.equal(got.ip, viaHttp);
  assert.equal(got.podCIDR, cidr);
  await assert.rejects(api.allocateSpecific(`${newContainerID()}/eth0`, '192.0.2.11'), (e: unknown) => e instanceof CniError && e.cniCode === 106 && /192\.0\.2\.11 .*not in pod CIDR/.test(e.message));
  await api.release(holder);

  // A lab agent runs in its node's namespace, not in host-netns mode; the plugin there is beside it.
  const agentSt = await status();
  assert.equal(agentSt.hostNetns, false);
  assert.equal(agentSt.netns, `net:[${statSync(`/run/netns/${node.netns}`).ino}]`);

  // No Kubernetes namespace (podman's or a plain runtime's CNI_ARGS): the default namespace, an identity other than init (5).
  const b = newContainerID();
  const addB = await h.cni('ADD', b, h.pod('b'), conf11(), { CNI_ARGS: 'IgnoreUnknown=1' });
  assert.equal(addB.code, 0, addB.stdout + addB.stderr);
  let epB = (await endpoints()).find((e) => e.containerID === b)!;
  assert.deepEqual(epB.pod, { namespace: 'default', name: b.slice(0, 12) });
  for (let i = 0; i < 50 && epB.identity === 5; i++) {
    await new Promise((r) => setTimeout(r, 200));
    epB = (await endpoints()).find((e) => e.containerID === b)!;
  }
  assert.notEqual(epB.identity, 5, 'not reserved:init');

  // GC: b is not valid any more; a and the lab's own pods are.
  const usedBefore = (await status()).ipam.used;
  const gc = await runCni(node.netns, { CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' }, conf11({ 'cni.dev/valid-attachments': [...labPods, { containerID: a, ifname: 'eth0' }] }));
  assert.deepEqual([gc.code, gc.stdout], [0, ''], gc.stdout + gc.stderr);
  const after = await endpoints();
  assert.ok(after.some((e) => e.containerID === a), 'a stays');
  assert.ok(!after.some((e) => e.containerID === b), "b's endpoint is gone");
  for (const p of labPods) assert.ok(after.some((e) => e.containerID === p.containerID), "the lab's pods stay");
  assert.equal((await status()).ipam.used, usedBefore - 1, "b's address is released");
  assert.ok(!linkNames(node.netns).includes(hostIfname(b, 'eth0')), "b's host veth is gone");

  // DEL of a, then STATUS against a socket nobody serves: 50.
  assert.equal((await h.cni('DEL', a, undefined, conf11())).code, 0);
  const down = await runCni(node.netns, { CNI_COMMAND: 'STATUS' }, conf11({ agentSocket: `${socket}.nobody` }));
  assert.equal(down.code, 1);
  assert.equal(down.json!.code, 50);
});
