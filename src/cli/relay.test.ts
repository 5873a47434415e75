import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { observerClient } from '../api/grpc.js';
import type { GetFlowsResponse__Output } from '../api/generated/observer/GetFlowsResponse.js';
import { UsageError } from '../common/errors.js';
import { beeline, beelineBin } from '../../test/lib/cli.js';
import { FakeNode } from '../../test/lib/fake-observer.js';
import { parseListen, parsePeer } from './relay.js';

test('--peer and --listen parsing', () => {
  assert.deepEqual(parsePeer('node1=unix:///run/x/observer.sock'), { name: 'node1', address: 'unix:///run/x/observer.sock' });
  assert.deepEqual(parsePeer('n2=127.0.0.1:4244'), { name: 'n2', address: '127.0.0.1:4244' });
  for (const bad of ['node1', '=unix:///x', 'node1=', 'node1=/path/no/scheme']) assert.throws(() => parsePeer(bad), (e) => e instanceof UsageError && /--peer/.test(e.message), bad);
  assert.equal(parseListen('unix:///tmp/r.sock'), 'unix:///tmp/r.sock');
  assert.equal(parseListen('/tmp/r.sock'), 'unix:///tmp/r.sock');
  assert.equal(parseListen('127.0.0.1:4245'), '127.0.0.1:4245');
  assert.throws(() => parseListen('nowhere'), (e) => e instanceof UsageError && /--listen/.test(e.message));
});

test('beeline relay without nodes or with a bad peer is a usage error', () => {
  const env = { BEELINE_RUN_DIR: mkdtempSync(join(tmpdir(), 'bl-relay-')) };
  try {
    let r = beeline(['relay', '--listen', '127.0.0.1:0'], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /BL_ERR_USAGE.*no nodes/);
    r = beeline(['relay', '--listen', '127.0.0.1:0', '--peer', 'broken'], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /BL_ERR_USAGE.*--peer broken/);
    r = beeline(['relay', '--lab', 'nosuch'], env);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /BL_ERR_LAB_NOT_FOUND/);
  } finally {
    rmSync(env.BEELINE_RUN_DIR, { recursive: true, force: true });
  }
});

test('beeline relay serves the merged flows of its --peer nodes and ends on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-relay-'));
  const a = await new FakeNode('a', `unix://${join(dir, 'a.sock')}`, [10, 30]).start();
  const b = await new FakeNode('b', `unix://${join(dir, 'b.sock')}`, [20]).start();
  const listen = `unix://${join(dir, 'relay.sock')}`;
  const child = spawn(beelineBin, ['relay', '--listen', listen, '--peer', `a=${a.address}`, '--peer', `b=${b.address}`, '--sort-buffer', '100ms'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const client = observerClient(listen);
  try {
    const end = Date.now() + 20_000;
    while (!/serving/.test(stderr)) {
      if (Date.now() > end) throw new Error(`relay did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const rs = await new Promise<GetFlowsResponse__Output[]>((resolve, reject) => {
      const out: GetFlowsResponse__Output[] = [];
      const call = client.GetFlows({});
      call.on('data', (r: GetFlowsResponse__Output) => out.push(r));
      call.on('end', () => resolve(out));
      call.on('error', reject);
    });
    assert.deepEqual(rs.filter((r) => r.flow).map((r) => r.flow!.Summary), ['a@10', 'b@20', 'a@30']);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /info relay: stopping/);
  } finally {
    client.close();
    if (child.exitCode === null) child.kill('SIGKILL');
    await a.server.close();
    await b.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
