/**
 * Packet fixtures for the host datapath, katran style: a described input
 * packet and configuration go through BPF_PROG_TEST_RUN; the test checks the
 * verdict, the output bytes, the metrics map and the events in the ring
 * buffer. Nothing is transmitted; each fixture gets a freshly loaded object so
 * counters start at zero.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfError } from '../../src/common/errors.js';
import {
  BL_DATAPATH_CONFIG_SIZE,
  BL_METRICS_KEY_CODEC,
  BL_METRICS_VALUE_CODEC,
  BPF_OBJECTS,
  BlConfigFlags,
  BlDirection,
  BlDropReason,
  BlEventType,
  BlForwardReason,
  BlNotifyVersion,
  BlSourceFile,
  BlTraceAggregation,
  BlTracePoint,
  BlTraceReason,
  decodeBlDropNotify,
  decodeBlNotifyHdr,
  decodeBlTraceNotify,
  encodeBlDatapathConfig,
  type BlDatapathConfig,
  type BlMetricsValue,
} from '../../src/datapath/generated/abi.js';
import { Datapath } from '../../src/datapath/loader.js';
import { arpRequest, ipv4Frame, requireHostObject, tcp, tcpSynPacket } from './datapath-support.js';

const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const HOST = BPF_OBJECTS.host;

const DEFAULT_CONFIG: BlDatapathConfig = {
  node_id: 1,
  flags: BlConfigFlags.BL_CFG_TRACE_NOTIFY | BlConfigFlags.BL_CFG_DROP_NOTIFY,
  host_endpoint_id: 7,
  trace_capture_len: 128,
  trace_aggregation: BlTraceAggregation.BL_TRACE_AGG_NONE,
  routing_mode: 0,
  pod_cidr4_prefixlen: 0,
  node_ip4: 0,
  router_ip4: 0,
  pod_cidr4: 0,
  tunnel_ifindex: 0,
  tunnel_vni: 0,
  mtls_out_port: 0,
};

interface Outcome {
  retval: number;
  dataOut: Buffer;
  /** Summed over CPUs, keyed `reason/dir`. */
  metrics: Map<string, BlMetricsValue>;
  events: Buffer[];
}

/** Loads the host object with `config`, runs `packet` through `program`, and collects everything it changed. */
function runFixture(
  packet: Buffer,
  opts: { program?: string; config?: Partial<BlDatapathConfig>; setup?: (dp: Datapath) => void } = {},
): Outcome {
  const dp = Datapath.open(requireHostObject());
  try {
    const config = encodeBlDatapathConfig({ ...DEFAULT_CONFIG, ...opts.config });
    assert.equal(config.length, BL_DATAPATH_CONFIG_SIZE);
    dp.configure('bl_config', config, { offset: HOST.globals.bl_config.offset }).load();
    opts.setup?.(dp);
    const events: Buffer[] = [];
    // Background reading is exercised below; here drain() reads synchronously after the run.
    const reader = dp.ringBuffer('bl_events', (rec) => events.push(rec), { keepAlive: false });
    const { retval, dataOut } = dp.testRun(opts.program ?? 'bl_from_netdev', packet);
    reader.drain();
    assert.equal(reader.samples, events.length);
    const metrics = new Map(
      dp.perCpuMap('bl_metrics', BL_METRICS_KEY_CODEC, BL_METRICS_VALUE_CODEC).snapshot().map(([k, v]) => [`${k.reason}/${k.dir}`, v] as const),
    );
    return { retval, dataOut, metrics, events };
  } finally {
    dp.close();
  }
}

const key = (reason: number, dir: number) => `${reason}/${dir}`;
const INGRESS = BlDirection.BL_DIR_INGRESS;
const EGRESS = BlDirection.BL_DIR_EGRESS;
const FORWARDED = BlForwardReason.BL_REASON_FORWARDED;
const INVALID = BlDropReason.BL_DROP_INVALID;

test('TCP SYN from the network: TC_ACT_OK, counted, traced with the packet', () => {
  const pkt = tcpSynPacket();
  const out = runFixture(pkt);

  assert.equal(out.retval, TC_ACT_OK);
  assert.deepEqual(out.dataOut, pkt, 'the packet leaves unchanged');
  assert.deepEqual([...out.metrics], [[key(FORWARDED, INGRESS), { count: 1n, bytes: BigInt(pkt.length) }]]);

  assert.equal(out.events.length, 1, 'one trace event');
  const ev = decodeBlTraceNotify(out.events[0]!);
  assert.deepEqual(decodeBlNotifyHdr(out.events[0]!), ev.hdr, 'every event starts with the common header');
  assert.equal(ev.hdr.type, BlEventType.BL_EVENT_TRACE);
  assert.equal(ev.hdr.subtype, BlTracePoint.BL_TRACE_FROM_NETWORK);
  assert.equal(ev.hdr.version, BlNotifyVersion.BL_NOTIFY_VERSION);
  assert.equal(ev.hdr.source, DEFAULT_CONFIG.host_endpoint_id, 'configured host endpoint id');
  assert.equal(ev.hdr.len_orig, pkt.length);
  assert.equal(ev.hdr.len_cap, pkt.length);
  assert.equal(ev.hdr.proto, 0x0800);
  assert.ok(ev.hdr.ktime_ns > 0n);
  assert.equal(ev.reason, BlTraceReason.BL_TRACE_REASON_UNKNOWN);
  assert.deepEqual(Buffer.from(ev.data.subarray(0, ev.hdr.len_cap)), pkt, 'captured bytes are the packet');
});

