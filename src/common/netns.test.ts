import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HostSafetyError } from './errors.js';
import { INIT_NETNS, assertMayChangeNetns, hostNetnsEnabled, rootNetnsRefusal } from './netns.js';

const kthreadd = (() => {
  try {
    return readFileSync('/proc/2/comm', 'utf8').trim() === 'kthreadd' ? readlinkSync('/proc/2/ns/net') : undefined;
  } catch {
    return undefined;
  }
})();

test("init_net's fixed inode is kthreadd's network namespace", { skip: kthreadd === undefined && 'pid 2 is not visible' }, () => {
  assert.equal(kthreadd, INIT_NETNS);
});

// inRootNetns from a child process made by unshare(1): a PID namespace of its own (as in a
// container, where pid 1 and 2 are its own processes), with or without a network namespace.
const asRoot = process.getuid?.() === 0 && spawnSync('unshare', ['--version']).status === 0;
const mod = fileURLToPath(new URL('./netns.js', import.meta.url));
const inRoot = (netns: boolean) => {
  const script = `import(${JSON.stringify(mod)}).then((m) => { setTimeout(() => {}, 50); console.log(m.inRootNetns()); })`;
  const r = spawnSync('unshare', [...(netns ? ['--net'] : []), '--pid', '--fork', '--mount-proc', 'sh', '-c', `sleep 5 & exec "$0" -e "$1"`, process.execPath, script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
};

test('in a PID namespace of its own: the machine netns is still the root one; a netns of its own is not', { skip: !asRoot && 'needs root and unshare' }, () => {
  assert.equal(inRoot(false), 'true');
  assert.equal(inRoot(true), 'false');
});

test('the root-namespace decision: all four (inRootNetns, hostNetns) combinations, no namespace touched', () => {
  const combos: [inRootNetns: boolean, hostNetns: boolean, allowed: boolean][] = [
    [false, false, true],
    [false, true, true],
    [true, false, false],
    [true, true, true],
  ];
  for (const [inRootNetns, hostNetns, allowed] of combos) {
    const what = `inRootNetns=${inRootNetns} hostNetns=${hostNetns}`;
    assert.equal(rootNetnsRefusal('route 10.0.1.5', { inRootNetns, hostNetns }) === undefined, allowed, what);
    if (allowed) assert.doesNotThrow(() => assertMayChangeNetns('route 10.0.1.5', { inRootNetns, hostNetns }), what);
    else {
      assert.throws(
        () => assertMayChangeNetns('route 10.0.1.5', { inRootNetns, hostNetns }),
        (e: unknown) => e instanceof HostSafetyError && e.code === 'BL_ERR_HOST_SAFETY' && /^route 10\.0\.1\.5: refusing to change the machine's root network namespace$/.test(e.message) && /--host-netns/.test(e.hint ?? ''),
        what,
      );
    }
  }
});

test('host-netns mode is off unless the agent turns it on', () => {
  assert.equal(hostNetnsEnabled(), false);
});
