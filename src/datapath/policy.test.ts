import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyMapFullError, PolicyMapInvalidError } from '../common/errors.js';
import { BL_ENDPOINT_INFO_CODEC, BL_ENDPOINT_KEY_CODEC, BL_POLICY_ENTRY_CODEC, BL_POLICY_KEY_CODEC, BlEndpointFlags, BlPolicyEntryFlags, BlPolicyVerdict } from './generated/abi.js';
import type { Datapath } from './loader.js';
import { TypedMap, type Codec } from './maps.js';
import type { RawMap } from './native/libbpf.js';
import { KernelPolicy, decodeEndpointPolicyFlags, decodePolicyKey, endpointPolicyFlags, policyKey, policyValue, type PolicyMapEntry } from './policy.js';

const allow = (o: Partial<PolicyMapEntry> = {}): PolicyMapEntry => ({ direction: 'ingress', identity: 0, protocol: 6, port: 80, portPrefixLen: 16, verdict: 'allow', cookie: 1, proxyPort: 0, ...o });

test('policy keys: prefixlen 64 for any protocol, 80 + port bits under a protocol; read back the same', () => {
  assert.deepEqual(policyKey(7, { direction: 'egress', identity: 0, protocol: 0, port: 0, portPrefixLen: 0 }), { prefixlen: 64, ep_id: 7, egress: 1, sec_identity: 0, protocol: 0, dport: 0 });
  assert.deepEqual(policyKey(7, allow({ identity: 300 })), { prefixlen: 96, ep_id: 7, egress: 0, sec_identity: 300, protocol: 6, dport: 80 });
  assert.deepEqual(policyKey(7, allow({ port: 0, portPrefixLen: 0, protocol: 17 })).prefixlen, 80);
  // 8000-8191: 13 leading bits.
  const range = allow({ port: 8000 & 0xffe0, portPrefixLen: 11 });
  assert.equal(policyKey(7, range).prefixlen, 91);
  for (const k of [range, allow(), allow({ protocol: 0, port: 0, portPrefixLen: 0, direction: 'egress', identity: 9 })]) {
    const { epId, ...rest } = decodePolicyKey(policyKey(7, k));
    assert.equal(epId, 7);
    assert.deepEqual(rest, { direction: k.direction, identity: k.identity, protocol: k.protocol, port: k.port, portPrefixLen: k.portPrefixLen });
  }
  // The big-endian port makes the prefix the port's high bits.
  const bytes = BL_POLICY_KEY_CODEC.encode(policyKey(1, allow({ port: 0x1f40 })));
  assert.deepEqual([...bytes.subarray(14, 16)], [0x1f, 0x40]);
});

test('policy keys: malformed entries are refused with PolicyMapInvalidError', () => {
  const bad: Array<Partial<PolicyMapEntry>> = [
    { port: 80, protocol: 0, portPrefixLen: 16 },
    { port: 81, portPrefixLen: 15 },
    { portPrefixLen: 17 },
    { port: 70000 },
    { protocol: 256 },
    { identity: -1 },
    { direction: 'sideways' as 'ingress' },
  ];
  for (const b of bad) assert.throws(() => policyKey(1, allow(b)), PolicyMapInvalidError, JSON.stringify(b));
  assert.throws(() => policyKey(70000, allow()), PolicyMapInvalidError);
  assert.throws(() => policyValue(allow({ verdict: 'maybe' as 'allow' })), PolicyMapInvalidError);
});

test('policy values: verdicts and the wildcard flags the datapath reports match types from', () => {
  assert.deepEqual(policyValue(allow({ cookie: 42 })), { verdict: BlPolicyVerdict.BL_POLICY_ALLOW, flags: 0, proxy_port: 0, cookie: 42, packets: 0n, bytes: 0n });
  // An L7 redirect: the proxy's listener port, as is (host byte order); only an allow can redirect.
  assert.equal(policyValue(allow({ proxyPort: 15001 })).proxy_port, 15001);
  assert.throws(() => policyValue(allow({ proxyPort: 70000 })), PolicyMapInvalidError);
  assert.throws(() => policyValue(allow({ verdict: 'deny', proxyPort: 15001 })), PolicyMapInvalidError);
  assert.equal(policyValue(allow({ verdict: 'deny', portPrefixLen: 0, port: 0 })).flags, BlPolicyEntryFlags.BL_POLICY_F_ANY_PORT);
  const dd = policyValue({ direction: 'ingress', identity: 0, protocol: 0, port: 0, portPrefixLen: 0, verdict: 'default-deny', cookie: 3, proxyPort: 0 });
  assert.equal(dd.verdict, BlPolicyVerdict.BL_POLICY_DEFAULT_DENY);
  assert.equal(dd.flags, BlPolicyEntryFlags.BL_POLICY_F_ANY_PROTO | BlPolicyEntryFlags.BL_POLICY_F_ANY_PORT);
});

