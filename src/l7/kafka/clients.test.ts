/**
 * Real Kafka clients (kafkajs from npm, kcat = librdkafka from Debian)
 * against the protocol-exact test broker (test/lib/kafka-broker.ts), and
 * through a small in-test proxy that enforces Kafka rules with ./rules.ts and
 * ./wire.ts on 127.0.0.1: the acceptance shape (produce to
 * empire-announce succeeds, deathstar-plans gets the authorization error, on
 * the same connection), without the lab or the datapath.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startKafkaBroker, type KafkaTestBroker } from '../../../test/lib/kafka-broker.js';
import { kafkajsClient, kcat, NO_KCAT, produceAllowedDeniedAllowed } from '../../../test/lib/kafka-clients.js';
import { until } from '../../../test/lib/wait.js';
import { compileKafkaRules, type KafkaRuleSpec } from './rules.js';
import { ApiKey, KafkaFrameDecoder, buildDeniedResponse, decodeKafkaRequest, encodeKafkaRequest, type KafkaRequest } from './wire.js';

const ORIGIN = { kind: 'CiliumNetworkPolicy' as const, namespace: 'default', name: 'empire-kafka' };

function client(brokers: string, clientId = 'kafkajs-test') {
  return kafkajsClient(brokers, clientId);
}

/** One request the proxy saw. */
interface Decision { conn: number; apiKey: number; apiVersion: number; topics: string[]; allowed: boolean; correlationId: number }

/**
 * A minimal Kafka-aware proxy for the test: decodes each request frame with
 * wire.ts, asks the rules.ts matcher, forwards allowed frames unchanged to the
 * broker on the connection's own upstream, answers denied ones itself with
 * buildDeniedResponse, keeping responses in request order (a denied answer
 * waits for the upstream answers of earlier requests). A frame it cannot
 * decode closes that connection.
 */
