import { toProtoJsonString } from '../api/proto.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { toProtoJson } from '../api/proto.js';
import { FlowExportConfigError } from '../common/errors.js';
import { backupPath, FlowExporter, FlowHistory, listHistoryFiles } from './history.js';
import { flowTimeNs, type Flow, type FlowHistoryReader, type FlowPredicate } from './types.js';

const BASE_S = 1_800_000_000; // 2027-01-15T08:00:00Z

/** Every test line is this long (Summary is padded), so file layouts are exact. */
const LINE = 800;

/** Flow i: one millisecond after flow i-1, every third one dropped, pods by i. */
function mkFlow(i: number): Flow {
  const ms = i;
  const drop = i % 3 === 0;
  const f: Flow = {
    time: { seconds: BASE_S + Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 + 7 },
    uuid: `f-${i}`,
    verdict: drop ? 'DROPPED' : 'FORWARDED',
    ...(drop ? { drop_reason_desc: 'POLICY_DENIED' as const, drop_reason: 133 } : {}),
    IP: { source: `10.0.${i % 7}.${(i % 200) + 1}`, destination: '10.0.9.9', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 30000 + i, destination_port: 80, flags: { SYN: true } } },
    source: { ID: 10 + (i % 5), identity: 1000 + (i % 4), namespace: i % 2 ? 'prod' : 'dev', pod_name: `client-${i % 10}`, labels: ['k8s:app=client'] },
    destination: { identity: 2000, namespace: 'prod', pod_name: 'web-0', labels: ['k8s:app=web'] },
    node_name: 'n1',
    event_type: { type: drop ? 1 : 4, sub_type: drop ? 133 : 0 },
    traffic_direction: 'EGRESS',
    is_reply: { value: false },
    Summary: 'TCP Flags: SYN',
  };
  const n = Buffer.byteLength(JSON.stringify(toProtoJson('observer.GetFlowsResponse', { flow: f, node_name: 'n1', time: f.time })) + '\n');
  f.Summary += '.'.repeat(LINE - n);
  return f;
}

const uuids = (fs: Flow[]) => fs.map((f) => f.uuid);
const all: FlowPredicate = () => true;

async function collect(r: FlowHistoryReader, range: { sinceNs: bigint; untilNs?: bigint; beforeNs?: bigint }, match: FlowPredicate = all): Promise<Flow[]> {
  const out: Flow[] = [];
  for await (const f of r.read(range, match)) out.push(f);
  return out;
}

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'beeline-history-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every line of the history files, oldest file first (gzipped ones unpacked). */
function lines(path: string): string[] {
  return listHistoryFiles(path).flatMap((f) => {
    const raw = readFileSync(f.path);
    return (f.gzip ? gunzipSync(raw) : raw).toString('utf8').split('\n').filter((l) => l !== '');
  });
}

const lineBytes = LINE;

test('a line is Hubble\'s export format: GetFlowsResponse in protobuf JSON, proto names, RFC 3339, no defaults', async (t) => {
  const path = join(tmp(t), 'events.log');
  const exp = new FlowExporter({ path, nodeName: 'n1' });
  exp.export(mkFlow(1));
  exp.export({ ...mkFlow(2), node_name: '' });
  await exp.close();
  const text = readFileSync(path, 'utf8');
  const [l1, l2] = text.split('\n');
  assert.ok(text.endsWith('\n'));
  assert.ok(l1!.startsWith('{"flow":{"time":"2027-01-15T08:00:00.001000007Z","uuid":"f-1","verdict":"FORWARDED",'), l1);
  assert.ok(l1!.endsWith('},"node_name":"n1","time":"2027-01-15T08:00:00.001000007Z"}'), l1);
  assert.deepEqual(JSON.parse(l1!), {
    flow: {
      time: '2027-01-15T08:00:00.001000007Z',
      verdict: 'FORWARDED',
      IP: { source: '10.0.1.2', destination: '10.0.9.9', ipVersion: 'IPv4' },
      l4: { TCP: { source_port: 30001, destination_port: 80, flags: { SYN: true } } },
      source: { ID: 11, identity: 1001, namespace: 'prod', labels: ['k8s:app=client'], pod_name: 'client-1' },
      destination: { identity: 2000, namespace: 'prod', labels: ['k8s:app=web'], pod_name: 'web-0' },
      node_name: 'n1',
      event_type: { type: 4 },
      traffic_direction: 'EGRESS',
      is_reply: false,
      uuid: 'f-1',
      Summary: mkFlow(1).Summary,
    },
    node_name: 'n1',
    time: '2027-01-15T08:00:00.001000007Z',
  });
  // A flow without a node name is filed under the exporter's node.
  assert.equal(JSON.parse(l2!).node_name, 'n1');
  assert.equal(exp.status().written, 2);
});

