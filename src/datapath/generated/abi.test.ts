// Tests of the generated codecs (abi.ts is generated; this file is not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as abi from './abi.js';
import {
  BPF_OBJECTS,
  BL_METRICS_KEY_SIZE,
  BlDropReason,
  BlTracePoint,
  blDropReasonName,
  blTracePointName,
  decodeBlDatapathConfig,
  decodeBlMetricsKey,
  decodeBlNotifyHdr,
  decodeBlTraceNotify,
  encodeBlDatapathConfig,
  encodeBlMetricsKey,
  encodeBlMetricsValue,
  encodeBlTraceNotify,
  type BlNotifyHdr,
  type StructCodec,
} from './abi.js';

/** Every struct codec the file exports. */
const STRUCT_CODECS = Object.entries(abi as Record<string, unknown>).filter(
  (e): e is [string, StructCodec<unknown>] => e[0].endsWith('_CODEC') && typeof e[1] === 'object' && e[1] !== null && 'layout' in e[1],
);

/** Bytes a codec preserves: encode(decode(0xff…)) keeps 0xff where a field is and 0 where padding is. */
function fieldMask(c: StructCodec<unknown>): Buffer {
  return c.encode(c.decode(Buffer.alloc(c.size, 0xff)));
}

test('every generated struct has a codec', () => {
  const names = STRUCT_CODECS.map(([n]) => n).sort();
  assert.deepEqual(names, [
    'BL_CT4_KEY_CODEC',
    'BL_CT_ENTRY_CODEC',
    'BL_DATAPATH_CONFIG_CODEC',
    'BL_DROP_NOTIFY_CODEC',
    'BL_ENDPOINT_INFO_CODEC',
    'BL_ENDPOINT_KEY_CODEC',
    'BL_IPCACHE_KEY_CODEC',
    'BL_LB4_AFFINITY_CODEC',
    'BL_LB4_AFFINITY_KEY_CODEC',
    'BL_LB4_BACKEND_CODEC',
    'BL_LB4_KEY_CODEC',
    'BL_LB4_MAGLEV_KEY_CODEC',
    'BL_LB4_NODEPORT_NAT_CODEC',
    'BL_LB4_NODEPORT_NAT_KEY_CODEC',
    'BL_LB4_NODEPORT_SNAT_CODEC',
    'BL_LB4_NODEPORT_SNAT_KEY_CODEC',
    'BL_LB4_REVERSE_NAT_CODEC',
    'BL_LB4_REVERSE_SK_CODEC',
    'BL_LB4_REVERSE_SK_KEY_CODEC',
    'BL_LB4_SERVICE_CODEC',
    'BL_METRICS_KEY_CODEC',
    'BL_METRICS_VALUE_CODEC',
    'BL_NOTIFY_HDR_CODEC',
    'BL_POLICY_ENTRY_CODEC',
    'BL_POLICY_KEY_CODEC',
    'BL_POLICY_VERDICT_NOTIFY_CODEC',
    'BL_REMOTE_ENDPOINT_INFO_CODEC',
    'BL_TRACE_NOTIFY_CODEC',
    'BL_TRACE_SOCK_NOTIFY_CODEC',
  ]);
  for (const [name, c] of STRUCT_CODECS) {
    const last = c.layout[c.layout.length - 1]!;
    assert.equal(last.offset + last.size, c.size, `${name}: layout covers the struct`);
  }
});

test('round trip: decode then encode gives back the same bytes, for every struct', () => {
  for (const [name, c] of STRUCT_CODECS) {
    const mask = fieldMask(c);
    for (let i = 0; i < 50; i++) {
      const bytes = randomBytes(c.size);
      for (let j = 0; j < c.size; j++) bytes[j] &= mask[j]!;
      const value = c.decode(bytes);
      assert.deepEqual(c.encode(value), bytes, `${name}: encode(decode(b)) === b`);
      assert.deepEqual(c.decode(c.encode(value)), value, `${name}: decode(encode(v)) equals v`);
    }
  }
});

