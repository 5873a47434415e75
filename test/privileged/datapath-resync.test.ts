/**
 * The agent's periodic datapath resync on a real 1-node lab (resync every
 * second): bl_ipcache, the service maps and the policy map are changed from
 * outside, through the same typed map module the agent writes them with (an
 * entry altered, a stray one added, a backend slot deleted, a policy entry
 * deleted, an endpoint's identity changed); the agent puts them back as the
 * model has them and counts what it repaired, in `status` and in the
 * beeline_datapath_drift_repaired_total counter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { agentCall } from '../../src/agent/routes.js';
import { openPinnedMap } from '../../src/datapath/loader.js';
import type { TypedMap } from '../../src/datapath/maps.js';
import {
  BL_IPCACHE_KEY_CODEC,
  BL_ENDPOINT_INFO_CODEC,
  BL_ENDPOINT_KEY_CODEC,
  BL_LB4_KEY_CODEC,
  BL_LB4_SERVICE_CODEC,
  BL_POLICY_ENTRY_CODEC,
  BL_POLICY_KEY_CODEC,
  BL_REMOTE_ENDPOINT_INFO_CODEC,
  type BlPolicyEntry,
  type BlPolicyKey,
  type BlEndpointInfo,
  type BlEndpointKey,
  type BlIpcacheKey,
  type BlLb4Key,
  type BlLb4Service,
  type BlRemoteEndpointInfo,
} from '../../src/datapath/generated/abi.js';
import { labDir, readState } from '../../src/lab/state.js';
import { parseIPv4 } from '../../src/ipam/cidr.js';
import { spawnSync } from 'node:child_process';
import { beeline, beelineBin } from '../lib/cli.js';
import { until } from '../lib/wait.js';

function scrape(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/metrics' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

const drift = (metrics: string, map: string) => Number(new RegExp(`^beeline_datapath_drift_repaired_total\\{map="${map}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? NaN);

const DNS_POLICY = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: dns-in, namespace: kube-system}
spec:
  endpointSelector: {matchLabels: {k8s-app: kube-dns}}
  ingress:
  - fromEntities: [world, cluster]
    toPorts: [{ports: [{port: "53", protocol: UDP}, {port: "53", protocol: TCP}]}]
`;

test('the agent repairs datapath drift in the ipcache, the service maps, the policy map and the endpoint map, and counts it', { timeout: 240_000 }, async (t) => {
  const lab = 'rsync';
  t.after(() => beeline(['lab', 'down', '--name', lab, '-q']));
  const up = beeline(['lab', 'up', '--nodes', '1', '--name', lab, '--datapath-resync-interval', '1s', '-q']);
  assert.equal(up.code, 0, up.stderr);
  const state = readState(lab)!;
  const pin = join(state.bpffs!, 'node1');
  const ndir = join(labDir(lab), 'nodes', 'node1');
  const sock = join(ndir, 'agent.sock');
  const status = () => agentCall(sock, 'GetStatus');

  const ipcache = openPinnedMap(join(pin, 'bl_ipcache'), BL_IPCACHE_KEY_CODEC, BL_REMOTE_ENDPOINT_INFO_CODEC) as TypedMap<BlIpcacheKey, BlRemoteEndpointInfo>;
  const services = openPinnedMap(join(pin, 'bl_lb4_services'), BL_LB4_KEY_CODEC, BL_LB4_SERVICE_CODEC) as TypedMap<BlLb4Key, BlLb4Service>;
  const policy = openPinnedMap(join(pin, 'bl_policy'), BL_POLICY_KEY_CODEC, BL_POLICY_ENTRY_CODEC) as TypedMap<BlPolicyKey, BlPolicyEntry>;
  const lxc = openPinnedMap(join(pin, 'bl_lxc'), BL_ENDPOINT_KEY_CODEC, BL_ENDPOINT_INFO_CODEC) as TypedMap<BlEndpointKey, BlEndpointInfo>;
  t.after(() => {
    ipcache.raw.close?.();
    services.raw.close?.();
    policy.raw.close?.();
    lxc.raw.close?.();
  });
  const applied = spawnSync(beelineBin, ['apply', '-f', '-'], { input: DNS_POLICY, encoding: 'utf8', env: { ...process.env, BEELINE_LAB: lab } });
  assert.equal(applied.status, 0, applied.stderr);

  // The lab's cluster DNS pods and Service: ipcache /32s and a frontend with backend slots.
  const host = await until('an ipcache /32 with a cluster identity', () => ipcache.snapshot().find(([k, v]) => k.prefixlen === 32 && v.sec_identity >= 256), 90_000, 500);
  const slot = await until('a service backend slot', () => services.snapshot().find(([k]) => k.backend_slot === 1), 90_000, 500);
  const rule = await until('a policy entry of the DNS pod', () => policy.snapshot().find(([k]) => k.egress === 0 && k.sec_identity !== 0), 90_000, 500);
  await until('the resync has run', async () => (await status()).resync!.runs > 0, 20_000, 200);
  const before = (await status()).resync!.repaired;
  assert.deepEqual(before, { ipcache: 0, lb: 0, policy: 0, endpoints: 0 }, 'no drift before anything was changed');
  const ep = lxc.snapshot().find(([, v]) => v.sec_identity >= 256);
  assert.ok(ep, 'the DNS pod\'s endpoint entry');

  // From outside: an entry's identity changed, a stray entry added, a backend slot deleted.
  const [hostKey, hostValue] = host;
  const stray: BlIpcacheKey = { prefixlen: 32, ip4: parseIPv4('203.0.113.77') };
  ipcache.set(hostKey, { ...hostValue, sec_identity: 2 });
  ipcache.set(stray, { ...hostValue, sec_identity: 2 });
  const [slotKey, slotValue] = slot;
  assert.ok(services.delete(slotKey));
  const [ruleKey, ruleValue] = rule;
  assert.ok(policy.delete(ruleKey));
  const [epKey, epValue] = ep;
  lxc.set(epKey, { ...epValue, sec_identity: 2 });
  const policyHolds = (k: BlPolicyKey) => policy.snapshot().find(([x]) => JSON.stringify(x) === JSON.stringify(k))?.[1];

  // bl_ipcache is an LPM trie: a lookup answers the longest prefix (0.0.0.0/0 for the stray address once it is gone), so look for the key itself.
  const holds = (k: BlIpcacheKey) => ipcache.snapshot().find(([x]) => x.prefixlen === k.prefixlen && x.ip4 === k.ip4)?.[1];
  await until('the ipcache entry repaired and the stray one removed', () => holds(hostKey)?.sec_identity === hostValue.sec_identity && holds(stray) === undefined, 20_000, 200);
  await until('the backend slot written back', () => services.get(slotKey)?.backend_id === slotValue.backend_id, 20_000, 200);
  await until('the policy entry written back', () => policyHolds(ruleKey)?.verdict === ruleValue.verdict, 20_000, 200);
  await until('the endpoint entry repaired', () => lxc.get(epKey)?.sec_identity === epValue.sec_identity, 20_000, 200);
  const after = (await status()).resync!;
  assert.equal(after.repaired.endpoints, 1, JSON.stringify(after));
  assert.equal(after.repaired.policy, 1, JSON.stringify(after));
  assert.equal(after.repaired.ipcache, 2, JSON.stringify(after));
  assert.ok(after.repaired.lb! >= 1, JSON.stringify(after));
  assert.ok(after.lastRepair, 'the last repair is shown');
  assert.equal(after.intervalMs, 1000);

  const metrics = await scrape(join(ndir, 'metrics.sock'));
  assert.equal(drift(metrics, 'ipcache'), 2, metrics.split('\n').filter((l) => l.includes('drift')).join('\n'));
  assert.equal(drift(metrics, 'lb'), after.repaired.lb);

  // Nothing more to repair: the counters stay.
  await new Promise((r) => setTimeout(r, 2500));
  assert.deepEqual((await status()).resync!.repaired, after.repaired);
});