test('map state before the packet: counters add to what is there', () => {
  const pkt = tcpSynPacket();
  const out = runFixture(pkt, {
    setup(dp) {
      const m = dp.perCpuMap('bl_metrics', BL_METRICS_KEY_CODEC, BL_METRICS_VALUE_CODEC);
      // 10 packets / 1000 bytes already counted, spread over the CPUs.
      const per = Array.from({ length: m.cpus }, (_, cpu) => (cpu === 0 ? { count: 10n, bytes: 1000n } : { count: 0n, bytes: 0n }));
      m.setPerCpu({ reason: FORWARDED, dir: INGRESS }, per);
    },
  });
  assert.equal(out.retval, TC_ACT_OK);
  assert.deepEqual(out.metrics.get(key(FORWARDED, INGRESS)), { count: 11n, bytes: 1000n + BigInt(pkt.length) });
});

test('the same packet leaving through bl_to_netdev is counted as egress', () => {
  const pkt = tcpSynPacket();
  const out = runFixture(pkt, { program: 'bl_to_netdev' });
  assert.equal(out.retval, TC_ACT_OK);
  assert.deepEqual([...out.metrics.keys()], [key(FORWARDED, EGRESS)]);
  assert.equal(decodeBlTraceNotify(out.events[0]!).hdr.subtype, BlTracePoint.BL_TRACE_TO_NETWORK);
});

const MALFORMED: Array<[string, Buffer]> = [
  // IHL says 60 bytes of header (options); only the 20 fixed bytes arrived.
  ['a truncated IPv4 header (options cut off)', ipv4Frame({ ihl: 15, headerBytes: 20 })],
  ['IHL below 5', ipv4Frame({ ihl: 4, payload: Buffer.alloc(20) })],
  ['IP version 6 in an IPv4 ethertype', (() => {
    const p = tcpSynPacket();
    p[14] = 0x65;
    return p;
  })()],
  ['total length shorter than the header', ipv4Frame({ totLen: 19, payload: tcp(0x02) })],
];

for (const [name, pkt] of MALFORMED) {
  test(`${name}: TC_ACT_SHOT, drop reason 134 counted and reported`, () => {
    const out = runFixture(pkt);
    assert.equal(out.retval, TC_ACT_SHOT);
    assert.deepEqual([...out.metrics], [[key(INVALID, INGRESS), { count: 1n, bytes: BigInt(pkt.length) }]]);
    assert.equal(out.events.length, 1, 'one drop event, no trace');
    const ev = decodeBlDropNotify(out.events[0]!);
    assert.equal(ev.hdr.type, BlEventType.BL_EVENT_DROP);
    assert.equal(ev.hdr.subtype, INVALID);
    assert.equal(INVALID, 134, "Cilium's number for an invalid packet");
    assert.equal(ev.file, BlSourceFile.BL_FILE_HOST);
    assert.ok(ev.line > 0, 'the dropping source line');
    assert.equal(ev.hdr.len_orig, pkt.length);
    assert.deepEqual(Buffer.from(ev.data.subarray(0, ev.hdr.len_cap)), pkt.subarray(0, ev.hdr.len_cap));
  });
}

test('an ARP frame passes untouched and is counted as forwarded', () => {
  const pkt = arpRequest();
  const out = runFixture(pkt);
  assert.equal(out.retval, TC_ACT_OK);
  assert.deepEqual(out.dataOut, pkt);
  assert.deepEqual([...out.metrics], [[key(FORWARDED, INGRESS), { count: 1n, bytes: BigInt(pkt.length) }]]);
  for (const e of out.events) assert.notEqual(decodeBlNotifyHdr(e).type, BlEventType.BL_EVENT_DROP);
});

test('configuration before load: notifications off means counters only', () => {
  const out = runFixture(ipv4Frame({ ihl: 15, headerBytes: 20 }), { config: { flags: 0 } });
  assert.equal(out.retval, TC_ACT_SHOT);
  assert.equal(out.metrics.get(key(INVALID, INGRESS))?.count, 1n);
  assert.equal(out.events.length, 0);
  const ok = runFixture(tcpSynPacket(), { config: { flags: 0 } });
  assert.equal(ok.retval, TC_ACT_OK);
  assert.equal(ok.events.length, 0);
});

