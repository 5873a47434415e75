/**
 * An exec probe that times out ends what it ran in the container, not just
 * `runc exec`: the kubelet's probe path (runProbe → execInContainer) against
 * a real runc container (no lab: its own network namespace, runc root and
 * cgroup, all removed after).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/common/exec.js';
import { repoRoot } from '../../src/common/version.js';
import { cgroupPath, removeCgroup, removeCgroupBaseIfEmpty, removeCgroupV1, runcCgroupsPath } from '../../src/lab/cgroup.js';
import { execInContainer, runProbe } from '../../src/lab/kubelet.js';
import { CONTAINER_INIT, DEFAULT_CAPS } from '../../src/lab/oci.js';
import { deleteContainer, runContainer, writeBundle, writePodEtc, type RuncContainer } from '../../src/lab/runc.js';
import { until } from '../lib/wait.js';

const LAB = `probe-t${process.pid}`;

/** The container's processes (its own PID namespace), as `ps` in it lists them: `pid args` lines. */
function psIn(c: RuncContainer): string[] {
  const r = spawnSync('runc', ['--root', c.root, 'exec', c.id, 'ps', '-eo', 'pid=,args='], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !l.includes('ps -eo'));
}

test('an exec probe that times out leaves nothing it started running in the container', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-probe-'));
  const ns = `bl-probe-t${process.pid}`;
  run('ip', ['netns', 'add', ns]);
  const c: RuncContainer = { root: join(dir, 'runc'), id: 'probe-timeout' };
  t.after(async () => {
    deleteContainer(c);
    await removeCgroup(cgroupPath(LAB)).catch(() => undefined);
    removeCgroupV1(LAB);
    removeCgroupBaseIfEmpty();
    run('ip', ['netns', 'del', ns], { allowFailure: true });
    rmSync(dir, { recursive: true, force: true });
  });
  const bundle = join(dir, 'bundle');
  writeBundle(bundle, {
    argv: [CONTAINER_INIT, '--', 'sleep', 'infinity'],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    cwd: '/',
    hostname: 'probe',
    netnsPath: `/run/netns/${ns}`,
    repoRoot,
    etcFiles: writePodEtc(join(dir, 'etc'), { hostname: 'probe' }),
    security: { uid: 0, gid: 0, additionalGids: [], capabilities: [...DEFAULT_CAPS], readOnlyRootfs: false, noNewPrivileges: false },
    cgroupsPath: runcCgroupsPath(LAB, c.id),
  });
  const { child } = await runContainer(c, bundle, 'ignore');
  child.unref();
  const before = psIn(c);
  assert.ok(before.some((l) => /\ssleep infinity$/.test(l)), before.join('\n'));

  const spec = { name: 'main', image: 'x' } as never;
  // The command itself, and a shell with a child (what the shell started must go too).
  for (const command of [['sleep', '30'], ['sh', '-c', 'sleep 31; true']]) {
    const started = Date.now();
    const ok = await runProbe({ exec: { command }, timeoutSeconds: 1 }, spec, '10.0.0.1', (cmd, timeoutMs) => execInContainer(c, cmd, { timeoutMs }));
    const took = Date.now() - started;
    assert.equal(ok, false, `${command.join(' ')}: a probe that times out fails`);
    assert.ok(took >= 1000 && took < 5000, `${command.join(' ')}: failed on its timeout (${took} ms)`);
    const after = psIn(c);
    assert.deepEqual(after.filter((l) => /sleep 3[01]/.test(l)), [], `${command.join(' ')}: still running after the timeout:\n${after.join('\n')}`);
    // What was killed may stay a zombie for a moment, until the container's init (tini) reaps it.
    const settled = await until('the killed command reaped by the container init', () => {
      const now = psIn(c);
      return now.some((l) => /<defunct>/.test(l)) ? undefined : now;
    }, 5000, 100);
    assert.deepEqual(settled, before, 'the container\'s own processes are untouched');
  }
});
