/**
 * The node's Kafka proxy (./proxy.ts) on 127.0.0.1, no root: a plain
 * net.Server stands in for the transparent listener (origDst = the test
 * broker's address), the upstream is a plain net.connect, and the broker
 * advertises the proxy so every client connection goes through it. Real
 * clients (kafkajs, kcat) under Cilium's Kafka example policy (`role:
 * produce, topic: empire-announce`), consume rules, raw sockets for the
 * ordering rule and broken frames, and a seeded fuzz of mutated real frames.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startKafkaBroker, type KafkaTestBroker } from '../../../test/lib/kafka-broker.js';
import { kafkajsClient, kafkajsErrorType, kcat, NO_KCAT, produceAllowedDeniedAllowed } from '../../../test/lib/kafka-clients.js';
import { mulberry32 } from '../../../test/lib/rng.js';
import { until } from '../../../test/lib/wait.js';
import { topicIdsFromMetadataResponse } from './metadata.js';
import { KafkaProxy, type KafkaPortRules, type KafkaRecord, type KafkaRulesQuery } from './proxy.js';
import { compileKafkaRules, type KafkaRuleSpec } from './rules.js';
import { ApiKey, KafkaError, KafkaFrameDecoder, decodeKafkaRequest, encodeKafkaRequest } from './wire.js';

const ORIGIN = { kind: 'CiliumNetworkPolicy' as const, namespace: 'default', name: 'empire-kafka' };
const EMPIRE_PRODUCE: KafkaRuleSpec[] = [{ role: 'produce', topic: 'empire-announce' }];

const quietLog = { debug: () => undefined, info: () => undefined, warn: () => undefined };

/** A proxy in front of a test broker, its records and the rule queries it made. */
interface Harness {
  broker: KafkaTestBroker;
  proxy: KafkaProxy;
  port: number;
  address: string;
  records: KafkaRecord[];
  queries: KafkaRulesQuery[];
  warnings: string[];
  close(): Promise<void>;
}