test('endpoint policy flags', () => {
  assert.equal(endpointPolicyFlags({ ingress: true, egress: false }), BlEndpointFlags.BL_EP_F_POLICY_INGRESS);
  assert.equal(endpointPolicyFlags({ ingress: true, egress: true, audit: true }), 7);
  assert.deepEqual(decodeEndpointPolicyFlags(6), { ingress: false, egress: true, audit: true });
});

/** An in-memory exact-match map: enough for what KernelPolicy writes and reads (no LPM lookups). */
class FakeMap implements RawMap {
  readonly entries = new Map<string, Buffer>();
  readonly perCpu = false;
  readonly valueSlots = 1;
  readonly valueBufferSize: number;
  readonly type = 11;
  readonly typeName = 'BPF_MAP_TYPE_LPM_TRIE';
  readonly keyType = null;
  readonly valueType = null;
  readonly key = null;
  readonly value = null;
  readonly flags = 0;
  readonly pinning = 0;
  readonly valueStride: number;
  writes = 0;
  constructor(
    readonly name: string,
    readonly keySize: number,
    readonly valueSize: number,
    readonly maxEntries = 1024,
  ) {
    this.valueBufferSize = valueSize;
    this.valueStride = valueSize;
  }
  lookup(k: Uint8Array) {
    const v = this.entries.get(Buffer.from(k).toString('hex'));
    return v && Buffer.from(v);
  }
  update(k: Uint8Array, v: Uint8Array) {
    this.writes++;
    this.entries.set(Buffer.from(k).toString('hex'), Buffer.from(v));
  }
  delete(k: Uint8Array) {
    return this.entries.delete(Buffer.from(k).toString('hex'));
  }
  nextKey(k: Uint8Array | null) {
    const keys = [...this.entries.keys()];
    const i = k ? keys.indexOf(Buffer.from(k).toString('hex')) + 1 : 0;
    return keys[i] === undefined ? undefined : Buffer.from(keys[i]!, 'hex');
  }
}

function fakeDatapath() {
  const maps: Record<string, FakeMap> = {
    bl_policy: new FakeMap('bl_policy', BL_POLICY_KEY_CODEC.size, BL_POLICY_ENTRY_CODEC.size),
    bl_lxc: new FakeMap('bl_lxc', BL_ENDPOINT_KEY_CODEC.size, BL_ENDPOINT_INFO_CODEC.size),
  };
  const dp = { map: <K, V>(name: string, k: Codec<K>, v: Codec<V>) => new TypedMap(maps[name]!, k, v) } as unknown as Datapath;
  return { dp, maps };
}

