import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpamStoreError } from '../common/errors.js';
import type { NodeIpam } from '../agent/ipam.js';
import { FilePoolStore, PersistentPool } from './store.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'bl-ipam-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('persistent pool: allocations survive a restart (a new PersistentPool on the same file)', (t) => {
  const dir = tempDir(t);
  const store = new FilePoolStore(join(dir, 'state', 'ipam.json'));
  const a = PersistentPool.open(store, '10.0.1.0/24');
  assert.ok(existsSync(store.path), 'an empty pool is saved at once');
  assert.deepEqual(a.allocate('c1/eth0'), { ip: '10.0.1.2', podCIDR: '10.0.1.0/24', gateway: '10.0.1.1' });
  a.allocate('c2/eth0');
  a.allocate('c3/eth0');
  assert.equal(a.release('c2/eth0'), '10.0.1.3');
  assert.equal(a.release('c2/eth0'), undefined);

  const b = PersistentPool.open(store, '10.0.1.0/24');
  assert.deepEqual(b.entries(), [
    { ip: '10.0.1.2', owner: 'c1/eth0' },
    { ip: '10.0.1.4', owner: 'c3/eth0' },
  ]);
  assert.equal(b.allocate('c1/eth0').ip, '10.0.1.2', 'same owner, same address after the restart');
  assert.equal(b.allocate('c4/eth0').ip, '10.0.1.5', 'the cursor survived too');
  assert.deepEqual(b.stats(), { used: 3, capacity: 253 });
  assert.equal(b.gateway, '10.0.1.1');
  assert.deepEqual(readdirSync(join(dir, 'state')), ['ipam.json'], 'no temporary file left behind');
});

test('persistent pool: satisfies the agent NodeIpam interface', (t) => {
  const ipam: NodeIpam = PersistentPool.open(new FilePoolStore(join(tempDir(t), 'ipam.json')), '10.0.3.0/24');
  assert.equal(ipam.podCIDR, '10.0.3.0/24');
});

test('persistent pool: a node whose pod CIDR changed does not silently keep old addresses', (t) => {
  const store = new FilePoolStore(join(tempDir(t), 'ipam.json'));
  PersistentPool.open(store, '10.0.1.0/24').allocate('c1/eth0');
  assert.throws(
    () => PersistentPool.open(store, '10.0.2.0/24'),
    (e: IpamStoreError) => e instanceof IpamStoreError && /restore IPAM state .*saved state is for 10\.0\.1\.0\/24/.test(e.message) && !!e.hint,
  );
});

test('file store: a damaged file is reported with its path', (t) => {
  const p = join(tempDir(t), 'ipam.json');
  writeFileSync(p, '{"version":1,');
  assert.throws(() => new FilePoolStore(p).load(), (e: IpamStoreError) => e.code === 'BL_ERR_IPAM_STORE' && e.message.includes(p));
});

test('persistent pool: a failing store leaves memory as on disk (injected failure)', (t) => {
  const dir = tempDir(t);
  const store = new FilePoolStore(join(dir, 'ipam.json'));
  const pool = PersistentPool.open(store, '10.0.1.0/24');
  pool.allocate('a');
  const save = store.save.bind(store);
  store.save = () => {
    throw new IpamStoreError('save IPAM state: injected');
  };
  assert.throws(() => pool.allocate('b'), /injected/);
  assert.throws(() => pool.release('a'), /injected/);
  assert.equal(pool.allocate('a').ip, '10.0.1.2', 'idempotent allocate needs no save');
  store.save = save;
  assert.equal(pool.allocate('b').ip, '10.0.1.3', 'the failed allocation did not move the cursor');
  assert.deepEqual(JSON.parse(readFileSync(store.path, 'utf8')).allocations, { '10.0.1.2': 'a', '10.0.1.3': 'b' });
});