test('configuration before load: capture length and trace aggregation', () => {
  const syn = runFixture(tcpSynPacket(), { config: { trace_capture_len: 32, trace_aggregation: BlTraceAggregation.BL_TRACE_AGG_LOWEST } });
  assert.equal(syn.events.length, 1, 'SYN opens a connection: traced');
  assert.equal(decodeBlTraceNotify(syn.events[0]!).hdr.len_cap, 32);
  const ack = runFixture(ipv4Frame({ payload: tcp(0x10) }), { config: { trace_aggregation: BlTraceAggregation.BL_TRACE_AGG_LOWEST } });
  assert.equal(ack.retval, TC_ACT_OK);
  assert.equal(ack.events.length, 0, 'a plain ACK is aggregated away');
  assert.equal(ack.metrics.get(key(FORWARDED, INGRESS))?.count, 1n, 'but still counted');
});

test('configure() checks the variable against the object', () => {
  const dp = Datapath.open(requireHostObject());
  try {
    assert.deepEqual(dp.variables().find((v) => v.name === 'bl_config'), { name: 'bl_config', offset: HOST.globals.bl_config.offset, size: BL_DATAPATH_CONFIG_SIZE });
    assert.throws(() => dp.configure('bl_config', Buffer.alloc(BL_DATAPATH_CONFIG_SIZE + 4)), { code: 'BL_ERR_ABI_MISMATCH' });
    assert.throws(() => dp.configure('bl_config', Buffer.alloc(BL_DATAPATH_CONFIG_SIZE), { offset: 8 }), { code: 'BL_ERR_ABI_MISMATCH' });
    assert.throws(() => dp.configure('bl_nope', Buffer.alloc(4)), { code: 'BL_ERR_ABI_MISMATCH' });
    dp.load();
    assert.throws(
      () => dp.configure('bl_config', Buffer.alloc(BL_DATAPATH_CONFIG_SIZE)),
      (e: unknown) => e instanceof BpfError && /datapath is loaded$/.test(e.message) && /before load/.test(e.hint ?? ''),
    );
  } finally {
    dp.close();
  }
});

test('the background reader delivers events from the event loop, without drain()', async () => {
  const dp = Datapath.open(requireHostObject()).load();
  try {
    const events: Buffer[] = [];
    let wake: () => void = () => {};
    const reader = dp.ringBuffer('bl_events', (rec) => {
      events.push(rec);
      if (events.length === 5) wake();
    });
    assert.equal(reader.mode, 'poll', 'woken by the kernel through libuv, not a timer');
    const arrived = new Promise<void>((resolve) => (wake = resolve));
    for (let i = 0; i < 5; i++) dp.testRun('bl_from_netdev', tcpSynPacket());
    assert.equal(events.length, 0, 'nothing is read synchronously');
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`only ${events.length} events arrived`)), 5000).unref());
    await Promise.race([arrived, timeout]);
    assert.equal(reader.samples, 5);
    assert.ok(events.every((e) => decodeBlNotifyHdr(e).type === BlEventType.BL_EVENT_TRACE));
    // The records are copies: they stay intact after the ring moves on.
    const first = Buffer.from(events[0]!);
    for (let i = 0; i < 3; i++) dp.testRun('bl_from_netdev', tcpSynPacket());
    reader.drain();
    assert.deepEqual(events[0], first);
  } finally {
    dp.close();
  }
});

test('a sample handler that throws does not stop the reader', () => {
  const dp = Datapath.open(requireHostObject()).load();
  try {
    const errors: unknown[] = [];
    let calls = 0;
    const reader = dp.ringBuffer(
      'bl_events',
      () => {
        calls++;
        throw new Error('handler bug');
      },
      { keepAlive: false, onError: (e) => errors.push(e) },
    );
    dp.testRun('bl_from_netdev', tcpSynPacket());
    dp.testRun('bl_from_netdev', tcpSynPacket());
    assert.equal(reader.drain(), 2);
    assert.equal(calls, 2);
    assert.equal(errors.length, 2);
    assert.match(String(errors[0]), /handler bug/);
  } finally {
    dp.close();
  }
});

test('a frame shorter than the kernel accepts is a BpfError, not a verdict', () => {
  const dp = Datapath.open(requireHostObject()).load();
  try {
    // The kernel's test run refuses an IPv4 ethertype without a full 20-byte header.
    assert.throws(() => dp.testRun('bl_from_netdev', ipv4Frame({ headerBytes: 10 })), (e: unknown) => e instanceof BpfError && e.errno === 22);
  } finally {
    dp.close();
  }
});