test('padding bytes are exactly the pad fields, and encode as zero', () => {
  for (const [name, c] of STRUCT_CODECS) {
    const mask = fieldMask(c);
    for (const f of c.layout) {
      const bytes = [...mask.subarray(f.offset, f.offset + f.size)];
      const nested = STRUCT_CODECS.find(([, n]) => n.ctype === f.type)?.[1];
      if (nested) assert.deepEqual(bytes, [...fieldMask(nested)], `${name}.${f.name}: padding of the nested struct`);
      else if (f.padding) assert.ok(bytes.every((b) => b === 0), `${name}.${f.name} is padding: zero`);
      else assert.ok(bytes.every((b) => b === 0xff), `${name}.${f.name} is a field: kept`);
    }
  }
});

test('a codec writes into a given buffer at an offset and zeroes the padding there', () => {
  const buf = Buffer.alloc(4 + BL_METRICS_KEY_SIZE + 4, 0xee);
  encodeBlMetricsKey({ reason: BlDropReason.BL_DROP_INVALID, dir: 2 }, buf, 4);
  assert.deepEqual([...buf], [0xee, 0xee, 0xee, 0xee, 134, 2, 0, 0, 0, 0, 0, 0, 0xee, 0xee, 0xee, 0xee]);
  assert.deepEqual(decodeBlMetricsKey(buf, 4), { reason: 134, dir: 2 });
});

