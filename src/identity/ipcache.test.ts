import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpcacheInvalidError } from '../common/errors.js';
import { BL_IPCACHE_KEY_CODEC, BL_REMOTE_ENDPOINT_INFO_CODEC, BlIpcacheFlags } from '../datapath/generated/abi.js';
import { formatIPv4, parseIPv4 } from '../ipam/cidr.js';
import { canonicalPrefix, diffMapEntries, formatMapEntry, ipcacheKey, lpmLookup, toMapEntries, validateEntry, type IpcacheEntry, type IpcacheMapEntry } from './ipcache.js';

const nodes = [
  { name: 'node1', nodeIP: '172.18.0.11', podCIDR: '10.0.0.0/24', nodeId: 1 },
  { name: 'node2', nodeIP: '172.18.0.12', podCIDR: '10.0.1.0/24', nodeId: 2 },
];
const entry = (prefix: string, identity: number, hostIP: string): IpcacheEntry => ({ prefix, identity, hostIP, encryptKey: 0 });
const entries = [
  entry('10.0.0.5', 256, '172.18.0.11'), // local pod
  entry('10.0.1.7', 257, '172.18.0.12'), // pod on node2
  entry('203.0.113.0/24', (1 << 24) | 1, ''), // an outside CIDR
];

const rows = (m: IpcacheMapEntry[]) =>
  m.map((e) => `${formatIPv4(e.key.ip4)}/${e.key.prefixlen} ${e.value.sec_identity} ${formatIPv4(e.value.tunnel_endpoint)} ${e.value.node_id}`);

test('ipcache: prefixes are canonical; a /32 is the bare address', () => {
  assert.equal(canonicalPrefix('10.0.0.5/32'), '10.0.0.5');
  assert.equal(canonicalPrefix('10.0.0.0/8'), '10.0.0.0/8');
  assert.equal(ipcacheKey('10.0.0.5'), '/beeline/v1/ipcache/10.0.0.5');
  assert.equal(ipcacheKey('0.0.0.0/0'), '/beeline/v1/ipcache/0.0.0.0/0');
  assert.throws(() => canonicalPrefix('10.0.0.1/8'), IpcacheInvalidError);
  assert.throws(() => validateEntry(entry('10.0.0.5', 0, '')), IpcacheInvalidError);
  assert.throws(() => validateEntry(entry('10.0.0.5', 70000, '')), IpcacheInvalidError);
  assert.throws(() => validateEntry(entry('10.0.0.5', 256, 'node1')), IpcacheInvalidError);
});

test('ipcache: store entries and nodes become bl_ipcache entries of node1', () => {
  const m = toMapEntries({ entries, nodes, localNode: 'node1' });
  assert.deepEqual(rows(m), [
    '10.0.0.1/32 1 0.0.0.0 0', // own router: host
    '10.0.0.5/32 256 0.0.0.0 0', // local pod: no tunnel
    '10.0.1.1/32 6 172.18.0.12 2', // node2's router: remote-node, behind node2
    '10.0.1.7/32 257 172.18.0.12 2', // remote pod: behind node2
    '172.18.0.11/32 1 0.0.0.0 0', // this node
    '172.18.0.12/32 6 0.0.0.0 2', // the other node: remote-node, reached directly
    '10.0.1.0/24 2 172.18.0.12 2', // node2's pod CIDR: world, behind node2
    '203.0.113.0/24 16777217 0.0.0.0 0',
    '0.0.0.0/0 2 0.0.0.0 0', // world
  ]);
  // The entries encode with the generated codecs.
  for (const e of m) {
    assert.equal(BL_IPCACHE_KEY_CODEC.encode(e.key).length, 8);
    assert.deepEqual(BL_IPCACHE_KEY_CODEC.decode(BL_IPCACHE_KEY_CODEC.encode(e.key)), e.key);
    assert.equal(BL_REMOTE_ENDPOINT_INFO_CODEC.decode(BL_REMOTE_ENDPOINT_INFO_CODEC.encode(e.value)).sec_identity, e.value.sec_identity);
  }
  assert.match(formatMapEntry(m.at(-1)!), /^0\.0\.0\.0\/0 +identity=2 encryptkey=0 tunnelendpoint=0\.0\.0\.0 nodeid=0$/);
  // node2's view: node1's things are remote.
  const m2 = rows(toMapEntries({ entries, nodes, localNode: 'node2' }));
  assert.ok(m2.includes('10.0.0.5/32 256 172.18.0.11 1'));
  assert.ok(m2.includes('10.0.1.7/32 257 0.0.0.0 0'));
  assert.ok(m2.includes('10.0.0.0/24 2 172.18.0.11 1'));
  assert.ok(!m2.some((r) => r.startsWith('10.0.1.0/24')));
});

