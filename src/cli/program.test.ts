import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beeline } from '../../test/lib/cli.js';
import { version } from '../common/version.js';

// An empty run directory: no lab is up, whatever the machine has.
const runDir = mkdtempSync(join(tmpdir(), 'bl-cli-'));
process.on('exit', () => rmSync(runDir, { recursive: true, force: true }));
const env = { BEELINE_RUN_DIR: runDir };

const errLine = /^Error \[BL_ERR_[A-Z_]+\]: .+$/;

test('--version and version print the package version', () => {
  assert.equal(beeline(['--version'], env).stdout.trim(), version);
  assert.equal(beeline(['version'], env).stdout.trim(), `beeline ${version}`);
});

test('--help works on every command', () => {
  const paths = [[], ['lab'], ['lab', 'up'], ['lab', 'down'], ['lab', 'status'], ['lab', 'list'], ['lab', 'exec'], ['lab', 'etcd', 'stop'], ['lab', 'etcd', 'start'], ['status'], ['bpf'], ['bpf', 'metrics', 'list'], ['bpf', 'features'], ['bpf', 'endpoint', 'list'], ['bpf', 'ipcache', 'list'], ['bpf', 'ct', 'list'], ['bpf', 'ct', 'gc'], ['endpoint', 'list'], ['endpoint', 'get'], ['agent'], ['operator'], ['relay'], ['probe'], ['monitor'], ['apply'], ['delete'], ['get'], ['describe']];
  for (const p of paths) {
    const r = beeline([...p, '--help'], env);
    assert.equal(r.code, 0, `beeline ${p.join(' ')} --help: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: beeline/, `beeline ${p.join(' ')} --help`);
  }
});

test('a wrong flag is one usage line with a code and exit 2', () => {
  const r = beeline(['lab', 'up', '--nodez', '3'], env);
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^Error \[BL_ERR_USAGE\]: beeline lab up: unknown option '--nodez'/);
  assert.match(lines[0]!, /see 'beeline lab up --help'/);
});

test('an unknown command suggests the right one', () => {
  const r = beeline(['staus'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'staus'/);
  assert.match(r.stderr, /status/);
});

test('bad values are usage errors naming the flag', () => {
  const r = beeline(['lab', 'up', '--routing', 'bgp'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), errLine);
  assert.match(r.stderr, /--routing/);
  const o = beeline(['lab', 'status', '-o', 'xml'], env);
  assert.equal(o.code, 2);
  assert.match(o.stderr, /-o xml: unknown output format/);
});

test('lab status with no lab up is one line naming the lab, non-zero', () => {
  const r = beeline(['lab', 'status'], env);
  assert.notEqual(r.code, 0);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^Error \[BL_ERR_LAB_NOT_FOUND\]: lab beeline: not found, no lab is up \(start one with 'beeline lab up'\)$/);
  const named = beeline(['lab', 'status', '--name', 'prod'], env);
  assert.match(named.stderr, /^Error \[BL_ERR_LAB_NOT_FOUND\]: lab prod: not found/);
  const viaEnv = beeline(['status'], { ...env, BEELINE_LAB: 'staging' });
  assert.match(viaEnv.stderr, /lab staging: not found/);
});
