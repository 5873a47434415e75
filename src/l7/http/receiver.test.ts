/**
 * The HTTP access log receiver with real TCP connections on 127.0.0.1: record
 * lines become L7 flows in a real flow pipeline, malformed lines are counted
 * and dropped without stopping it, a full pipeline counts losses, a taken
 * port is a clear error. End to end through the agent's observer: records
 * sent to its receiver come back from the real Observer gRPC server
 * (GetFlows with Hubble's HTTP filters), the Prometheus metrics and the flow
 * history file, and its status counts them.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { observerClient } from '../../api/grpc.js';
import type { ObserverClient } from '../../api/generated/observer/Observer.js';
import { AgentObserver } from '../../agent/observer.js';
import type { NodeDatapath } from '../../agent/datapath.js';
import { HttpAccessLogListenError } from '../../common/errors.js';
import { FlowPipeline } from '../../observer/pipeline.js';
import type { EndpointInfo, Flow, FlowEnricher, GetFlowsRequest, GetFlowsResponse__Output } from '../../observer/types.js';
import type { HttpAccessRecord } from './accesslog.js';
import { HTTP_ACCESSLOG_MAX_LINE_BYTES, startHttpAccessReceiver, type HttpAccessReceiver } from './receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'bl-l7-receiver-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CLIENT: EndpointInfo = { id: 11, identity: 31486, namespace: 'default', podName: 'tiefighter', labels: ['k8s:class=tiefighter', 'k8s:org=empire'] };
const SERVER: EndpointInfo = { id: 12, identity: 15266, namespace: 'default', podName: 'deathstar-0', labels: ['k8s:class=deathstar', 'k8s:org=empire'] };

const enricher: FlowEnricher = {
  nodeName: 'node-a',
  endpointById: () => undefined,
  endpointByIP: (ip) => (ip === '10.0.1.10' ? CLIENT : ip === '10.0.2.20' ? SERVER : undefined),
  identityLabels: (id) => (id === CLIENT.identity ? CLIENT.labels : id === SERVER.identity ? SERVER.labels : undefined),
  serviceByFrontend: () => undefined,
  policiesByCookie: () => [],
  defaultDenyPolicies: () => [],
  namesForIP: () => [],
};

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined };

let clock = Date.now() * 1000;
function record(over: Partial<HttpAccessRecord> = {}): HttpAccessRecord {
  return {
    timeUs: (clock += 1000),
    direction: 'ingress',
    srcIp: '10.0.1.10',
    srcPort: 42690,
    dstIp: '10.0.2.20',
    dstPort: 80,
    srcIdentity: 31486,
    dstIdentity: 15266,
    method: 'POST',
    url: '/v1/request-landing',
    protocol: 'HTTP/1.1',
    host: 'deathstar',
    status: 200,
    denied: false,
    allowedBy: 'CiliumNetworkPolicy/default/rule1',
    responseMs: 2,
    totalMs: 3,
    termination: '----',
    ...over,
  };
}
const DENIED: Partial<HttpAccessRecord> = { method: 'PUT', url: '/v1/exhaust-port', status: 403, denied: true, allowedBy: '', responseMs: 0, totalMs: 0, termination: 'PR--' };

/**
 * Sends each payload as one line (newline added) to 127.0.0.1:port over one TCP connection, as
 * HAProxy's ring forwarder does; `pieces` > 1 cuts the whole stream into that many writes at
 * arbitrary places (lines split across writes).
 */