test('rotation: files stay under maxSizeBytes, backups are lumberjack-named, the oldest beyond maxBackups are deleted', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'events.log');
  const exp = new FlowExporter({ path, nodeName: 'n1', maxSizeBytes: lineBytes * 3 + 10, maxBackups: 3 });
  for (let i = 0; i < 50; i++) exp.export(mkFlow(i));
  await exp.flush();
  const names = readdirSync(dir).sort();
  const backups = names.filter((n) => n !== 'events.log');
  assert.equal(backups.length, 3, names.join(' '));
  for (const n of backups) assert.match(n, /^events-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.log$/);
  for (const n of names) assert.ok(statSync(join(dir, n)).size <= lineBytes * 3 + 10, n);
  const st = exp.status();
  assert.equal(st.written, 50);
  assert.equal(st.dropped, 0);
  assert.equal(st.rotated, 16); // 50 lines, 3 per file: 17 files
  assert.equal(st.files, 4);
  assert.equal(st.bytes, names.reduce((s, n) => s + statSync(join(dir, n)).size, 0));
  // What is left is the newest flows, in order, with nothing missing in between.
  const kept = lines(path).map((l) => JSON.parse(l).flow.uuid);
  assert.deepEqual(kept, Array.from({ length: 11 }, (_, k) => `f-${39 + k}`));
  await exp.close();
});

test('non-ASCII lines: the file limit holds to the byte (lines are counted in bytes before they are written), none lost, none cut', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'events.log');
  // Every third flow's pod is named in three-byte characters: its line is longer in bytes than in characters.
  const flow = (i: number): Flow => {
    const f = mkFlow(i);
    return i % 3 === 0 ? { ...f, source: { ...f.source!, pod_name: '飛行機'.repeat(40) } } : f;
  };
  const line = (i: number) => toProtoJsonString('observer.GetFlowsResponse', { flow: flow(i), node_name: 'n1', time: flow(i).time }) + '\n';
  // Counted in characters, flows 0 and 1 would fit one file; in bytes they do not (240 bytes more).
  const limit = line(0).length + Buffer.byteLength(line(1)) + 10;
  assert.ok(Buffer.byteLength(line(0)) + Buffer.byteLength(line(1)) > limit && Buffer.byteLength(line(0)) <= limit);
  const exp = new FlowExporter({ path, nodeName: 'n1', maxSizeBytes: limit, maxBackups: 100 });
  for (let i = 0; i < 30; i++) exp.export(flow(i));
  await exp.flush();
  for (const n of readdirSync(dir)) assert.ok(statSync(join(dir, n)).size <= limit, `${n}: ${statSync(join(dir, n)).size} > ${limit}`);
  assert.equal(exp.status().written, 30);
  const kept = lines(path).map((l) => JSON.parse(l).flow);
  assert.deepEqual(kept.map((f: Flow) => f.uuid), Array.from({ length: 30 }, (_, i) => `f-${i}`));
  assert.equal(kept[0].source.pod_name, '飛行機'.repeat(40));
  await exp.close();
});

test('the backup name is <prefix>-<UTC time>.<ext>, as lumberjack names it', () => {
  assert.equal(backupPath('/var/run/hubble/events.log', Date.UTC(2026, 11, 6, 8, 12, 29, 123)), '/var/run/hubble/events-2026-12-06T08-12-29.123.log');
  assert.equal(backupPath('/x/flows', 0), '/x/flows-1970-01-01T00-00-00.000');
});

test('allowlist/denylist: only flows the compiled predicate passes are written; the lists show in the status', async (t) => {
  const path = join(tmp(t), 'events.log');
  const allowlist = [{ verdict: ['DROPPED' as const] }, { source_pod: ['prod/'] }];
  const denylist = [{ source_pod: ['prod/client-5'] }];
  // What filter.ts compiles these lists to: any allow filter matches, no deny filter does.
  const match: FlowPredicate = (f) => (f.verdict === 'DROPPED' || f.source?.namespace === 'prod') && !(f.source?.namespace === 'prod' && f.source?.pod_name === 'client-5');
  const exp = new FlowExporter({ path, nodeName: 'n1', allowlist, denylist, match });
  const flows = Array.from({ length: 60 }, (_, i) => mkFlow(i));
  for (const f of flows) exp.export(f);
  await exp.close();
  const want = flows.filter(match).map((f) => f.uuid);
  assert.ok(want.length > 10 && want.length < 50);
  assert.deepEqual(lines(path).map((l) => JSON.parse(l).flow.uuid), want);
  const st = exp.status();
  assert.equal(st.filtered, 60 - want.length);
  assert.deepEqual(st.allowlist, allowlist);
  assert.deepEqual(st.denylist, denylist);
});