test('ipcache: longest prefix match, as the kernel trie answers { 32, addr }', () => {
  const m = toMapEntries({ entries, nodes, localNode: 'node1' });
  const id = (a: string) => lpmLookup(m, a)?.value.sec_identity;
  assert.equal(id('10.0.1.7'), 257); // /32 beats the /24
  assert.equal(id('10.0.1.99'), 2); // unknown address of node2's CIDR: the /24
  assert.equal(lpmLookup(m, '10.0.1.99')?.value.tunnel_endpoint, parseIPv4('172.18.0.12'));
  assert.equal(id('203.0.113.200'), (1 << 24) | 1);
  assert.equal(id('8.8.8.8'), 2); // world
  assert.equal(id('172.18.0.12'), 6);
  assert.equal(lpmLookup(m, parseIPv4('10.0.0.5'))?.value.sec_identity, 256);
  // Bits past prefixlen in a stored key are ignored, as in the kernel; without /0 nothing matches.
  const odd: IpcacheMapEntry[] = [{ key: { prefixlen: 8, ip4: parseIPv4('10.1.2.3') }, value: { sec_identity: 99, tunnel_endpoint: 0, node_id: 0, flags: 0 } }];
  assert.equal(lpmLookup(odd, '10.200.0.1')?.value.sec_identity, 99);
  assert.equal(lpmLookup(odd, '11.0.0.1'), undefined);
  // Ties on length cannot happen (one element per key); the first longest wins regardless of order.
  assert.equal(lpmLookup([...m].reverse(), '10.0.1.7')?.value.sec_identity, 257);
  // A store entry for a node's address overrides the node's default.
  const o = toMapEntries({ entries: [entry('172.18.0.12', 7, '')], nodes, localNode: 'node1' });
  assert.equal(lpmLookup(o, '172.18.0.12')?.value.sec_identity, 7);
});

test('ipcache: diff of map contents', () => {
  const before = toMapEntries({ entries, nodes, localNode: 'node1' });
  const after = toMapEntries({ entries: [entries[0]!, entry('10.0.1.7', 300, '172.18.0.12')], nodes, localNode: 'node1' });
  const d = diffMapEntries(before, after);
  assert.deepEqual(rows(d.upserts), ['10.0.1.7/32 300 172.18.0.12 2']);
  assert.deepEqual(d.deletes.map((k) => `${formatIPv4(k.ip4)}/${k.prefixlen}`), ['203.0.113.0/24']);
  assert.deepEqual(diffMapEntries(after, after), { upserts: [], deletes: [] });
});

test('ipcache: authRequired becomes BL_IPCACHE_F_AUTH_REQUIRED on the entry, local or remote; absent is no flag', () => {
  const withAuth = [{ ...entry('10.0.0.5', 256, '172.18.0.11'), authRequired: true }, { ...entry('10.0.1.7', 257, '172.18.0.12'), authRequired: true }, entry('10.0.1.8', 258, '172.18.0.12')];
  const m = toMapEntries({ entries: withAuth, nodes, localNode: 'node1' });
  const flags = (ip: string) => lpmLookup(m, ip)!.value.flags;
  assert.equal(flags('10.0.0.5'), BlIpcacheFlags.BL_IPCACHE_F_AUTH_REQUIRED, 'a local pod: its local clients need it too');
  assert.equal(flags('10.0.1.7'), BlIpcacheFlags.BL_IPCACHE_F_AUTH_REQUIRED);
  assert.equal(flags('10.0.1.8'), 0);
  assert.equal(flags('10.0.1.99'), 0, 'the pod CIDR entry');
  assert.match(formatMapEntry(lpmLookup(m, '10.0.1.7')!), / flags=auth-required$/);
  // Stored entries keep it; an entry written by an older agent (no field) has none; false is not written.
  assert.deepEqual(validateEntry({ ...entry('10.0.0.5', 256, ''), authRequired: true }).authRequired, true);
  assert.equal('authRequired' in validateEntry({ ...entry('10.0.0.5', 256, ''), authRequired: false }), false);
  // A flag change alone is a map write.
  const plain = toMapEntries({ entries: withAuth.map(({ authRequired: _a, ...e }) => e), nodes, localNode: 'node1' });
  assert.deepEqual(diffMapEntries(plain, m).upserts.map((e) => formatIPv4(e.key.ip4)), ['10.0.0.5', '10.0.1.7']);
});