async function startProxy(upstream: () => { host: string; port: number }, rules: KafkaRuleSpec[]) {
  const matcher = compileKafkaRules([{ rules, origin: ORIGIN }]);
  const decisions: Decision[] = [];
  const closedByProxy: number[] = [];
  const sockets = new Set<net.Socket>();
  let nextConn = 0;
  const server = net.createServer((down) => {
    const conn = ++nextConn;
    const up = net.connect(upstream());
    sockets.add(down); sockets.add(up);
    // Responses in request order: 'up' waits for the broker's next answer; a Buffer is ours.
    const queue: ('up' | Buffer)[] = [];
    const upFrames = new KafkaFrameDecoder();
    const flush = (fromUp: Buffer[]) => {
      for (;;) {
        const head = queue[0];
        if (head === undefined) break;
        if (head === 'up') { const f = fromUp.shift(); if (!f) break; down.write(f); } else down.write(head);
        queue.shift();
      }
      if (fromUp.length > 0) { closedByProxy.push(conn); down.destroy(); up.destroy(); }
    };
    const pendingUp: Buffer[] = [];
    up.on('data', (d) => { pendingUp.push(...upFrames.push(d)); flush(pendingUp); });
    const reqFrames = new KafkaFrameDecoder();
    down.on('data', (d) => {
      try {
        for (const frame of reqFrames.push(d)) {
          const req: KafkaRequest = decodeKafkaRequest(frame);
          const v = matcher.match(req);
          decisions.push({ conn, apiKey: req.apiKey, apiVersion: req.apiVersion, topics: req.topics, allowed: v.allowed, correlationId: req.correlationId });
          if (v.allowed) {
            if (!(req.apiKey === ApiKey.Produce && req.acks === 0)) queue.push('up');
            up.write(frame);
          } else {
            const resp = buildDeniedResponse(req);
            if (resp === null) throw new Error('acks=0 produce denied: close');
            queue.push(resp);
          }
        }
        flush(pendingUp);
      } catch {
        closedByProxy.push(conn);
        down.destroy(); up.destroy();
      }
    });
    const end = () => { down.destroy(); up.destroy(); sockets.delete(down); sockets.delete(up); };
    down.on('close', end); up.on('close', end);
    down.on('error', () => undefined); up.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port, address: `127.0.0.1:${port}`, decisions, closedByProxy,
    async close() { for (const s of sockets) s.destroy(); await new Promise<void>((r) => server.close(() => r())); },
  };
}

type Proxy = Awaited<ReturnType<typeof startProxy>>;

describe('kafkajs against the test broker', () => {
  let broker: KafkaTestBroker;
  before(async () => { broker = await startKafkaBroker(); });
  after(async () => { await broker.close(); });

  test('produces (acks -1, 1, 0) and consumes with a group consumer', async () => {
    const kafka = client(broker.address);
    const producer = kafka.producer();
    await producer.connect();
    const res = await producer.send({ topic: 'empire-announce', messages: [{ value: 'hello' }, { key: 'k', value: 'world' }] });
    assert.equal(res[0]!.errorCode, 0);
    await producer.send({ topic: 'empire-announce', acks: 1, messages: [{ value: 'third' }] });
    await producer.send({ topic: 'empire-announce', acks: 0, messages: [{ value: 'fourth' }] });
    // acks=0 has no response: wait until the broker has stored it.
    await until('the acks=0 record stored', () => broker.values('empire-announce').length === 4, 5000, 20);
    await producer.disconnect();
    assert.deepEqual(broker.values('empire-announce').map(String), ['hello', 'world', 'third', 'fourth']);

    const consumer = kafka.consumer({ groupId: 'g1', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'empire-announce', fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message }) => { got.push(String(message.value)); if (got.length === 4) resolve(); } }).catch(reject);
      setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(got)}`)), 15_000).unref();
    });
    await consumer.disconnect();
    assert.deepEqual(got, ['hello', 'world', 'third', 'fourth']);
    assert.deepEqual(broker.errors, []);
  });

  test('wire.ts decodes every request kafkajs sent and finds its topics', () => {
    const reqs = broker.frames.map((f) => decodeKafkaRequest(f));
    const keys = new Set(reqs.map((r) => r.apiKey));
    for (const k of [ApiKey.ApiVersions, ApiKey.Metadata, ApiKey.Produce, ApiKey.FindCoordinator, ApiKey.JoinGroup, ApiKey.SyncGroup, ApiKey.OffsetFetch, ApiKey.ListOffsets, ApiKey.Fetch]) {
      assert.ok(keys.has(k), `kafkajs sent API key ${k}`);
    }
    for (const r of reqs) {
      assert.equal(r.clientId, 'kafkajs-test');
      if ([ApiKey.Produce, ApiKey.Fetch, ApiKey.ListOffsets, ApiKey.OffsetCommit, ApiKey.OffsetFetch].includes(r.apiKey as 0)) {
        assert.deepEqual(r.topics, ['empire-announce'], `topics of ${r.apiKey} v${r.apiVersion}`);
      }
    }
    const produces = reqs.filter((r) => r.apiKey === ApiKey.Produce);
    assert.deepEqual(produces.map((r) => r.acks), [-1, 1, 0]);
    assert.ok(reqs.some((r) => r.apiKey === ApiKey.Metadata && r.topics.includes('empire-announce')));
  });
});

describe('kcat (librdkafka) against the test broker', { skip: NO_KCAT }, () => {
  let broker: KafkaTestBroker;
  before(async () => { broker = await startKafkaBroker(); });
  after(async () => { await broker.close(); });

  test('kcat -P produces and kcat -C consumes', async () => {
    const p = await kcat(['-b', broker.address, '-P', '-t', 'empire-announce'], 'one\ntwo\nthree\n');
    assert.equal(p.status, 0, p.stderr);
    assert.deepEqual(broker.values('empire-announce').map(String), ['one', 'two', 'three']);
    const c = await kcat(['-b', broker.address, '-C', '-t', 'empire-announce', '-o', 'beginning', '-e', '-q']);
    assert.equal(c.status, 0, c.stderr);
    assert.equal(c.stdout, 'one\ntwo\nthree\n');
    assert.deepEqual(broker.errors, []);
  });

  test('wire.ts decodes every request kcat sent (ApiVersions v3 flexible included) and finds its topics', () => {
    const reqs = broker.frames.map((f) => decodeKafkaRequest(f));
    assert.ok(reqs.some((r) => r.apiKey === ApiKey.ApiVersions && r.flexible), 'librdkafka speaks ApiVersions v3 (flexible header v2)');
    for (const k of [ApiKey.Metadata, ApiKey.Produce, ApiKey.ListOffsets, ApiKey.Fetch]) assert.ok(reqs.some((r) => r.apiKey === k), `kcat sent API key ${k}`);
    for (const r of reqs) {
      assert.equal(r.clientId, 'rdkafka');
      if (r.apiKey !== ApiKey.ApiVersions && !(r.apiKey === ApiKey.Metadata && r.topics.length === 0)) assert.deepEqual(r.topics, ['empire-announce'], `topics of ${r.apiKey} v${r.apiVersion}`);
    }
  });
});

describe('a Kafka policy in a proxy in front of the broker (acceptance shape)', () => {
  let broker: KafkaTestBroker;
  let proxy: Proxy;
  const setup = async (rules: KafkaRuleSpec[]) => {
    let proxyPort = 0;
    broker = await startKafkaBroker({ advertise: () => ({ host: '127.0.0.1', port: proxyPort }) });
    proxy = await startProxy(() => ({ host: broker.host, port: broker.port }), rules);
    proxyPort = proxy.port;
  };
  const teardown = async () => { await proxy.close(); await broker.close(); };

  const kafkajsBoth = async () => {
    await produceAllowedDeniedAllowed(client(proxy.address), 'the emperor arrives', 'again');
    assert.deepEqual(broker.values('empire-announce').map(String), ['the emperor arrives', 'again']);
    assert.deepEqual(broker.values('deathstar-plans'), []);
    // One client connection carried the allowed produce and the denied request.
    const conns = new Set(proxy.decisions.filter((d) => d.apiKey === ApiKey.Produce && d.allowed && d.topics[0] === 'empire-announce').map((d) => d.conn));
    const denied = proxy.decisions.filter((d) => !d.allowed);
    assert.ok(denied.length > 0 && denied.every((d) => d.topics.includes('deathstar-plans')));
    assert.ok(denied.some((d) => conns.has(d.conn)), 'the denial came on the connection that produced to empire-announce');
    assert.deepEqual(proxy.closedByProxy, []);
    assert.deepEqual(broker.errors, []);
    return denied;
  };

  describe('pipelined requests on one connection', () => {
    before(() => setup([{ role: 'consume', topic: 'empire-announce' }, { role: 'produce', topic: 'empire-announce' }]));
    after(teardown);
    test('a denied answer waits for the upstream answers of earlier requests; a frame wire.ts refuses closes only that connection', async () => {
      broker.createTopic('empire-announce');
      const fetch = encodeKafkaRequest(ApiKey.Fetch, 11, 1, 'raw', (w, flex) => {
        w.i32(-1).i32(300).i32(1).i32(1 << 20).i8(0).i32(0).i32(-1);
        w.arr(['empire-announce'], flex, (w, t) => { w.str(t, flex).arr([0], flex, (w, p) => { w.i32(p).i32(-1).i64(0).i64(-1).i32(1 << 20); }); });
        w.arr([], flex, () => undefined).str('', flex);
      });
      const produce = encodeKafkaRequest(ApiKey.Produce, 7, 2, 'raw', (w, flex) => {
        w.nstr(null, flex).i16(1).i32(1000).arr(['deathstar-plans'], flex, (w, t) => { w.str(t, flex).arr([0], flex, (w, p) => { w.i32(p).nbytes(null, flex); }); });
      });
      const other = net.connect(proxy.port, '127.0.0.1');
      const sock = net.connect(proxy.port, '127.0.0.1');
      const got: Buffer[] = [];
      const frames = new KafkaFrameDecoder();
      sock.on('data', (d) => got.push(...frames.push(d)));
      // One segment: a long-polling Fetch (allowed, 300 ms at the broker) then a denied Produce.
      const t0 = Date.now();
      sock.write(Buffer.concat([fetch, produce]));
      await until('both answers', () => got.length === 2, 5000, 10);
      assert.deepEqual(got.map((f) => f.readInt32BE(4)), [1, 2], 'answers in request order');
      assert.ok(Date.now() - t0 >= 250, 'the denied answer waited for the long-polling Fetch');
      const denied = got[1]!;
      // Produce v7 response: [topic] → name, [partition] → index, error 29.
      assert.equal(denied.readInt16BE(8 + 4 + 2 + 'deathstar-plans'.length + 4 + 4), 29);
      // Garbage on one connection: the proxy closes it; the other connection keeps working.
      const closed = new Promise<void>((r) => sock.on('close', () => r()));
      sock.write(Buffer.concat([Buffer.from([0, 0, 0, 12]), Buffer.from('not a kafka!')]));
      await closed;
      const ok: Buffer[] = [];
      const f2 = new KafkaFrameDecoder();
      other.on('data', (d) => ok.push(...f2.push(d)));
      other.write(encodeKafkaRequest(ApiKey.ApiVersions, 2, 9, 'raw', () => undefined));
      await until('the other connection answered', () => ok.length === 1, 5000, 10);
      assert.equal(ok[0]!.readInt32BE(4), 9);
      other.destroy();
      assert.equal(proxy.closedByProxy.length, 1);
    });
  });

  describe('role produce, topic empire-announce (the issue\'s policy)', () => {
    before(() => setup([{ role: 'produce', topic: 'empire-announce' }]));
    after(teardown);
    test('kafkajs: empire-announce produced, deathstar-plans TOPIC_AUTHORIZATION_FAILED (denied at its Metadata), same connection', async () => {
      const denied = await kafkajsBoth();
      assert.ok(denied.every((d) => d.apiKey === ApiKey.Metadata));
    });
    test('kcat: -P to empire-announce succeeds; to deathstar-plans reports the authorization error, answered in-band', { skip: NO_KCAT }, async () => {
      const before = proxy.decisions.length;
      const ok = await kcat(['-b', proxy.address, '-P', '-t', 'empire-announce'], 'from kcat\n');
      assert.equal(ok.status, 0, ok.stderr);
      assert.ok(broker.values('empire-announce').map(String).includes('from kcat'));
      const bad = await kcat(['-b', proxy.address, '-P', '-t', 'deathstar-plans', '-X', 'message.timeout.ms=3000'], 'plans\n');
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /[Tt]opic authorization failed/);
      assert.deepEqual(broker.values('deathstar-plans'), []);
      assert.ok(proxy.decisions.slice(before).some((d) => !d.allowed && d.topics.includes('deathstar-plans')));
      assert.deepEqual(proxy.closedByProxy, []);
    });
  });

  describe('apiKey rules: Metadata for every topic, Produce only to empire-announce (a denied Produce)', () => {
    before(() => setup([{ apiKey: 'apiversions' }, { apiKey: 'metadata' }, { apiKey: 'produce', topic: 'empire-announce' }]));
    after(teardown);
    test('kafkajs: the Produce to deathstar-plans gets wire.ts\'s Produce response with TOPIC_AUTHORIZATION_FAILED', async () => {
      const denied = await kafkajsBoth();
      assert.ok(denied.every((d) => d.apiKey === ApiKey.Produce));
    });
    test('kcat: the Produce v7 to deathstar-plans gets the authorization error', { skip: NO_KCAT }, async () => {
      const bad = await kcat(['-b', proxy.address, '-P', '-t', 'deathstar-plans', '-X', 'message.timeout.ms=3000'], 'plans\n');
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /[Tt]opic authorization failed/);
      assert.ok(proxy.decisions.some((d) => !d.allowed && d.apiKey === ApiKey.Produce && d.topics.includes('deathstar-plans')));
      assert.deepEqual(broker.values('deathstar-plans'), []);
      assert.deepEqual(proxy.closedByProxy, []);
    });
  });
});