test('bl_metrics_key and bl_metrics_value bytes are what the kernel uses', () => {
  assert.deepEqual([...encodeBlMetricsKey({ reason: 134, dir: 1 })], [0x86, 0x01, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(
    [...encodeBlMetricsValue({ count: 1n, bytes: 0x0102030405060708n })],
    [1, 0, 0, 0, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1],
    'u64 in host (little-endian) order',
  );
});

test('big-endian fields land in network order, native ones in host order', () => {
  const hdr: BlNotifyHdr = {
    type: 4,
    subtype: BlTracePoint.BL_TRACE_FROM_NETWORK,
    source: 0x0102,
    hash: 0xdeadbeef,
    len_orig: 1500,
    len_cap: 128,
    version: 1,
    ktime_ns: 123456789n,
    ifindex: 7,
    src_identity: 2,
    dst_identity: 1,
    proto: 0x0800,
  };
  const b = encodeBlTraceNotify({ hdr, dst_id: 3, reason: 5, orig_ip4: 0x0a000001, data: Uint8Array.from([1, 2, 3]) });
  assert.equal(b.length, 176);
  assert.deepEqual([...b.subarray(36, 38)], [0x08, 0x00], '__be16 proto: network byte order');
  assert.deepEqual([...b.subarray(44, 48)], [10, 0, 0, 1], '__be32 orig_ip4: 10.0.0.1 as on the wire');
  assert.deepEqual([...b.subarray(2, 4)], [0x02, 0x01], '__u16 source: host order');
  assert.deepEqual([...b.subarray(4, 8)], [0xef, 0xbe, 0xad, 0xde]);
  assert.equal(b[15], 0, 'pad0');
  assert.deepEqual([...b.subarray(38, 40)], [0, 0], 'pad1');
  assert.deepEqual([...b.subarray(48, 52)], [1, 2, 3, 0], 'data is copied, the rest zeroed');
  const back = decodeBlTraceNotify(b);
  assert.deepEqual(back.hdr, hdr);
  assert.equal(back.orig_ip4, 0x0a000001);
  assert.equal(back.data.length, 128);
  assert.deepEqual(decodeBlNotifyHdr(b), hdr, 'the header decodes on its own');
});

test('decoded byte arrays are views of the buffer, not copies (records and map values are fresh buffers)', () => {
  const b = encodeBlTraceNotify({
    hdr: decodeBlNotifyHdr(Buffer.alloc(40)),
    dst_id: 0,
    reason: 0,
    orig_ip4: 0,
    data: Uint8Array.from([9]),
  });
  const ev = decodeBlTraceNotify(b);
  assert.equal(ev.data[0], 9);
  assert.equal(ev.data.buffer, b.buffer, 'no copy');
  b.fill(0);
  assert.equal(ev.data[0], 0, 'the view follows the buffer');
});

test('bl_datapath_config round-trips and matches the .rodata descriptor of every object', () => {
  const cfg = {
    node_id: 3,
    flags: 3,
    host_endpoint_id: 1,
    trace_capture_len: 64,
    trace_aggregation: 1,
    routing_mode: abi.BlRoutingMode.BL_ROUTING_TUNNEL,
    pod_cidr4_prefixlen: 24,
    node_ip4: 0xac12000b, // 172.18.0.11
    router_ip4: 0x0a000101, // 10.0.1.1
    pod_cidr4: 0x0a000100, // 10.0.1.0
    tunnel_ifindex: 9,
    tunnel_vni: 2,
    mtls_out_port: 15004,
  };
  const b = encodeBlDatapathConfig(cfg);
  assert.deepEqual(
    [...b],
    [3, 0, 0, 0, 3, 0, 0, 0, 1, 0, 64, 0, 1, 1, 24, 0, 172, 18, 0, 11, 10, 0, 1, 1, 10, 0, 1, 0, 9, 0, 0, 0, 2, 0, 0, 0, 0x9c, 0x3a, 0, 0],
    'addresses in network order, the rest in host order',
  );
  assert.deepEqual(decodeBlDatapathConfig(b), cfg);
  for (const obj of [BPF_OBJECTS.host, BPF_OBJECTS.lxc, BPF_OBJECTS.overlay]) {
    const g = obj.globals.bl_config;
    assert.equal(g.section, '.rodata', obj.file);
    // After lib/lb.h's bl_lb_maglev_table_size (a __u32 defined before bl_config).
    assert.equal(obj.globals.bl_lb_maglev_table_size.offset, 0, obj.file);
    assert.equal(g.offset, 4, obj.file);
    assert.equal(g.size, 40, obj.file);
    assert.equal(g.codec, abi.BL_DATAPATH_CONFIG_CODEC, obj.file);
  }
});

test('pod datapath keys and values: byte order and layout the kernel uses', () => {
  // bl_ipcache is an LPM trie: prefixlen (host order) then the address bytes.
  assert.deepEqual([...abi.encodeBlIpcacheKey({ prefixlen: 24, ip4: 0x0a000200 })], [24, 0, 0, 0, 10, 0, 2, 0]);
  assert.deepEqual([...abi.encodeBlEndpointKey({ ip4: 0x0a000005 })], [10, 0, 0, 5, 0, 0, 0, 0]);
  const info = abi.encodeBlEndpointInfo({
    ifindex: 7,
    ep_id: 42,
    flags: 0,
    mac: Uint8Array.from([2, 0, 0, 0, 0, 0xaa]),
    node_mac: Uint8Array.from([2, 0, 0, 0, 0, 0xbb]),
    sec_identity: 0,
  });
  assert.equal(info.length, abi.BL_ENDPOINT_INFO_SIZE);
  assert.deepEqual([...info.subarray(8, 20)], [2, 0, 0, 0, 0, 0xaa, 2, 0, 0, 0, 0, 0xbb], 'mac then node_mac: an Ethernet dst/src pair');
  const key = abi.encodeBlCt4Key({ daddr: 0x0a000002, saddr: 0x0a000001, dport: 80, sport: 12345, nexthdr: 6, flags: abi.BlCtTupleFlags.BL_CT_TUPLE_F_IN });
  assert.deepEqual([...key], [10, 0, 0, 2, 10, 0, 0, 1, 0, 80, 0x30, 0x39, 6, 1, 0, 0], 'ports in network order as on the wire');
  assert.equal(abi.BL_CT_ENTRY_SIZE, 56);
  assert.equal(abi.BlCtTimeouts.BL_CT_LIFETIME_TCP, 21600);
  assert.equal(abi.BlCtTimeouts.BL_CT_CLOSE_TIMEOUT, 10);
});

test('encoding rejects values that do not fit, decoding short buffers', () => {
  assert.throws(() => encodeBlMetricsKey({ reason: 256, dir: 0 }), RangeError);
  assert.throws(() => encodeBlMetricsKey({ reason: -1, dir: 0 }), RangeError);
  assert.throws(
    () => encodeBlTraceNotify({ hdr: decodeBlNotifyHdr(Buffer.alloc(40)), dst_id: 0, reason: 0, orig_ip4: 0, data: new Uint8Array(129) }),
    /bl_trace_notify.data: 129 bytes do not fit in 128/,
  );
  assert.throws(() => decodeBlMetricsKey(Buffer.alloc(7)), /struct bl_metrics_key: needs 8 bytes at offset 0, the buffer has 7/);
  assert.throws(() => decodeBlMetricsKey(Buffer.alloc(8), 1), RangeError);
  assert.throws(() => encodeBlMetricsKey({ reason: 0, dir: 0 }, Buffer.alloc(8), 4), RangeError);
  assert.deepEqual(decodeBlMetricsKey(new Uint8Array([1, 2, 0, 0, 0, 0, 0, 0])), { reason: 1, dir: 2 }, 'plain Uint8Array works');
});

test('enums: values and name lookups', () => {
  assert.equal(BlDropReason.BL_DROP_INVALID, 134);
  assert.equal(BlDropReason.BL_DROP_POLICY_DENY, 181);
  assert.equal(blDropReasonName(134), 'BL_DROP_INVALID');
  assert.equal(blDropReasonName(0), 'BL_DROP_SUCCESS');
  assert.equal(blDropReasonName(255), undefined);
  assert.equal(blTracePointName(11), 'BL_TRACE_TO_NETWORK');
  assert.equal(abi.BlLimits.BL_TRACE_CAPTURE_LEN, 128);
  assert.equal(abi.BlEventType.BL_EVENT_DROP, 1);
  assert.equal(abi.BlEventType.BL_EVENT_TRACE, 4);
});

test('map, program and global descriptors of host.bpf.o', () => {
  const h = BPF_OBJECTS.host;
  assert.equal(h.file, 'host.bpf.o');
  assert.equal(h.maps.bl_metrics.typeName, 'BPF_MAP_TYPE_PERCPU_HASH');
  assert.equal(h.maps.bl_metrics.keySize, 8);
  assert.equal(h.maps.bl_metrics.valueSize, 16);
  assert.equal(h.maps.bl_metrics.perCpu, true);
  assert.equal(h.maps.bl_metrics.valueStride, 16);
  assert.equal(h.maps.bl_metrics.key, abi.BL_METRICS_KEY_CODEC);
  assert.equal(h.maps.bl_events.typeName, 'BPF_MAP_TYPE_RINGBUF');
  assert.equal(h.maps.bl_events.maxEntries, abi.BlLimits.BL_EVENTS_RINGBUF_SIZE);
  assert.equal(h.maps.bl_events_lost.value, abi.U64_CODEC);
  assert.deepEqual(Object.keys(h.programs).sort(), ['bl_from_netdev', 'bl_to_netdev']);
  assert.equal(h.programs.bl_from_netdev.section, 'tc');
  assert.equal(abi.U32_CODEC.decode(abi.U32_CODEC.encode(0xfffffffe)), 0xfffffffe);
  assert.deepEqual([...abi.U32_CODEC.encode(1)], [1, 0, 0, 0]);
  assert.equal(abi.U64_CODEC.decode(abi.U64_CODEC.encode(2n ** 64n - 1n)), 2n ** 64n - 1n);
  assert.match(abi.ABI_HASH, /^[0-9a-f]{64}$/);
});

test('the pod datapath objects share their maps by name with the host object', () => {
  const { host, lxc, overlay, sock } = BPF_OBJECTS;
  assert.deepEqual(Object.keys(lxc.programs).sort(), ['bl_from_container', 'bl_to_container']);
  assert.deepEqual(Object.keys(overlay.programs).sort(), ['bl_from_overlay', 'bl_to_overlay']);
  assert.deepEqual(Object.keys(sock.programs).sort(), ['bl_sock4_connect', 'bl_sock4_getpeername', 'bl_sock4_recvmsg', 'bl_sock4_sendmsg']);
  for (const obj of [host, lxc, overlay, sock]) {
    assert.deepEqual(
      Object.keys(obj.maps).sort(),
      ['bl_ct4', 'bl_events', 'bl_events_lost', 'bl_ipcache', 'bl_lb4_affinity', 'bl_lb4_backends', 'bl_lb4_maglev', 'bl_lb4_nodeport_nat', 'bl_lb4_nodeport_snat', 'bl_lb4_reverse_nat', 'bl_lb4_reverse_sk', 'bl_lb4_services', 'bl_lxc', 'bl_metrics', 'bl_policy'],
      obj.file,
    );
  }
  assert.equal(lxc.maps.bl_policy.typeName, 'BPF_MAP_TYPE_LPM_TRIE');
  assert.equal(lxc.maps.bl_policy.flags, 1, 'BPF_F_NO_PREALLOC');
  assert.equal(lxc.maps.bl_policy.maxEntries, abi.BlPolicyLimits.BL_POLICY_MAX_ENTRIES_DEFAULT);
  assert.equal(lxc.maps.bl_policy.key, abi.BL_POLICY_KEY_CODEC);
  assert.equal(lxc.maps.bl_policy.value, abi.BL_POLICY_ENTRY_CODEC);
  assert.equal(abi.BL_POLICY_KEY_SIZE, 20, 'prefixlen + 96 matched bits + 32 bits of padding');
  // The trie node stores the key data (key size - prefixlen) right after its 24-byte header, then the
  // value: data of a multiple of 8 bytes keeps the entry's 64-bit counters aligned (no split locks).
  assert.equal((abi.BL_POLICY_KEY_SIZE - 4) % 8, 0, 'policy key data keeps the value 8-byte aligned');
  assert.equal(abi.BL_POLICY_ENTRY_SIZE, 24);
  assert.equal(lxc.maps.bl_ipcache.typeName, 'BPF_MAP_TYPE_LPM_TRIE');
  assert.equal(lxc.maps.bl_ipcache.flags, 1, 'BPF_F_NO_PREALLOC');
  assert.equal(lxc.maps.bl_ct4.typeName, 'BPF_MAP_TYPE_LRU_HASH');
  assert.equal(lxc.maps.bl_lb4_maglev.typeName, 'BPF_MAP_TYPE_HASH');
  assert.equal(lxc.maps.bl_lb4_maglev.flags, 1, 'BPF_F_NO_PREALLOC');
  assert.equal(lxc.maps.bl_lb4_maglev.key, abi.BL_LB4_MAGLEV_KEY_CODEC);
  for (const obj of [host, lxc, overlay, sock]) assert.ok('bl_lb_maglev_table_size' in obj.globals, `${obj.file}: M is set at load`);
  assert.equal(lxc.maps.bl_ct4.maxEntries, abi.BlLimits.BL_CT_MAX_ENTRIES_DEFAULT);
  assert.equal(lxc.maps.bl_ct4.key, abi.BL_CT4_KEY_CODEC);
  assert.equal(lxc.maps.bl_lxc.value, abi.BL_ENDPOINT_INFO_CODEC);
});
