/**
 * kube-proxy's rule layouts (src/service/kubeproxy.ts) load as generated:
 * 1000 Services × 4 backends through iptables-restore (every backend this
 * machine has) and nft -f, each into a throwaway namespace of its own that the
 * test deletes. Nothing is loaded into the root namespace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../src/common/exec.js';
import { iptablesOneChange, iptablesRestore, nftOneChange, nftRuleset, syntheticServices, type KpService } from '../../src/service/kubeproxy.js';

const N = 1000;
const B = 4;
const svcs = syntheticServices(N, B);
const before = svcs[N / 2]!;
const after: KpService = { ...before, backends: [...before.backends.slice(1), { ip: '10.244.200.1', port: 8080 }] };
const changed = svcs.map((s) => (s === before ? after : s));

function has(cmd: string): boolean {
  return run('sh', ['-c', `command -v ${cmd}`], { allowFailure: true }).code === 0;
}

function withNetns(t: { after: (fn: () => void) => void }): (cmd: string, args: string[], input?: string) => string {
  const ns = `blbench-kp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  run('ip', ['netns', 'add', ns]);
  t.after(() => void run('ip', ['netns', 'del', ns], { allowFailure: true }));
  return (cmd, args, input) => run('ip', ['netns', 'exec', ns, cmd, ...args], input === undefined ? {} : { input }).stdout;
}

for (const flavour of ['nft', 'legacy']) {
  test(`iptables-${flavour}-restore loads ${N} services × ${B} backends in kube-proxy's layout`, { skip: !has(`iptables-${flavour}-restore`) && `no iptables-${flavour}-restore` }, (t) => {
    const inNs = withNetns(t);
    inNs(`iptables-${flavour}-restore`, [], iptablesRestore(svcs, { clusterCIDR: '10.244.0.0/16' }));
    const saved = inNs(`iptables-${flavour}-save`, ['-t', 'nat']).split('\n');
    const count = (re: RegExp) => saved.filter((l) => re.test(l)).length;
    assert.equal(count(/^-A KUBE-SERVICES .* -j KUBE-SVC-/), N);
    assert.equal(count(/^:KUBE-SVC-/), N);
    assert.equal(count(/^:KUBE-SEP-/), N * B);
    assert.equal(count(/-j DNAT --to-destination /), N * B);
    assert.equal(count(/statistic --mode random/), N * (B - 1));
    inNs(`iptables-${flavour}-restore`, ['--noflush'], iptablesOneChange(changed, { before, after }, { clusterCIDR: '10.244.0.0/16' }));
    const again = inNs(`iptables-${flavour}-save`, ['-t', 'nat']);
    assert.match(again, /--to-destination 10\.244\.200\.1:8080/);
    assert.equal(again.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES ')).length, N + 1);
  });
}

test(`nft -f loads ${N} services × ${B} backends in kube-proxy's nftables layout`, { skip: !has('nft') && 'no nft' }, (t) => {
  const inNs = withNetns(t);
  inNs('nft', ['-f', '-'], nftRuleset(svcs, { clusterCIDR: '10.244.0.0/16' }));
  const map = JSON.parse(inNs('nft', ['-j', 'list', 'map', 'ip', 'kube-proxy', 'service-ips'])) as { nftables: { map?: { elem?: unknown[] } }[] };
  assert.equal(map.nftables.reduce((n, x) => n + (x.map?.elem?.length ?? 0), 0), N);
  const table = inNs('nft', ['list', 'table', 'ip', 'kube-proxy']);
  assert.equal(table.match(/^\s*chain endpoint-/gm)?.length, N * B);
  assert.equal(table.match(/numgen random mod 4 vmap/g)?.length, N);
  assert.equal(table.match(/dnat to /g)?.length, N * B);
  inNs('nft', ['-f', '-'], nftOneChange({ before, after }, { clusterCIDR: '10.244.0.0/16' }));
  assert.match(inNs('nft', ['list', 'table', 'ip', 'kube-proxy']), /dnat to 10\.244\.200\.1:8080/);
});