test('read back across many files: exactly the flows in [since, until), before beforeNs, that match, oldest first, fields intact', async (t) => {
  const path = join(tmp(t), 'events.log');
  const exp = new FlowExporter({ path, nodeName: 'n1', maxSizeBytes: lineBytes * 20, maxBackups: 0 });
  const flows = Array.from({ length: 200 }, (_, i) => mkFlow(i));
  for (const f of flows) exp.export(f);
  await exp.flush();
  assert.equal(listHistoryFiles(path).length, 10);
  const h: FlowHistoryReader = exp.history;
  const T = (i: number) => flowTimeNs(flows[i]!);

  const got = await collect(h, { sinceNs: T(37), untilNs: T(151) });
  assert.deepEqual(uuids(got), uuids(flows.slice(37, 151)));
  // Every field survives the round trip (compared in the wire's JSON, where defaults do not show).
  assert.deepEqual(got.map((f) => toProtoJson('flow.Flow', f)), flows.slice(37, 151).map((f) => toProtoJson('flow.Flow', f)));
  assert.equal(got[0]!.verdict, 'FORWARDED');
  assert.equal(got[2]!.drop_reason_desc, 'POLICY_DENIED');

  assert.deepEqual(uuids(await collect(h, { sinceNs: T(37), untilNs: T(151), beforeNs: T(120) })), uuids(flows.slice(37, 120)));
  assert.deepEqual(uuids(await collect(h, { sinceNs: T(37), beforeNs: T(60) })), uuids(flows.slice(37, 60)));
  assert.deepEqual(uuids(await collect(h, { sinceNs: 0n })), uuids(flows));
  const dropped: FlowPredicate = (f) => f.verdict === 'DROPPED';
  assert.deepEqual(uuids(await collect(h, { sinceNs: T(10), untilNs: T(190) }, dropped)), uuids(flows.slice(10, 190).filter(dropped)));
  assert.deepEqual(await collect(h, { sinceNs: T(50), untilNs: T(50) }), []);
  assert.deepEqual(await collect(h, { sinceNs: T(199) + 1n }), []);
  assert.equal(h.oldestNs(), T(0));

  // A consumer may stop early (the Observer does when its client has enough).
  let n = 0;
  for await (const f of h.read({ sinceNs: 0n }, all)) {
    assert.equal(f.uuid, `f-${n}`);
    if (++n === 5) break;
  }
  assert.equal(n, 5);
  await exp.close();
});

test('files outside the range are not read: junk in an old backup is not seen by a later range', async (t) => {
  const path = join(tmp(t), 'events.log');
  const exp = new FlowExporter({ path, nodeName: 'n1', maxSizeBytes: lineBytes * 10, maxBackups: 0 });
  const flows = Array.from({ length: 50 }, (_, i) => mkFlow(i));
  for (const f of flows) exp.export(f);
  await exp.close();
  const files = listHistoryFiles(path);
  assert.equal(files.length, 5);
  // Junk in the middle of the second file (flows 10..19): lines stay whole, the last line stays a flow.
  const second = files[1]!.path;
  const text = readFileSync(second, 'utf8').split('\n');
  text.splice(3, 0, 'this is not json');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(second, text.join('\n'));
  const h = new FlowHistory({ path });
  assert.deepEqual(uuids(await collect(h, { sinceNs: flowTimeNs(flows[25]!) })), uuids(flows.slice(25)));
  assert.equal(h.corruptLines, 0);
  assert.deepEqual(uuids(await collect(h, { sinceNs: flowTimeNs(flows[5]!), untilNs: flowTimeNs(flows[22]!) })), uuids(flows.slice(5, 22)));
  assert.equal(h.corruptLines, 1);
});