test('KernelPolicy: apply writes upserts, skips unchanged entries (their counters survive), deletes; entries() reads back', () => {
  const { dp, maps } = fakeDatapath();
  const p = new KernelPolicy(dp, { policyMapMax: 3 });
  p.apply(5, { upserts: [allow(), allow({ direction: 'egress', identity: 9, protocol: 0, port: 0, portPrefixLen: 0 })], deletes: [] });
  p.apply(6, { upserts: [allow({ cookie: 8 })], deletes: [] });
  assert.equal(maps.bl_policy!.entries.size, 3);
  assert.deepEqual(
    p.entries(5).map((r) => [r.endpoint, r.direction, r.identity, r.protocol, r.port, r.portPrefixLen, r.verdict, r.cookie, r.packets]),
    [
      [5, 'ingress', 0, 6, 80, 16, 'allow', 1, 0n],
      [5, 'egress', 9, 0, 0, 0, 'allow', 1, 0n],
    ],
  );
  const writes = maps.bl_policy!.writes;
  p.apply(5, { upserts: [allow()], deletes: [] });
  assert.equal(maps.bl_policy!.writes, writes, 'an unchanged entry is not rewritten');
  p.apply(5, { upserts: [allow({ cookie: 2 })], deletes: [{ direction: 'egress', identity: 9, protocol: 0, port: 0, portPrefixLen: 0 }] });
  assert.deepEqual(p.entries(5).map((r) => [r.direction, r.cookie]), [['ingress', 2]]);
  assert.equal(p.entries().length, 2);
  // An entry that gains or loses its L7 redirect is rewritten: verdict and cookie alone do not say it is unchanged.
  p.apply(5, { upserts: [allow({ cookie: 2, proxyPort: 15001 })], deletes: [] });
  assert.deepEqual(p.entries(5).map((r) => [r.cookie, r.proxyPort]), [[2, 15001]]);
  p.apply(5, { upserts: [allow({ cookie: 2, proxyPort: 0 })], deletes: [] });
  assert.deepEqual(p.entries(5).map((r) => [r.cookie, r.proxyPort]), [[2, 0]]);

  // A fresh instance learns what the map holds.
  const again = new KernelPolicy(dp, { policyMapMax: 3 });
  const w2 = maps.bl_policy!.writes;
  again.apply(5, { upserts: [allow({ cookie: 2 })], deletes: [] });
  assert.equal(maps.bl_policy!.writes, w2);

  assert.equal(again.deleteEndpoint(5), 1);
  assert.deepEqual(again.entries().map((r) => r.endpoint), [6]);
});

test('KernelPolicy: the per-endpoint limit and malformed entries are refused before anything is written', () => {
  const { dp, maps } = fakeDatapath();
  const p = new KernelPolicy(dp, { policyMapMax: 2 });
  assert.throws(() => p.apply(1, { upserts: [allow({ port: 1 }), allow({ port: 2 }), allow({ port: 3 })], deletes: [] }), PolicyMapFullError);
  assert.throws(() => p.apply(1, { upserts: [allow(), allow({ port: 81, portPrefixLen: 15 })], deletes: [] }), PolicyMapInvalidError);
  assert.throws(() => p.apply(1, { upserts: [allow(), allow()], deletes: [] }), PolicyMapInvalidError, 'one key twice');
  assert.equal(maps.bl_policy!.entries.size, 0);
  // Replacing within the limit: deletes count before upserts.
  p.apply(1, { upserts: [allow({ port: 1 }), allow({ port: 2 })], deletes: [] });
  p.apply(1, { upserts: [allow({ port: 3 })], deletes: [allow({ port: 1 })] });
  assert.deepEqual(p.entries(1).map((r) => r.port), [2, 3]);
  assert.deepEqual(p.capacity(), { entries: 1024, perEndpoint: 2 });
});

test('KernelPolicy: endpoint flags are written into bl_lxc (policy bits only) and remembered for later writes', () => {
  const { dp } = fakeDatapath();
  const p = new KernelPolicy(dp);
  const m = dp.map('bl_lxc', BL_ENDPOINT_KEY_CODEC, BL_ENDPOINT_INFO_CODEC);
  const info = { ifindex: 3, ep_id: 12, flags: 0x100, mac: new Uint8Array(6), node_mac: new Uint8Array(6), sec_identity: 4000 };
  m.set({ ip4: 0x0a000105 }, info);
  m.set({ ip4: 0x0a000106 }, { ...info, ep_id: 13 });
  assert.equal(p.setEndpointPolicyFlags(12, { ingress: true, egress: false, audit: true }), 1);
  assert.equal(m.get({ ip4: 0x0a000105 })!.flags, 0x100 | BlEndpointFlags.BL_EP_F_POLICY_INGRESS | BlEndpointFlags.BL_EP_F_POLICY_AUDIT);
  assert.equal(m.get({ ip4: 0x0a000106 })!.flags, 0x100, 'other endpoints untouched');
  assert.equal(p.setEndpointPolicyFlags(12, { ingress: true, egress: false, audit: true }), 0, 'unchanged: no write');
  assert.equal(p.setEndpointPolicyFlags(13, { ingress: false, egress: true }, '10.0.1.6'), 1);
  assert.equal(p.endpointFlags(13), BlEndpointFlags.BL_EP_F_POLICY_EGRESS);
  assert.equal(p.setEndpointPolicyFlags(99, { ingress: true, egress: true }), 0, 'not plumbed yet: remembered only');
  assert.equal(p.endpointFlags(99), 3);
  p.deleteEndpoint(99);
  assert.equal(p.endpointFlags(99), undefined);
});