/** `rules` undefined: no policy for the port (rulesFor answers undefined). */
async function startHarness(rules: KafkaRuleSpec[] | undefined, opts: { maxFrameBytes?: number; upstream?: { host: string; port: number } } = {}): Promise<Harness> {
  let proxyPort = 0;
  const broker = await startKafkaBroker({ advertise: () => ({ host: '127.0.0.1', port: proxyPort }) });
  const up = opts.upstream ?? { host: broker.host, port: broker.port };
  const portRules: KafkaPortRules | undefined = rules ? { matcher: compileKafkaRules([{ rules, origin: ORIGIN }]), srcIdentity: 31486, dstIdentity: 15266 } : undefined;
  const records: KafkaRecord[] = [];
  const queries: KafkaRulesQuery[] = [];
  const warnings: string[] = [];
  const proxy = new KafkaProxy({
    rulesFor: (q) => { queries.push(q); return portRules; },
    record: (r) => records.push(r),
    log: { ...quietLog, warn: (m: string) => { warnings.push(m); } },
    direction: 'ingress',
    ...(opts.maxFrameBytes ? { maxFrameBytes: opts.maxFrameBytes } : {}),
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    proxy.handleConnection(sock, { address: broker.host, port: broker.port }, () => net.connect(up.port, up.host));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxyPort = (server.address() as net.AddressInfo).port;
  return {
    broker, proxy, port: proxyPort, address: `127.0.0.1:${proxyPort}`, records, queries, warnings,
    async close() {
      proxy.closeAll();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await broker.close();
    },
  };
}

function kafkaClient(address: string, clientId = 'kafkajs-proxy') {
  return kafkajsClient(address, clientId);
}

/** Topics of every request the broker received. */
const brokerTopics = (b: KafkaTestBroker) => new Set(b.frames.flatMap((f) => decodeKafkaRequest(f).topics));

/** A raw client: sends bytes, collects answer frames, notices the close. */
function rawClient(port: number) {
  const sock = net.connect(port, '127.0.0.1');
  const frames: Buffer[] = [];
  const dec = new KafkaFrameDecoder();
  let closed = false;
  sock.on('data', (d) => frames.push(...dec.push(d)));
  sock.on('error', () => undefined);
  const closedP = new Promise<void>((r) => sock.on('close', () => { closed = true; r(); }));
  return { sock, frames, closed: closedP, isClosed: () => closed };
}

const fetchV11 = (corr: number, topic: string, maxWaitMs: number) => encodeKafkaRequest(ApiKey.Fetch, 11, corr, 'raw', (w, flex) => {
  w.i32(-1).i32(maxWaitMs).i32(1).i32(1 << 20).i8(0).i32(0).i32(-1);
  w.arr([topic], flex, (w, t) => { w.str(t, flex).arr([0], flex, (w, p) => { w.i32(p).i32(-1).i64(0).i64(-1).i32(1 << 20); }); });
  w.arr([], flex, () => undefined).str('', flex);
});
const produceV7 = (corr: number, topic: string, acks = 1) => encodeKafkaRequest(ApiKey.Produce, 7, corr, 'raw', (w, flex) => {
  w.nstr(null, flex).i16(acks).i32(1000).arr([topic], flex, (w, t) => { w.str(t, flex).arr([0], flex, (w, p) => { w.i32(p).nbytes(null, flex); }); });
});
const apiVersionsV2 = (corr: number) => encodeKafkaRequest(ApiKey.ApiVersions, 2, corr, 'raw', () => undefined);
/** Produce v7 response with one topic and one partition: its error code. */
const produceV7Error = (f: Buffer, topic: string) => f.readInt16BE(8 + 4 + 2 + topic.length + 4 + 4);

describe('role produce, topic empire-announce (Cilium\'s Kafka example)', () => {
  let h: Harness;
  before(async () => { h = await startHarness(EMPIRE_PRODUCE); });
  after(async () => { await h.close(); });

  test('kafkajs: produces to empire-announce; deathstar-plans gets TOPIC_AUTHORIZATION_FAILED on the same connection, which keeps working', async () => {
    await produceAllowedDeniedAllowed(kafkaClient(h.address), 'the emperor arrives', 'again');
    assert.deepEqual(h.broker.values('empire-announce').map(String), ['the emperor arrives', 'again']);
    assert.ok(!brokerTopics(h.broker).has('deathstar-plans'), 'the broker never saw a request for deathstar-plans');
    const denied = h.records.filter((r) => r.verdict === 'denied');
    assert.ok(denied.length > 0);
    for (const d of denied) {
      assert.equal(d.apiKey, ApiKey.Metadata);
      // kafkajs asks for every topic it targets: empire-announce too, once it has produced there.
      assert.ok(d.topics.includes('deathstar-plans'));
      assert.equal(d.errorCode, KafkaError.TOPIC_AUTHORIZATION_FAILED);
      assert.ok(d.responded);
      assert.deepEqual(d.deniedTopics, ['deathstar-plans']);
    }
    const produceConns = new Set(h.records.filter((r) => r.apiKey === ApiKey.Produce && r.verdict === 'forwarded').map((r) => r.srcPort));
    assert.ok(denied.some((d) => produceConns.has(d.srcPort)), 'the denial came on a connection that produced to empire-announce');
    const produced = h.records.filter((r) => r.apiKey === ApiKey.Produce);
    assert.equal(produced.length, 2);
    for (const r of produced) {
      assert.equal(r.verdict, 'forwarded');
      assert.deepEqual(r.allowedBy, [ORIGIN]);
      assert.equal(r.clientId, 'kafkajs-proxy');
      assert.equal(r.direction, 'ingress');
      assert.equal(r.srcIdentity, 31486);
      assert.ok(r.responded && r.latencyMs >= 0);
    }
    assert.equal(h.proxy.stats.closedByProxy, 0);
    assert.deepEqual(h.queries[0], { client: '127.0.0.1', server: h.broker.host, port: h.broker.port, direction: 'ingress' });
  });

  test('kafkajs admin: metadata for the allowed topic works, for the denied one fails', async () => {
    const admin = kafkaClient(h.address).admin();
    await admin.connect();
    const md = await admin.fetchTopicMetadata({ topics: ['empire-announce'] });
    assert.equal(md.topics[0]!.name, 'empire-announce');
    assert.equal(md.topics[0]!.partitions.length, 1);
    await assert.rejects(admin.fetchTopicMetadata({ topics: ['deathstar-plans'] }),
      (e: Error) => { assert.equal(kafkajsErrorType(e), 'TOPIC_AUTHORIZATION_FAILED', `${e.name}: ${e.message}`); return true; });
    await admin.disconnect();
  });

  test('kcat: -P to empire-announce succeeds; -P to deathstar-plans reports the authorization error; no connection closed', { skip: NO_KCAT }, async () => {
    const ok = await kcat(['-b', h.address, '-P', '-t', 'empire-announce'], 'from kcat\n');
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(h.broker.values('empire-announce').map(String).includes('from kcat'));
    const bad = await kcat(['-b', h.address, '-P', '-t', 'deathstar-plans', '-X', 'message.timeout.ms=3000'], 'plans\n');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /[Tt]opic authorization failed/);
    assert.ok(!brokerTopics(h.broker).has('deathstar-plans'));
    assert.ok(h.records.some((r) => r.verdict === 'denied' && r.clientId === 'rdkafka' && r.topics.includes('deathstar-plans')));
    assert.equal(h.proxy.stats.closedByProxy, 0);
  });
});

describe('apiKey rules: the Produce itself is denied and answered in-band', () => {
  let h: Harness;
  before(async () => { h = await startHarness([{ apiKey: 'apiversions' }, { apiKey: 'metadata' }, { apiKey: 'produce', topic: 'empire-announce' }]); });
  after(async () => { await h.close(); });

  test('kafkajs: allowed, denied, allowed produce on one connection', async () => {
    await produceAllowedDeniedAllowed(kafkaClient(h.address), 'one', 'two');
    const produces = h.records.filter((r) => r.apiKey === ApiKey.Produce);
    assert.deepEqual(produces.map((r) => [r.verdict, r.topics[0]]), [['forwarded', 'empire-announce'], ['denied', 'deathstar-plans'], ['forwarded', 'empire-announce']]);
    assert.equal(new Set(produces.map((r) => r.srcPort)).size, 1, 'the three produces went over one client connection');
    assert.deepEqual(h.broker.values('empire-announce').map(String), ['one', 'two']);
    assert.ok(!h.broker.frames.some((f) => { const r = decodeKafkaRequest(f); return r.apiKey === ApiKey.Produce && r.topics.includes('deathstar-plans'); }));
  });

  test('kcat: the Produce v7 to deathstar-plans gets the authorization error', { skip: NO_KCAT }, async () => {
    const bad = await kcat(['-b', h.address, '-P', '-t', 'deathstar-plans', '-X', 'message.timeout.ms=3000'], 'plans\n');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /[Tt]opic authorization failed/);
    assert.ok(h.records.some((r) => r.verdict === 'denied' && r.apiKey === ApiKey.Produce && r.clientId === 'rdkafka'));
    assert.deepEqual(h.broker.values('deathstar-plans'), []);
    assert.equal(h.proxy.stats.closedByProxy, 0);
  });
});

