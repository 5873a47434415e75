/**
 * The agent's failure path: a datapath that cannot load is said plainly (what
 * failed, why, a hint) and the agent exits non-zero, leaving nothing attached.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/common/exec.js';
import type { AgentConfig } from '../../src/agent/types.js';
import { beelineBin } from '../lib/cli.js';
import { repoRoot } from '../../src/common/version.js';

function setup(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'bl-agent-fail-'));
  const ns = `bl-test-agent-${process.pid}`;
  const bpffs = join(dir, 'bpf');
  mkdirSync(bpffs);
  run('mount', ['-t', 'bpf', 'bpffs', bpffs]);
  run('ip', ['netns', 'add', ns]);
  run('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
  run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  t.after(() => {
    run('ip', ['netns', 'del', ns], { allowFailure: true });
    run('umount', [bpffs], { allowFailure: true });
    rmSync(dir, { recursive: true, force: true });
  });
  const config: AgentConfig = {
    lab: 'x',
    node: 'node1',
    netns: ns,
    stateDir: dir,
    nodeIP: '172.18.0.11',
    uplink: 'eth0',
    podCIDR: '10.0.1.0/24',
    clusterPoolCIDR: '10.0.0.0/16',
    clusterPoolMaskSize: 24,
    cniNetwork: 'beeline',
    routing: 'native',
    socket: join(dir, 'agent.sock'),
    pinDir: join(bpffs, 'node1'),
    bpfObjectDir: join(repoRoot, 'build', 'bpf'),
    kvstore: '',
    monitorAggregation: 'medium',
    ctMapSize: 65536,
  };
  const start = (c: AgentConfig) => {
    writeFileSync(join(dir, 'agent.json'), JSON.stringify(c));
    return run('ip', ['netns', 'exec', ns, beelineBin, 'agent', '--config', join(dir, 'agent.json')], { allowFailure: true, timeoutMs: 30_000 });
  };
  return { dir, ns, config, start };
}

test('an agent whose BPF object fails verification says why and exits non-zero', (t) => {
  const { dir, ns, config, start } = setup(t);
  // A "datapath" whose host object is the deliberately rejected test program.
  const objDir = join(dir, 'objects');
  mkdirSync(objDir);
  run('clang', ['-target', 'bpf', '-O2', '-g', '-I', join(repoRoot, 'bpf/include'), '-I', '/usr/include/x86_64-linux-gnu', '-c', join(repoRoot, 'bpf/test/bad.bpf.c'), '-o', join(objDir, 'host.bpf.o')]);
  for (const o of ['lxc.bpf.o', 'overlay.bpf.o']) copyFileSync(join(repoRoot, 'build/bpf', o), join(objDir, o));
  const r = start({ ...config, bpfObjectDir: objDir });
  assert.notEqual(r.code, 0);
  const err = r.stderr.trim().split('\n').at(-1)!;
  assert.match(err, /^Error \[BL_ERR_(BPF|ABI_MISMATCH)\]: /, r.stderr);
  assert.match(r.stderr, /start failed/);
  // Nothing was left attached to the uplink.
  assert.equal(run('ip', ['netns', 'exec', ns, 'tc', 'filter', 'show', 'dev', 'eth0', 'ingress']).stdout.trim(), '');
});

test('an agent pointed at missing objects names the file and exits non-zero', (t) => {
  const { config, start } = setup(t);
  const r = start({ ...config, bpfObjectDir: '/nonexistent/objects' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr.trim().split('\n').at(-1)!, /^Error \[BL_ERR_BPF\]: .*\/nonexistent\/objects\/host\.bpf\.o/);
});

test('an agent started in a namespace without its uplink says which device is missing', (t) => {
  const { config, start } = setup(t);
  const r = start({ ...config, uplink: 'eth9' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /eth9/);
});