test('a partial last line (crash) and junk are skipped and counted, not fatal; a restarted exporter keeps them apart from new lines', async (t) => {
  const path = join(tmp(t), 'events.log');
  const exp = new FlowExporter({ path, nodeName: 'n1' });
  for (let i = 0; i < 10; i++) exp.export(mkFlow(i));
  await exp.close();
  appendFileSync(path, 'garbage\n{"flow": 3}\n');
  const half = JSON.stringify(toProtoJson('observer.GetFlowsResponse', { flow: mkFlow(10), node_name: 'n1', time: mkFlow(10).time }));
  appendFileSync(path, half.slice(0, 80)); // the crash: no newline
  const h = new FlowHistory({ path });
  assert.deepEqual(uuids(await collect(h, { sinceNs: 0n })), uuids(Array.from({ length: 10 }, (_, i) => mkFlow(i))));
  // The unterminated line of the active file may be one still being written: not counted.
  assert.equal(h.corruptLines, 2);

  const exp2 = new FlowExporter({ path, nodeName: 'n1' });
  for (let i = 11; i < 15; i++) exp2.export(mkFlow(i));
  await exp2.close();
  const got = await collect(exp2.history, { sinceNs: 0n });
  assert.deepEqual(uuids(got), [...Array.from({ length: 10 }, (_, i) => `f-${i}`), 'f-11', 'f-12', 'f-13', 'f-14']);
  assert.equal(exp2.history.corruptLines, 3); // garbage, {"flow": 3}, and the partial line, now terminated
  assert.equal(exp2.status().corruptLines, 3);
});

test('a flow without a time is kept with time 0, not counted as corrupt; lost_events lines are passed over', async (t) => {
  const path = join(tmp(t), 'events.log');
  const exp = new FlowExporter({ path, nodeName: 'n1' });
  const { time: _unused, ...timeless } = mkFlow(1);
  exp.export(timeless);
  exp.export(mkFlow(2));
  await exp.close();
  appendFileSync(path, '{"lost_events":{"source":"PERF_EVENT_RING_BUFFER","num_events_lost":"3"},"node_name":"n1","time":"2027-01-15T08:00:00.003Z"}\n');
  assert.ok(!readFileSync(path, 'utf8').split('\n')[0]!.includes('"time"'));
  const h = new FlowHistory({ path });
  assert.deepEqual(uuids(await collect(h, { sinceNs: 0n })), ['f-1', 'f-2']);
  assert.deepEqual(uuids(await collect(h, { sinceNs: 1n })), ['f-2']);
  assert.equal(h.corruptLines, 0);
  assert.equal(h.oldestNs(), 0n);
});

test('oldestNs follows the deletion of the oldest backup', async (t) => {
  const path = join(tmp(t), 'events.log');
  const exp = new FlowExporter({ path, nodeName: 'n1', maxSizeBytes: lineBytes * 5, maxBackups: 2 });
  const h = exp.history;
  assert.equal(h.oldestNs(), undefined);
  const seen: bigint[] = [];
  for (let i = 0; i < 40; i++) {
    exp.export(mkFlow(i));
    await exp.flush();
    const oldest = h.oldestNs()!;
    // 3 files of 5 lines at most: the oldest flow kept is the first of the oldest file.
    const full = Math.floor(i / 5);
    const firstKept = 5 * (full - Math.min(2, full));
    assert.equal(oldest, flowTimeNs(mkFlow(firstKept)), `after flow ${i}`);
    seen.push(oldest);
  }
  assert.ok(seen[39]! > seen[0]!);
  assert.equal(listHistoryFiles(path).length, 3);
  await exp.close();
});

test('compress: backups are gzipped (lumberjack .gz names); reading and oldestNs see through them', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'events.log');
  const exp = new FlowExporter({ path, nodeName: 'n1', maxSizeBytes: lineBytes * 10, maxBackups: 3, compress: true });
  const flows = Array.from({ length: 55 }, (_, i) => mkFlow(i));
  for (const f of flows) exp.export(f);
  await exp.flush();
  const names = readdirSync(dir).sort();
  assert.equal(names.length, 4, names.join(' '));
  for (const n of names.filter((x) => x !== 'events.log')) assert.match(n, /^events-[\dT.-]{23}\.log\.gz$/);
  const h = new FlowHistory({ path });
  assert.equal(h.oldestNs(), flowTimeNs(flows[20]!));
  assert.deepEqual(uuids(await collect(h, { sinceNs: 0n })), uuids(flows.slice(20)));
  assert.deepEqual(uuids(await collect(h, { sinceNs: flowTimeNs(flows[33]!), untilNs: flowTimeNs(flows[47]!) })), uuids(flows.slice(33, 47)));
  assert.equal(h.corruptLines, 0);
  await exp.close();
});