describe('consume role', () => {
  let h: Harness;
  before(async () => { h = await startHarness([{ role: 'consume', topic: 'empire-announce' }, { role: 'produce', topic: 'empire-announce' }]); });
  after(async () => { await h.close(); });

  test('kafkajs group consumer reads empire-announce through the proxy; subscribing to deathstar-plans is refused', async () => {
    const kafka = kafkaClient(h.address);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'empire-announce', messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'empire', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'empire-announce', fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message }) => { got.push(String(message.value)); if (got.length === 2) resolve(); } }).catch(reject);
      setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(got)}`)), 15_000).unref();
    });
    await consumer.disconnect();
    assert.deepEqual(got, ['a', 'b']);
    const keys = new Set(h.records.filter((r) => r.verdict === 'forwarded').map((r) => r.apiKey));
    for (const k of [ApiKey.FindCoordinator, ApiKey.JoinGroup, ApiKey.SyncGroup, ApiKey.OffsetFetch, ApiKey.Fetch]) assert.ok(keys.has(k), `key ${k} forwarded`);
    assert.ok(!h.records.some((r) => r.verdict !== 'forwarded'));

    const other = kafka.consumer({ groupId: 'rebels', maxWaitTimeInMs: 100 });
    await other.connect();
    await assert.rejects(other.subscribe({ topic: 'deathstar-plans', fromBeginning: true }),
      (e: Error) => { assert.equal(kafkajsErrorType(e), 'TOPIC_AUTHORIZATION_FAILED', `${e.name}: ${e.message}`); return true; });
    await other.disconnect();
    assert.ok(!brokerTopics(h.broker).has('deathstar-plans'));
  });

  test('kcat -C reads empire-announce; deathstar-plans fails', { skip: NO_KCAT }, async () => {
    const c = await kcat(['-b', h.address, '-C', '-t', 'empire-announce', '-o', 'beginning', '-e', '-q']);
    assert.equal(c.status, 0, c.stderr);
    assert.equal(c.stdout, 'a\nb\n');
    const bad = await kcat(['-b', h.address, '-C', '-t', 'deathstar-plans', '-o', 'beginning', '-e', '-q', '-m', '3'], undefined, 10_000);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /[Tt]opic authorization failed/);
    assert.ok(!brokerTopics(h.broker).has('deathstar-plans'));
  });
});

describe('raw sockets: order, broken frames, no answer', () => {
  let h: Harness;
  before(async () => { h = await startHarness([{ role: 'consume', topic: 'empire-announce' }, { role: 'produce', topic: 'empire-announce' }], { maxFrameBytes: 1 << 20 }); h.broker.createTopic('empire-announce'); });
  after(async () => { await h.close(); });

  test('pipelined requests with a denied one in the middle are answered in request order (one segment, then split every 7 bytes)', async () => {
    for (const split of [0, 7]) {
      const c = rawClient(h.port);
      const bytes = Buffer.concat([fetchV11(1, 'empire-announce', 300), produceV7(2, 'deathstar-plans'), apiVersionsV2(3), produceV7(4, 'deathstar-plans')]);
      const t0 = Date.now();
      if (split === 0) c.sock.write(bytes);
      else for (let i = 0; i < bytes.length; i += split) c.sock.write(bytes.subarray(i, i + split));
      await until('four answers', () => c.frames.length === 4, 5000, 10);
      assert.deepEqual(c.frames.map((f) => f.readInt32BE(4)), [1, 2, 3, 4], 'answers in request order');
      assert.ok(Date.now() - t0 >= 250, 'the denied answer waited for the long-polling Fetch');
      assert.equal(produceV7Error(c.frames[1]!, 'deathstar-plans'), KafkaError.TOPIC_AUTHORIZATION_FAILED);
      assert.equal(produceV7Error(c.frames[3]!, 'deathstar-plans'), KafkaError.TOPIC_AUTHORIZATION_FAILED);
      assert.equal(c.isClosed(), false);
      c.sock.destroy();
    }
    const fetches = h.records.filter((r) => r.apiKey === ApiKey.Fetch);
    assert.equal(fetches.length, 2);
    assert.ok(fetches.every((r) => r.latencyMs >= 250));
    assert.ok(!brokerTopics(h.broker).has('deathstar-plans'));
  });

  test('oversized, garbage, malformed and truncated frames close only their connection; a kafkajs producer keeps working', async () => {
    const producer = kafkaClient(h.address).producer();
    await producer.connect();
    const framesBefore = h.broker.frames.length;
    const closedBefore = h.proxy.stats.closedByProxy;
    const malformedProduce = produceV7(5, 'empire-announce');
    malformedProduce.writeInt32BE(0x7fffffff, 4 + 10 + 3 + 2 + 2 + 4); // topic_data count far beyond the bytes
    const cases: [string, (s: net.Socket) => void][] = [
      ['oversized', (s) => s.write(Buffer.from([0, 0x20, 0, 0]))],
      ['negative size', (s) => s.write(Buffer.from([0xff, 0xff, 0xff, 0xf0]))],
      ['garbage', (s) => s.write(Buffer.concat([Buffer.from([0, 0, 0, 12]), Buffer.from('not a kafka!')]))],
      ['malformed body', (s) => s.write(malformedProduce)],
      ['truncated', (s) => s.end(apiVersionsV2(6).subarray(0, 9))],
    ];
    for (const [what, send] of cases) {
      const c = rawClient(h.port);
      await new Promise<void>((r) => c.sock.on('connect', () => r()));
      send(c.sock);
      await Promise.race([c.closed, until(`${what}: closed`, () => false, 3000).catch(() => { throw new Error(`${what}: the proxy did not close the connection`); })]);
      assert.equal(c.frames.length, 0, `${what}: no answer`);
      const res = await producer.send({ topic: 'empire-announce', messages: [{ value: what }] });
      assert.equal(res[0]!.errorCode, 0, `${what}: the other connection still works`);
    }
    await producer.disconnect();
    assert.equal(h.proxy.stats.closedByProxy - closedBefore, cases.length);
    const sent = h.broker.frames.slice(framesBefore).map((f) => decodeKafkaRequest(f));
    assert.ok(sent.every((r) => r.clientId === 'kafkajs-proxy'), 'nothing of the broken connections reached the broker');
    const errors = h.records.filter((r) => r.verdict === 'error').map((r) => r.reason);
    assert.deepEqual(errors.slice(-cases.length), ['oversized', 'oversized', 'unsupported-key', 'malformed', 'truncated']);
  });

  test('a denied acks=0 produce closes the connection after the earlier answers', async () => {
    const c = rawClient(h.port);
    c.sock.write(Buffer.concat([apiVersionsV2(1), produceV7(2, 'deathstar-plans', 0), apiVersionsV2(3)]));
    await c.closed;
    assert.deepEqual(c.frames.map((f) => f.readInt32BE(4)), [1], 'the earlier answer came, nothing after the close');
    const rec = h.records.find((r) => r.apiKey === ApiKey.Produce && r.correlationId === 2 && r.clientId === 'raw' && r.reason === 'acks-0');
    assert.ok(rec && rec.verdict === 'denied' && !rec.responded);
    assert.ok(!brokerTopics(h.broker).has('deathstar-plans'));
  });

  test('an allowed acks=0 produce is forwarded and takes no answer slot', async () => {
    const c = rawClient(h.port);
    const before = h.broker.values('empire-announce').length;
    const batch = h.broker.frames.map((f) => decodeKafkaRequest(f)).find((r) => r.apiKey === ApiKey.Produce && r.topicData[0]?.partitions[0]?.records)!;
    const records = batch.topicData[0]!.partitions[0]!.records!;
    const p0 = encodeKafkaRequest(ApiKey.Produce, 7, 1, 'raw', (w, flex) => {
      w.nstr(null, flex).i16(0).i32(1000).arr(['empire-announce'], flex, (w, t) => { w.str(t, flex).arr([0], flex, (w, p) => { w.i32(p).nbytes(records, flex); }); });
    });
    c.sock.write(Buffer.concat([p0, apiVersionsV2(2)]));
    await until('the ApiVersions answer', () => c.frames.length === 1, 5000, 10);
    assert.equal(c.frames[0]!.readInt32BE(4), 2);
    assert.equal(h.broker.values('empire-announce').length, before + 1);
    c.sock.destroy();
  });

  test('an unparsed request type (Produce v10) is judged by its header: denied under a topic rule, the connection closed', async () => {
    const v10 = encodeKafkaRequest(ApiKey.Produce, 10, 7, 'raw', (w) => { w.uvarint(0).i16(1).i32(1000).uvarint(1).tags(true); });
    const c = rawClient(h.port);
    c.sock.write(Buffer.concat([apiVersionsV2(6), v10]));
    await c.closed;
    assert.deepEqual(c.frames.map((f) => f.readInt32BE(4)), [6]);
    const rec = h.records.find((r) => r.correlationId === 7 && r.clientId === 'raw' && r.apiKey === ApiKey.Produce && r.apiVersion === 10)!;
    assert.equal(rec.verdict, 'denied');
    assert.equal(rec.reason, 'unparsed-denied');
    assert.equal(rec.allTopics, true);
  });
});

const metadataV12 = (corr: number, topic: string) => encodeKafkaRequest(ApiKey.Metadata, 12, corr, 'raw', (w, flex) => {
  w.arr([topic], flex, (w, t) => { w.uuid(undefined).nstr(t, flex).tags(flex); }).bool(false).bool(false).tags(flex);
});
const fetchV13ById = (corr: number, id: Buffer) => encodeKafkaRequest(ApiKey.Fetch, 13, corr, 'raw', (w, flex) => {
  w.i32(-1).i32(0).i32(1).i32(1 << 20).i8(0).i32(0).i32(-1);
  w.arr([id], flex, (w, t) => { w.uuid(t).arr([0], flex, (w, p) => { w.i32(p).i32(-1).i64(0).i32(-1).i64(-1).i32(1 << 20).tags(flex); }).tags(flex); });
  w.arr([], flex, () => undefined).str('', flex).tags(flex);
});

describe('topic ids (Fetch v13) learned from the Metadata answers the proxy relays', () => {
  test('a Fetch by an unknown id is denied under a topic rule; once a Metadata v12 answer named the id, it is matched by name', async () => {
    const h = await startHarness([{ role: 'consume', topic: 'empire-announce' }]);
    try {
      h.broker.createTopic('empire-announce');
      h.broker.createTopic('deathstar-plans');
      // The ids, asked of the broker directly.
      const direct = net.connect(h.broker.port, h.broker.host);
      const dframes: Buffer[] = [];
      const ddec = new KafkaFrameDecoder();
      direct.on('data', (d) => dframes.push(...ddec.push(d)));
      direct.write(Buffer.concat([metadataV12(1, 'empire-announce'), metadataV12(2, 'deathstar-plans')]));
      await until('the broker\'s metadata', () => dframes.length === 2, 5000, 10);
      direct.destroy();
      const [empire] = topicIdsFromMetadataResponse(dframes[0]!, 12);
      const [plans] = topicIdsFromMetadataResponse(dframes[1]!, 12);
      assert.equal(empire!.name, 'empire-announce');
      assert.equal(plans!.name, 'deathstar-plans');
      const empireId = Buffer.from(empire!.id, 'hex');

      // Not learned yet: <topic-id:…>, which no topic rule allows.
      const c = rawClient(h.port);
      c.sock.write(fetchV13ById(1, empireId));
      await until('the denied answer', () => c.frames.length === 1, 5000, 10);
      assert.equal(h.records.at(-1)!.verdict, 'denied');
      assert.deepEqual(h.records.at(-1)!.topics, [`<topic-id:${empire!.id}>`]);
      // Metadata v12 through the proxy: relayed whole, the ids learned.
      c.sock.write(metadataV12(2, 'empire-announce'));
      await until('the metadata answer', () => c.frames.length === 2, 5000, 10);
      assert.ok(c.frames[1]!.subarray(8).equals(dframes[0]!.subarray(8)), 'the Metadata answer relayed unchanged');
      assert.deepEqual(topicIdsFromMetadataResponse(c.frames[1]!, 12), [empire]);
      const before = h.broker.frames.length;
      const fetch = fetchV13ById(3, empireId);
      c.sock.write(fetch);
      await until('the fetch reached the broker', () => h.broker.frames.slice(before).some((f) => f.equals(fetch)), 5000, 10);
      await until('the fetch forwarded', () => h.records.some((r) => r.correlationId === 3) || h.proxy.stats.forwarded >= 2, 5000, 10);
      assert.equal(h.proxy.stats.forwarded, 2, 'the Metadata and the Fetch by id were forwarded');
      c.sock.destroy();
      // An id the proxy learned for one topic does not open another: deathstar-plans's id stays denied.
      const c2 = rawClient(h.port);
      c2.sock.write(fetchV13ById(4, Buffer.from(plans!.id, 'hex')));
      await until('the denied answer', () => c2.frames.length === 1, 5000, 10);
      assert.ok(h.records.some((r) => r.correlationId === 4 && r.verdict === 'denied'));
      c2.sock.destroy();
    } finally { await h.close(); }
  });
});

describe('no policy; an allow-all policy and unparsed requests', () => {
  test('no rules for the port: every request denied with its authorization error', async () => {
    const h = await startHarness(undefined);
    try {
      const c = rawClient(h.port);
      c.sock.write(Buffer.concat([apiVersionsV2(1), produceV7(2, 'empire-announce')]));
      await until('two answers', () => c.frames.length === 2, 5000, 10);
      assert.equal(c.frames[0]!.readInt16BE(8), KafkaError.CLUSTER_AUTHORIZATION_FAILED);
      assert.equal(produceV7Error(c.frames[1]!, 'empire-announce'), KafkaError.TOPIC_AUTHORIZATION_FAILED);
      assert.equal(h.broker.frames.length, 0);
      assert.ok(h.records.every((r) => r.verdict === 'denied' && r.reason === 'no-policy'));
      assert.ok(h.warnings.some((w) => /no Kafka rules/.test(w)));
      c.sock.destroy();
    } finally { await h.close(); }
  });

  test('a rule lookup that throws denies the request, and the proxy keeps running', async () => {
    const broker = await startKafkaBroker();
    const proxy = new KafkaProxy({ rulesFor: () => { throw new Error('policy engine restarting'); }, record: () => undefined, log: quietLog });
    const server = net.createServer((sock) => proxy.handleConnection(sock, { address: broker.host, port: broker.port }, () => net.connect(broker.port, broker.host)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = rawClient((server.address() as net.AddressInfo).port);
      c.sock.write(apiVersionsV2(1));
      await until('the denied answer', () => c.frames.length === 1, 5000, 10);
      assert.equal(c.frames[0]!.readInt16BE(8), KafkaError.CLUSTER_AUTHORIZATION_FAILED);
      assert.equal(broker.frames.length, 0);
      c.sock.destroy();
    } finally { proxy.closeAll(); await new Promise<void>((r) => server.close(() => r())); await broker.close(); }
  });

  test('kafkajs: a 3 MiB batch passes under the default maximum; over a 1 MiB maximum it closes that connection only', async () => {
    const big = Buffer.alloc(3 << 20, 0x61);
    const h = await startHarness(EMPIRE_PRODUCE);
    try {
      const producer = kafkaClient(h.address).producer();
      await producer.connect();
      await producer.send({ topic: 'empire-announce', messages: [{ value: big }] });
      await producer.disconnect();
      assert.equal(h.broker.values('empire-announce')[0]!.length, big.length);
    } finally { await h.close(); }
    const small = await startHarness(EMPIRE_PRODUCE, { maxFrameBytes: 1 << 20 });
    try {
      const producer = kafkaClient(small.address).producer();
      await producer.connect();
      await assert.rejects(producer.send({ topic: 'empire-announce', messages: [{ value: big }] }));
      await producer.disconnect();
      assert.deepEqual(small.broker.values('empire-announce'), []);
      assert.ok(small.records.some((r) => r.verdict === 'error' && r.reason === 'oversized'));
      // Another client is unaffected.
      const other = kafkaClient(small.address, 'other').producer();
      await other.connect();
      await other.send({ topic: 'empire-announce', messages: [{ value: 'small' }] });
      await other.disconnect();
      assert.deepEqual(small.broker.values('empire-announce').map(String), ['small']);
    } finally { await small.close(); }
  });

  test('an empty rule list (L4-only allow) forwards even a request type wire.ts does not parse', async () => {
    const h = await startHarness([]);
    try {
      const v10 = encodeKafkaRequest(ApiKey.Produce, 10, 7, 'raw', (w) => { w.uvarint(0).i16(1).i32(1000).uvarint(1).tags(true); });
      const c = rawClient(h.port);
      c.sock.write(v10);
      await until('the broker received it', () => h.broker.frames.some((f) => f.equals(v10)), 5000, 10);
      c.sock.destroy();
      assert.equal(h.records.find((r) => r.apiVersion === 10)?.verdict ?? 'forwarded', 'forwarded');
    } finally { await h.close(); }
  });
});

describe('fuzz (seeded): mutated real request frames', () => {
  test('the proxy never forwards a request the rules deny, never forwards part of a frame, and keeps serving', async () => {
    // Real frames: what kafkajs sends to produce to both topics and consume, captured at a bare broker.
    const bare = await startKafkaBroker();
    const kafka = kafkaClient(bare.address);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'empire-announce', messages: [{ value: 'x' }] });
    await producer.send({ topic: 'deathstar-plans', messages: [{ value: 'y' }] });
    await producer.disconnect();
    const seeds = [...bare.frames, fetchV11(9, 'deathstar-plans', 0), fetchV11(9, 'empire-announce', 0), produceV7(3, 'deathstar-plans', 0)];
    await bare.close();
    assert.ok(seeds.length >= 6);

    // Upstream: records every byte per connection, answers nothing.
    const upBytes: Buffer[][] = [];
    const upSockets = new Set<net.Socket>();
    const upstream = net.createServer((s) => { const mine: Buffer[] = []; upBytes.push(mine); upSockets.add(s); s.on('data', (d) => mine.push(d)); s.on('error', () => undefined); });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upPort = (upstream.address() as net.AddressInfo).port;
    const h = await startHarness(EMPIRE_PRODUCE, { upstream: { host: '127.0.0.1', port: upPort }, maxFrameBytes: 1 << 16 });
    const matcher = compileKafkaRules([{ rules: EMPIRE_PRODUCE, origin: ORIGIN }]);

    const seed = 0x6b61666b;
    const rnd = mulberry32(seed);
    const int = (n: number) => Math.floor(rnd() * n);
    const mutate = (f: Buffer): Buffer => {
      const b = Buffer.from(f);
      switch (int(5)) {
        case 0: for (let i = 1 + int(4); i > 0; i--) b[int(b.length)] = int(256); return b;
        case 1: return b.subarray(0, int(b.length + 1));
        case 2: { const s = Buffer.from(b); s.writeInt32BE(b.length - 4 + int(9) - 4, 0); return s; }
        case 3: { const at = 4 + int(b.length - 4); return Buffer.concat([b.subarray(0, at), Buffer.from([int(256)]), b.subarray(at)]); }
        default: {
          // A topic name changed in place (empire-announce ↔ deathstar-plans share a length: 15).
          const s = b.toString('latin1');
          const i = s.indexOf('empire-announce');
          if (i >= 0) { b.write(rnd() < 0.5 ? 'deathstar-plans' : 'empire-announcf', i, 'latin1'); return b; }
          const j = s.indexOf('deathstar-plans');
          if (j >= 0) b.write('empire-announce', j, 'latin1');
          return b;
        }
      }
    };
    const CONNS = 150;
    const t0 = Date.now();
    for (let batch = 0; batch < CONNS; batch += 25) {
      await Promise.all(Array.from({ length: 25 }, async () => {
        const c = rawClient(h.port);
        const parts: Buffer[] = [];
        for (let k = 1 + int(4); k > 0; k--) { const f = seeds[int(seeds.length)]!; parts.push(rnd() < 0.8 ? mutate(f) : f); }
        c.sock.write(Buffer.concat(parts));
        await Promise.race([c.closed, new Promise((r) => setTimeout(r, 150))]);
        c.sock.destroy();
      }));
    }
    await new Promise((r) => setTimeout(r, 100));
    // Every forwarded byte stream is whole frames, each a request the rules allow, unchanged.
    let forwarded = 0;
    for (const conn of upBytes) {
      const dec = new KafkaFrameDecoder();
      for (const f of dec.push(Buffer.concat(conn))) {
        forwarded++;
        let facts;
        try { facts = decodeKafkaRequest(f); } catch (e) {
          const reason = (e as { reason?: string }).reason;
          assert.ok(reason === 'unsupported-key' || reason === 'unsupported-version', `seed ${seed}: forwarded an unparsable frame (${reason})`);
          facts = { apiKey: f.readInt16BE(4), apiVersion: f.readInt16BE(6), clientId: null as string | null, topics: [], allTopics: true };
          const n = f.readInt16BE(12);
          facts.clientId = n < 0 ? null : f.toString('utf8', 14, 14 + n);
        }
        assert.ok(matcher.match(facts).allowed, `seed ${seed}: forwarded a denied request ${JSON.stringify({ ...facts, body: undefined, topicData: undefined })}`);
      }
      assert.equal(dec.pending, 0, `seed ${seed}: part of a frame was forwarded`);
    }
    assert.ok(forwarded > 0, 'some allowed frames were forwarded');
    assert.ok(h.records.some((r) => r.verdict === 'denied'));
    assert.ok(h.records.some((r) => r.verdict === 'error'));
    assert.ok(Date.now() - t0 < 20_000);
    // Still serving: an allowed request reaches the upstream.
    const c = rawClient(h.port);
    const before = upBytes.length;
    c.sock.write(apiVersionsV2(77));
    await until('the upstream got the ApiVersions', () => upBytes.length > before && Buffer.concat(upBytes[upBytes.length - 1]!).length > 0, 5000, 10);
    c.sock.destroy();
    for (const s of upSockets) s.destroy();
    await h.close();
    await new Promise<void>((r) => upstream.close(() => r()));
  });
});
