#!/usr/bin/env node
// Runs one test suite with Node's own test runner over the compiled tests.
//   unit:       dist/src/**/*.test.js, dist/test/lib/**/*.test.js (test doubles' own tests; no root, no kernel)
//   privileged: dist/test/privileged/**/*.test.js (root: namespaces, BPF, labs)
import { readdirSync, statSync, existsSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const suite = process.argv[2];
const roots = { unit: ['dist/src', 'dist/test/lib'], privileged: ['dist/test/privileged'] }[suite];
if (!roots) {
  console.error(`run-tests: unknown suite '${suite}' (unit|privileged)`);
  process.exit(2);
}
const files = [];
const walk = (d) => {
  if (!existsSync(d)) return;
  for (const n of readdirSync(d).sort()) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.test.js')) files.push(p);
  }
};
roots.forEach(walk);
if (files.length === 0) {
  console.error(`run-tests: no ${suite} tests found under ${roots.join(', ')} (did the build run?)`);
  process.exit(1);
}
if (suite === 'privileged' && process.getuid && process.getuid() !== 0) {
  console.error('run-tests: the privileged suite needs root');
  process.exit(1);
}
// Privileged tests share the kernel and labs: run files one at a time.
const args = ['--enable-source-maps', '--test', '--test-reporter=spec'];
if (suite === 'privileged') args.push('--test-concurrency=1');
// `ip netns add` (tests, labs) makes /run/netns a mount point the first time;
// leave the machine as the suite found it.
const runNetnsBefore = existsSync('/run/netns');
const r = spawnSync(process.execPath, [...args, ...files], { stdio: 'inherit' });
if (suite === 'privileged' && !runNetnsBefore && existsSync('/run/netns') && readdirSync('/run/netns').length === 0) {
  spawnSync('umount', ['/run/netns']);
  try {
    rmdirSync('/run/netns');
  } catch {
    /* still mounted: leave it */
  }
}
process.exit(r.status ?? 1);