test('a read in progress survives rotation and deletion of the files it is reading', async (t) => {
  const path = join(tmp(t), 'events.log');
  const exp = new FlowExporter({ path, nodeName: 'n1', maxSizeBytes: lineBytes * 5, maxBackups: 1 });
  for (let i = 0; i < 10; i++) exp.export(mkFlow(i));
  await exp.flush();
  const it = exp.history.read({ sinceNs: 0n }, all)[Symbol.asyncIterator]();
  const got: string[] = [];
  got.push((await it.next()).value.uuid!);
  // Rotate everything the read opened away, and delete it.
  for (let i = 10; i < 40; i++) exp.export(mkFlow(i));
  await exp.flush();
  assert.ok(!lines(path).some((l) => JSON.parse(l).flow.uuid === 'f-0'));
  for (let r = await it.next(); !r.done; r = await it.next()) got.push(r.value.uuid!);
  assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `f-${i}`));
  await exp.close();
});

test('a full buffer drops and counts instead of waiting; close drops later flows', async (t) => {
  const path = join(tmp(t), 'events.log');
  const exp = new FlowExporter({ path, nodeName: 'n1', maxBufferedBytes: lineBytes * 4 });
  for (let i = 0; i < 100; i++) exp.export(mkFlow(i));
  await exp.flush();
  const st = exp.status();
  assert.ok(st.dropped > 0);
  assert.equal(exp.dropped, st.dropped);
  assert.equal(st.written + st.dropped, 100);
  assert.equal(lines(path).length, st.written);
  await exp.close();
  exp.export(mkFlow(100));
  assert.equal(exp.dropped, st.dropped + 1);
});

test('an existing file is appended to, and rotated first when the next line would pass the limit', async (t) => {
  const path = join(tmp(t), 'events.log');
  const e1 = new FlowExporter({ path, nodeName: 'n1', maxSizeBytes: lineBytes * 3 });
  for (let i = 0; i < 2; i++) e1.export(mkFlow(i));
  await e1.close();
  const e2 = new FlowExporter({ path, nodeName: 'n1', maxSizeBytes: lineBytes * 3 });
  for (let i = 2; i < 4; i++) e2.export(mkFlow(i));
  await e2.close();
  const files = listHistoryFiles(path);
  assert.equal(files.length, 2);
  assert.equal(readFileSync(files[0]!.path, 'utf8').split('\n').length - 1, 3);
  assert.deepEqual(uuids(await collect(e2.history, { sinceNs: 0n })), ['f-0', 'f-1', 'f-2', 'f-3']);
});

test('bad settings are refused naming the setting, with a stable code', () => {
  assert.throws(() => new FlowExporter({ path: '/tmp/x.log', nodeName: 'n1', maxSizeBytes: 0 }), (e: unknown) => e instanceof FlowExportConfigError && e.code === 'BL_ERR_FLOW_EXPORT_CONFIG' && /maxSizeBytes/.test(e.message));
  assert.throws(() => new FlowExporter({ path: '/tmp/x.log', nodeName: 'n1', maxBackups: -1 }), /maxBackups must be an integer >= 0, got -1/);
  assert.throws(() => new FlowExporter({ path: '', nodeName: 'n1' }), /path/);
});

test('an unwritable path: flows are dropped and the error is in the status, nothing throws', async (t) => {
  const dir = tmp(t);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'file'), 'x');
  const exp = new FlowExporter({ path: join(dir, 'file', 'events.log'), nodeName: 'n1' });
  exp.export(mkFlow(1));
  await exp.flush();
  const st = exp.status();
  assert.equal(st.written, 0);
  assert.equal(st.dropped, 1);
  assert.match(st.lastError ?? '', /open .*events\.log/);
  await exp.close();
});

test('throughput: export rate of the pipeline side and to disk (measured, printed)', async (t) => {
  const path = join(tmp(t), 'events.log');
  const exp = new FlowExporter({ path, nodeName: 'n1', maxBufferedBytes: 256 * 1024 * 1024 });
  const N = 30_000;
  const flows = Array.from({ length: N }, (_, i) => mkFlow(i));
  const t0 = process.hrtime.bigint();
  for (const f of flows) exp.export(f);
  const t1 = process.hrtime.bigint();
  await exp.flush();
  const t2 = process.hrtime.bigint();
  const st = exp.status();
  assert.equal(st.written, N);
  const h = new FlowHistory({ path });
  const t3 = process.hrtime.bigint();
  const back = await collect(h, { sinceNs: 0n });
  const t4 = process.hrtime.bigint();
  assert.equal(back.length, N);
  const rate = (n: number, ns: bigint) => Math.round(n / (Number(ns) / 1e9));
  t.diagnostic(`export(): ${rate(N, t1 - t0)} flows/s; to disk incl. rotation: ${rate(N, t2 - t0)} flows/s; read back: ${rate(N, t4 - t3)} flows/s; ${st.files} files, ${st.bytes} bytes (${Math.round(st.bytes / N)} B/flow)`);
  await exp.close();
});