async function send(port: number, payloads: (string | Buffer)[], pieces = 0): Promise<void> {
  const stream = Buffer.concat(payloads.map((p) => Buffer.concat([Buffer.from(p), Buffer.from('\n')])));
  const sock = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  const writes: Buffer[] = [];
  if (pieces > 1) {
    const step = Math.ceil(stream.length / pieces);
    for (let i = 0; i < stream.length; i += step) writes.push(stream.subarray(i, i + step));
  } else writes.push(stream);
  for (const w of writes) {
    await new Promise<void>((resolve, reject) => sock.write(w, (err) => (err ? reject(err) : resolve())));
    await sleep(2);
  }
  await new Promise<void>((resolve) => sock.end(resolve));
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('a request HAProxy refused before its rules (timeUs 0, no transaction) becomes an ERROR flow at the receive time, not a malformed datagram', async () => {
  const pipeline = new FlowPipeline({ decode: () => undefined, monotonicTime: true });
  const r = await startHttpAccessReceiver({ address: '127.0.0.1', port: 0, enricher, ingest: (f) => pipeline.ingestFlow(f), log: silent });
  try {
    // What HAProxy 2.6 logs for a request line it cannot parse (the record's format without a transaction).
    const refused = record({ timeUs: 0, method: '', url: '', host: '', protocol: 'HTTP/1.1', status: 400, denied: false, allowedBy: '', responseMs: -1, totalMs: 2, termination: 'PR--' });
    const before = Date.now() * 1000;
    await send(r.port, [JSON.stringify(refused)]);
    await until('the record', () => r.stats().lines === 1);
    await pipeline.idle();
    const after_ = Date.now() * 1000;
    assert.deepEqual({ records: r.stats().records, malformed: r.stats().malformed, flows: r.stats().flows }, { records: 1, malformed: 0, flows: 2 });
    const req = pipeline.ring.at(0)!;
    assert.equal(req.verdict, 'ERROR');
    assert.equal(req.l7?.type, 'REQUEST');
    assert.equal(pipeline.ring.at(1)!.l7?.http?.code, 400);
    const t = req.time as { seconds: number; nanos: number };
    const us = t.seconds * 1e6 + t.nanos / 1000;
    // Receive time less totalMs (2 ms), at millisecond precision.
    assert.ok(us >= before - 3000 - 1000 && us <= after_, `time ${req.time} within the send window`);
  } finally {
    await r.close();
  }
});

test("the mTLS listener's handshake refusal (HAProxy's fixed-format line) becomes a DROPPED flow with the reason, not a malformed line", async () => {
  const pipeline = new FlowPipeline({ decode: () => undefined, monotonicTime: true });
  const r = await startHttpAccessReceiver({ address: '127.0.0.1', port: 0, enricher, ingest: (f) => pipeline.ingestFlow(f), log: silent, mtlsListener: { ip: '192.168.0.2', port: 15008 } });
  try {
    await send(r.port, ['10.0.1.10:40000 [07/Dec/2026:11:38:53.159] bl_mtls_in/1: SSL handshake failure', 'Proxy bl_mtls_in started.']);
    await until('the lines', () => r.stats().lines === 2);
    await pipeline.idle();
    assert.deepEqual({ records: r.stats().records, malformed: r.stats().malformed, flows: r.stats().flows, notices: r.stats().notices }, { records: 1, malformed: 0, flows: 1, notices: 1 });
    const f = pipeline.ring.at(0)!;
    assert.equal(f.verdict, 'DROPPED');
    assert.equal(f.source?.pod_name, 'tiefighter');
    assert.equal(f.IP?.destination, '192.168.0.2');
    assert.equal(f.mesh_tls?.refusal, 'SSL handshake failure');
  } finally {
    await r.close();
  }
});

test('record lines become L7 flows in the pipeline, also when cut across writes; malformed lines are counted and dropped, never thrown', async () => {
  const pipeline = new FlowPipeline({ decode: () => undefined, monotonicTime: true });
  const warnings: string[] = [];
  const r = await startHttpAccessReceiver({ address: '127.0.0.1', port: 0, enricher, ingest: (f) => pipeline.ingestFlow(f), log: { ...silent, warn: (m: string) => warnings.push(m) } });
  try {
    assert.ok(r.port > 0);
    const payloads = [
      JSON.stringify(record()),
      'not json at all',
      JSON.stringify(record(DENIED)),
      JSON.stringify({ ...record(), method: 7 }),
      JSON.stringify(record({ srcIp: 'tiefighter' })),
      JSON.stringify(record({ dstPort: 70000 })),
      Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
      '',
      JSON.stringify(record({ status: -1, responseMs: -1, termination: 'CD--' })) + '\n',
      // HAProxy's own notice to the frontend's log target at start and reload: not a record, not malformed.
      'Proxy bl_ingress_15001 started.',
      // A request HAProxy's parser refused (400) before its rules: no time, method or URL of its own; still a record.
      JSON.stringify(record({ timeUs: 0, method: '', url: '', status: 400, termination: 'PR--', allowedBy: '' })),
    ];
    // 7 writes: most lines are cut in two. Empty lines ('' and the extra newline) are not lines.
    await send(r.port, payloads, 7);
    await until('every line', () => r.stats().lines === payloads.length - 1);
    await pipeline.idle();
    const s = r.stats();
    assert.deepEqual({ ...s, lastMalformed: undefined }, { listen: `127.0.0.1:${r.port}`, connections: 1, connected: s.connected, lines: 10, records: 4, malformed: 5, notices: 1, flows: 7, lost: 0, lastMalformed: undefined });
    assert.match(s.lastMalformed!, /JSON/);
    assert.ok(warnings.length >= 1 && warnings.length < 5, 'warned, not once per line');
    const flows = [0, 1, 2, 3, 4].map((i) => pipeline.ring.at(i)!);
    assert.deepEqual(flows.map((f) => `${f.l7?.type} ${f.verdict} ${f.Summary}`), [
      'REQUEST FORWARDED HTTP/1.1 POST http://deathstar/v1/request-landing',
      'RESPONSE FORWARDED HTTP/1.1 200 2ms (POST http://deathstar/v1/request-landing)',
      'REQUEST DROPPED HTTP/1.1 PUT http://deathstar/v1/exhaust-port',
      'RESPONSE FORWARDED HTTP/1.1 403 0ms (PUT http://deathstar/v1/exhaust-port)',
      'REQUEST FORWARDED HTTP/1.1 POST http://deathstar/v1/request-landing',
    ]);
    assert.equal(flows[0]!.node_name, 'node-a');
    assert.equal(flows[0]!.source?.pod_name, 'tiefighter');
    const refused = pipeline.ring.at(5)!;
    assert.equal(refused.verdict, 'ERROR', 'refused by the proxy itself');
    assert.ok(Math.abs(Number(refused.time!.seconds) * 1000 - Date.now()) < 60_000, 'timed when it arrived');
    assert.equal(pipeline.stats().ingested, 7);
    assert.equal(pipeline.seen, 7);
  } finally {
    await r.close();
    pipeline.close();
  }
});

test('a burst of records arrives whole and in order; what the pipeline refuses is counted as lost, on both sides', async () => {
  const pipeline = new FlowPipeline({ decode: () => undefined, queueSize: 64, ringCapacity: 4096 });
  const r = await startHttpAccessReceiver({ address: '127.0.0.1', port: 0, enricher, ingest: (f) => pipeline.ingestFlow(f), nodeName: 'other-node', log: silent });
  try {
    const N = 300;
    await send(r.port, Array.from({ length: N }, (_, i) => JSON.stringify(record({ url: `/r/${i}` }))));
    await until('the burst', () => r.stats().lines === N);
    await pipeline.idle();
    const s = r.stats();
    assert.equal(s.records, N);
    assert.equal(s.flows + s.lost, 2 * N);
    assert.equal(pipeline.stats().lost.OBSERVER_EVENTS_QUEUE, s.lost, 'the pipeline counted the same losses');
    assert.equal(pipeline.seen, s.flows);
    // Whatever made it is in arrival order, request before its response.
    const urls: string[] = [];
    for (let i = 0; i < pipeline.ring.length; i++) urls.push(`${pipeline.ring.at(i)!.l7!.type} ${pipeline.ring.at(i)!.l7!.http!.url}`);
    assert.equal(urls[0], 'REQUEST http://deathstar/r/0');
    assert.equal(pipeline.ring.at(0)!.node_name, 'other-node');
  } finally {
    await r.close();
    pipeline.close();
  }
  // A closed (or full) pipeline refuses every flow: both sides count them.
  const refusing = new FlowPipeline({ decode: () => undefined });
  refusing.close();
  const r2 = await startHttpAccessReceiver({ address: '127.0.0.1', port: 0, enricher, ingest: (f) => refusing.ingestFlow(f), log: silent });
  try {
    await send(r2.port, [JSON.stringify(record()), JSON.stringify(record({ status: -1 }))]);
    await until('both', () => r2.stats().lines === 2);
    assert.equal(r2.stats().lost, 3);
    assert.equal(r2.stats().flows, 0);
    assert.equal(refusing.stats().lost.OBSERVER_EVENTS_QUEUE, 3);
  } finally {
    await r2.close();
  }
});

test("HAProxy's form of a record refused before its rules (`\"timeUs\":-`, `\"denied\":-`) is a record; `-` inside a string is left alone", async () => {
  const pipeline = new FlowPipeline({ decode: () => undefined, monotonicTime: true });
  const r = await startHttpAccessReceiver({ address: '127.0.0.1', port: 0, enricher, ingest: (f) => pipeline.ingestFlow(f), log: silent });
  try {
    // What the generated log-format prints for HAProxy's own 400 (no transaction: variables print -).
    const refused = JSON.stringify(record({ method: '', url: '', host: '', protocol: '<BADREQ>', status: 400, allowedBy: '', responseMs: -1, totalMs: 0, termination: 'PR--' }))
      .replace(/"timeUs":\d+/, '"timeUs":-').replace('"denied":false', '"denied":-');
    assert.match(refused, /"timeUs":-,.*"denied":-,/);
    // A URL that holds the same text: escaped quotes, so not a field.
    const tricky = JSON.stringify(record({ url: '/x"timeUs":-,"denied":-}', denied: true, status: 403 }));
    await send(r.port, [refused, tricky]);
    await until('both', () => r.stats().lines === 2);
    await pipeline.idle();
    assert.deepEqual({ records: r.stats().records, malformed: r.stats().malformed }, { records: 2, malformed: 0 }, r.stats().lastMalformed);
    assert.equal(pipeline.ring.at(0)!.verdict, 'ERROR');
    assert.ok(Math.abs(Number(pipeline.ring.at(0)!.time!.seconds) * 1000 - Date.now()) < 60_000, 'timed when it arrived');
    assert.equal(pipeline.ring.at(2)!.verdict, 'DROPPED');
    assert.equal(pipeline.ring.at(2)!.l7!.http!.url, 'http://deathstar/x"timeUs":-,"denied":-}');
  } finally {
    await r.close();
    pipeline.close();
  }
});

test('a line longer than any record is dropped up to its newline without being held; a record cut short by its connection is malformed; connections are counted', async () => {
  const pipeline = new FlowPipeline({ decode: () => undefined, monotonicTime: true });
  const r = await startHttpAccessReceiver({ address: '127.0.0.1', port: 0, enricher, ingest: (f) => pipeline.ingestFlow(f), log: silent });
  try {
    const huge = 'x'.repeat(HTTP_ACCESSLOG_MAX_LINE_BYTES * 3);
    await send(r.port, [JSON.stringify(record({ url: '/before' })), huge, JSON.stringify(record({ url: '/after' }))], 40);
    await until('the record after the long line', () => r.stats().records === 2);
    const s = r.stats();
    assert.equal(s.malformed, 1);
    assert.match(s.lastMalformed!, /longer than/);
    // A second connection whose last record has no newline: cut short.
    const sock = connect({ host: '127.0.0.1', port: r.port });
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    await new Promise<void>((resolve) => sock.end(`${JSON.stringify(record({ url: '/whole' }))}\n${JSON.stringify(record()).slice(0, 40)}`, resolve));
    await until('the cut record', () => r.stats().malformed === 2);
    assert.equal(r.stats().records, 3);
    assert.match(r.stats().lastMalformed!, /cut short/);
    assert.equal(r.stats().connections, 2);
    await until('both closed', () => r.stats().connected === 0);
    await pipeline.idle();
    const urls = [0, 2, 4].map((i) => pipeline.ring.at(i)!.l7!.http!.url);
    assert.deepEqual(urls, ['http://deathstar/before', 'http://deathstar/after', 'http://deathstar/whole']);
  } finally {
    await r.close();
    pipeline.close();
  }
});

test('a taken port or an address that is not an IP: HttpAccessLogListenError naming it', async () => {
  const first = await startHttpAccessReceiver({ address: '127.0.0.1', port: 0, enricher, ingest: () => true, log: silent });
  try {
    await assert.rejects(startHttpAccessReceiver({ address: '127.0.0.1', port: first.port, enricher, ingest: () => true, log: silent }), (e: unknown) => {
      assert.ok(e instanceof HttpAccessLogListenError);
      assert.equal(e.code, 'BL_ERR_HTTP_ACCESSLOG_LISTEN');
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${first.port}: .*EADDRINUSE`));
      return true;
    });
    await assert.rejects(startHttpAccessReceiver({ address: 'localhost', port: 0, enricher, ingest: () => true, log: silent }), /localhost:0: not an IP address/);
  } finally {
    await first.close();
    await first.close(); // idempotent
  }
});

// ---- through the agent's observer: gRPC, metrics, history, status

/** The datapath as the observer uses it when the kernel sends nothing: no records, no losses. */
const quietDatapath = {
  subscribe: () => () => undefined,
  eventCounters: () => ({ read: 0, lost: 0 }),
} as unknown as NodeDatapath;

function getFlows(client: ObserverClient, req: GetFlowsRequest): Promise<GetFlowsResponse__Output[]> {
  return new Promise((resolve, reject) => {
    const out: GetFlowsResponse__Output[] = [];
    const call = client.GetFlows(req);
    call.on('data', (r: GetFlowsResponse__Output) => out.push(r));
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}

test("the agent's observer: records sent to its receiver come back from GetFlows, the metrics and the history; status counts them", async () => {
  const socket = join(dir, 'observer.sock');
  const obs = new AgentObserver(
    { socket, export: { path: join(dir, 'events.log') }, metrics: { families: ['httpV2', 'flow'] } },
    { nodeName: 'node-a', version: 'beeline-test', agentSocket: join(dir, 'agent.sock'), datapath: quietDatapath, enricher, health: {}, log: { ...silent, error: () => undefined } },
  );
  await obs.start(Date.now());
  let client: ObserverClient | undefined;
  let receiver: HttpAccessReceiver | undefined;
  try {
    receiver = await obs.startHttpAccessReceiver({ address: '127.0.0.1', port: 0 });
    assert.ok(receiver);
    await assert.rejects(obs.startHttpAccessReceiver({ address: '127.0.0.1', port: 0 }), /already runs/);
    await send(receiver.port, [JSON.stringify(record()), JSON.stringify(record(DENIED)), '{"truncated": ']);
    await until('the lines', () => obs.status().httpAccessLog?.lines === 3);
    await obs.pipeline!.idle();
    const st = obs.status();
    assert.deepEqual({ ...st.httpAccessLog, lastMalformed: undefined }, { listen: `127.0.0.1:${receiver.port}`, connections: 1, connected: st.httpAccessLog!.connected, lines: 3, records: 2, malformed: 1, notices: 0, flows: 4, lost: 0, lastMalformed: undefined });
    assert.equal(st.pipeline!.ingested, 4);
    assert.equal(st.pipeline!.seen, 4);

    client = observerClient(`unix://${socket}`);
    const all = (await getFlows(client, { number: 100 })).filter((r) => r.flow);
    assert.deepEqual(all.map((r) => r.flow!.Summary), [
      'HTTP/1.1 POST http://deathstar/v1/request-landing',
      'HTTP/1.1 200 2ms (POST http://deathstar/v1/request-landing)',
      'HTTP/1.1 PUT http://deathstar/v1/exhaust-port',
      'HTTP/1.1 403 0ms (PUT http://deathstar/v1/exhaust-port)',
    ]);
    const res = all[1]!.flow!;
    assert.equal(res.Type, 'L7');
    assert.equal(res.l7!.type, 'RESPONSE');
    assert.equal(res.l7!.latency_ns, '2000000');
    assert.equal(res.l7!.http!.code, 200);
    assert.equal(res.is_reply!.value, true);
    assert.equal(all[0]!.flow!.ingress_allowed_by[0]!.name, 'rule1');
    // Hubble's HTTP filters, evaluated by the server.
    const denied = await getFlows(client, { number: 100, whitelist: [{ http_status_code: ['4+'] }] });
    assert.deepEqual(denied.filter((r) => r.flow).map((r) => r.flow!.Summary), ['HTTP/1.1 403 0ms (PUT http://deathstar/v1/exhaust-port)']);
    const dropped = await getFlows(client, { number: 100, whitelist: [{ protocol: ['http'], verdict: ['DROPPED'], http_method: ['PUT'] }] });
    assert.deepEqual(dropped.filter((r) => r.flow).map((r) => r.flow!.l7!.type), ['REQUEST']);

    const text = await obs.metrics!.metrics();
    assert.match(text, /^hubble_http_requests_total\{method="POST",protocol="HTTP\/1\.1",status="200",reporter="server"\} 1$/m);
    assert.match(text, /^hubble_http_requests_total\{method="PUT",protocol="HTTP\/1\.1",status="403",reporter="server"\} 1$/m);
    assert.match(text, /^hubble_flows_processed_total\{protocol="HTTP",type="L7",subtype="HTTP",verdict="DROPPED"\} 1$/m);
  } finally {
    client?.close();
    await obs.stop();
  }
  // The history file holds them too, in Hubble's export format.
  const lines = readFileSync(join(dir, 'events.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { flow: Flow & { l7: { http: { url: string } } } });
  assert.deepEqual(lines.map((l) => `${l.flow.l7.type} ${l.flow.verdict}`), ['REQUEST FORWARDED', 'RESPONSE FORWARDED', 'REQUEST DROPPED', 'RESPONSE FORWARDED']);
  // stop() closed the receiver: the port is free again.
  const again = await startHttpAccessReceiver({ address: '127.0.0.1', port: receiver!.port, enricher, ingest: () => true, log: silent });
  await again.close();
});
