import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import dnsPacket from 'dns-packet';
import { DnsWireError } from '../../common/errors.js';
import { mulberry32 } from '../../../test/lib/rng.js';
import {
  buildRefusal, decodeDnsMessage, decodeName, DNS_RCODE, DNS_TYPE, DnsTcpDecoder, encodeDnsMessage, encodeName,
  frameTcp, queryProblem, type DnsMessage, type DnsRecord,
} from './wire.js';

const WIRE_MODULE = new URL('./wire.js', import.meta.url).href;

/** A standard query for `name`, as `dig` sends one (RD set, one question, class IN). */
function query(name: string, type: number = DNS_TYPE.A, id = 0x1234): DnsMessage {
  return {
    header: { id, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, z: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name, type, class: 1 }], answers: [], authorities: [], additionals: [],
  };
}

/** Header + one question whose name is given as raw bytes (type A, class IN). */
function rawQuery(nameBytes: number[], extra: number[] = []): Uint8Array {
  return Uint8Array.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...nameBytes, 0, 1, 0, 1, ...extra]);
}

const label = (s: string) => [s.length, ...Buffer.from(s, 'latin1')];

/**
 * Runs the decoder over each input in a worker thread and reports, per input,
 * `ok` or the thrown error's class and reason. The worker is ended after
 * `ms`: a hang fails the test instead of blocking the run.
 */
async function decodeBounded(inputs: Uint8Array[], ms: number): Promise<string[]> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.mod).then(({ decodeDnsMessage }) => {
      const out = workerData.inputs.map((b) => {
        try { decodeDnsMessage(b); return 'ok'; }
        catch (e) { return (e && e.constructor && e.constructor.name) + ':' + (e && e.reason) + ':' + (e && e.message); }
      });
      parentPort.postMessage(out);
    });`;
  const w = new Worker(code, { eval: true, workerData: { mod: WIRE_MODULE, inputs } });
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`decoder did not finish ${inputs.length} inputs within ${ms} ms`)), ms);
      w.once('message', (m: string[]) => { clearTimeout(timer); resolve(m); });
      w.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
  } finally {
    await w.terminate();
  }
}

// ---- round trips ----

/** An answer like a resolver gives for a name behind a CNAME chain: CNAME, CNAME, two A; AAAA in another answer. */
function chainAnswer(): DnsMessage {
  const rec = (name: string, ttl: number, data: DnsRecord['data'], type: number): DnsRecord => ({ name, type, class: 1, ttl, data });
  return {
    header: { id: 0xbeef, qr: true, opcode: 0, aa: false, tc: false, rd: true, ra: true, z: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name: 'www.example.test.', type: DNS_TYPE.A, class: 1 }],
    answers: [
      rec('www.example.test.', 300, { kind: 'CNAME', target: 'edge.cdn.example.test.' }, DNS_TYPE.CNAME),
      rec('edge.cdn.example.test.', 60, { kind: 'CNAME', target: 'pop1.cdn.example.test.' }, DNS_TYPE.CNAME),
      rec('pop1.cdn.example.test.', 30, { kind: 'A', address: '192.0.2.10' }, DNS_TYPE.A),
      rec('pop1.cdn.example.test.', 30, { kind: 'A', address: '192.0.2.11' }, DNS_TYPE.A),
      rec('pop1.cdn.example.test.', 30, { kind: 'AAAA', address: '2001:db8::a' }, DNS_TYPE.AAAA),
    ],
    authorities: [rec('example.test.', 3600, { kind: 'opaque', rdata: Uint8Array.from([3, 0x61, 0x62, 0x63]) }, DNS_TYPE.TXT)],
    additionals: [],
  };
}

test('an answer with a CNAME chain, A and AAAA records encodes and decodes to itself', () => {
  const m = chainAnswer();
  const bytes = encodeDnsMessage(m);
  assert.deepEqual(decodeDnsMessage(bytes), m);
});

test('dns-packet (an independent implementation) reads what we encode, and we read what it encodes', () => {
  const ours = encodeDnsMessage(chainAnswer());
  const theirs = dnsPacket.decode(Buffer.from(ours));
  assert.equal(theirs.id, 0xbeef);
  assert.deepEqual(theirs.answers!.map((a) => [a.name, a.type, (a as { data: unknown }).data, (a as { ttl: number }).ttl]), [
    ['www.example.test', 'CNAME', 'edge.cdn.example.test', 300],
    ['edge.cdn.example.test', 'CNAME', 'pop1.cdn.example.test', 60],
    ['pop1.cdn.example.test', 'A', '192.0.2.10', 30],
    ['pop1.cdn.example.test', 'A', '192.0.2.11', 30],
    ['pop1.cdn.example.test', 'AAAA', '2001:db8::a', 30],
  ]);
  const back = decodeDnsMessage(dnsPacket.encode({
    type: 'response', id: 7, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: 'AAAA', name: 'api.example.test' }],
    answers: [
      { type: 'CNAME', name: 'api.example.test', ttl: 5, data: 'v6only.example.test' },
      { type: 'AAAA', name: 'v6only.example.test', ttl: 5, data: '2001:db8:0:0:1:0:0:1' },
      { type: 'MX', name: 'example.test', ttl: 9, data: { preference: 10, exchange: 'mail.example.test' } },
    ],
  }));
  assert.equal(back.header.id, 7);
  assert.equal(back.header.qr, true);
  assert.equal(back.header.rd && back.header.ra, true);
  assert.deepEqual(back.questions, [{ name: 'api.example.test.', type: DNS_TYPE.AAAA, class: 1 }]);
  assert.deepEqual(back.answers.map((a) => a.data.kind === 'opaque' ? ['opaque', a.type] : a.data), [
    { kind: 'CNAME', target: 'v6only.example.test.' },
    { kind: 'AAAA', address: '2001:db8::1:0:0:1' },
    ['opaque', DNS_TYPE.MX],
  ]);
});

test('a compressed answer (owner names and a CNAME target as pointers, as resolvers send them) decodes', () => {
  // Question www.example.test at 12; answer 1: CNAME www -> edge + pointer to example.test (offset 16);
  // answer 2: A for the CNAME target (pointer into answer 1's RDATA).
  const q = [...label('www'), ...label('example'), ...label('test'), 0];
  const header = [0xab, 0xcd, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
  const question = [...q, 0, 1, 0, 1];
  const a1Start = 12 + question.length;
  const cnameRdata = [...label('edge'), 0xc0, 16];
  const a1 = [0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, cnameRdata.length, ...cnameRdata];
  const targetAt = a1Start + 12;
  const a2 = [0xc0, targetAt, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 7];
  const m = decodeDnsMessage(Uint8Array.from([...header, ...question, ...a1, ...a2]));
  assert.deepEqual(m.header, { id: 0xabcd, qr: true, opcode: 0, aa: false, tc: false, rd: true, ra: true, z: false, ad: false, cd: false, rcode: 0 });
  assert.deepEqual(m.answers.map((r) => [r.name, r.ttl, r.data]), [
    ['www.example.test.', 3600, { kind: 'CNAME', target: 'edge.example.test.' }],
    ['edge.example.test.', 60, { kind: 'A', address: '198.51.100.7' }],
  ]);
});

test('label bytes that are not plain characters are escaped: a dot in a label never reads as two labels', () => {
  const m = decodeDnsMessage(rawQuery([...label('a.b'), ...label('test'), 0]));
  assert.equal(m.questions[0]!.name, 'a\\.b.test.');
  const odd = decodeDnsMessage(rawQuery([4, 0x41, 0x20, 0x00, 0xff, ...label('Test'), 0]));
  assert.equal(odd.questions[0]!.name, 'A\\032\\000\\255.Test.');
  const quoted = decodeDnsMessage(rawQuery([...label('x\\"();@\''), 0]));
  assert.equal(quoted.questions[0]!.name, 'x\\\\\\"\\(\\)\\;\\@\\\'.');
  // And back: the escapes encode to the same bytes.
  assert.deepEqual([...encodeName('a\\.b.test.')], [...label('a.b'), ...label('test'), 0]);
  assert.deepEqual([...encodeName('A\\032\\000\\255.Test')], [4, 0x41, 0x20, 0x00, 0xff, ...label('Test'), 0]);
  assert.deepEqual([...encodeName('.')], [0]);
  assert.equal(decodeDnsMessage(rawQuery([0])).questions[0]!.name, '.');
});

test('encodeName refuses empty labels, labels over 63 and names over 255 octets with a typed error', () => {
  const reason = (n: string) => { try { encodeName(n); return 'ok'; } catch (e) { assert.ok(e instanceof DnsWireError); return e.reason; } };
  assert.equal(reason('a..b'), 'bad-name');
  assert.equal(reason(`${'a'.repeat(64)}.test`), 'label-too-long');
  assert.equal(reason(`${'a'.repeat(63)}.`.repeat(4)), 'name-too-long'); // 4 × 64 + 1 = 257 octets
  assert.equal(reason(`${'a'.repeat(63)}.`.repeat(3) + 'a'.repeat(61)), 'ok'); // 255 octets
  assert.equal(reason('a b.test'), 'bad-name');
  assert.equal(reason('a\\999.test'), 'bad-name');
  assert.equal(reason('trailing\\'), 'bad-name');
});

// ---- the refusal ----

test('buildRefusal: same id and question, QR set, RD and CD copied, RA set, REFUSED, no records; dns-packet reads it', () => {
  const q = query('evil.test.', DNS_TYPE.AAAA, 0x4242);
  q.header.cd = true;
  q.additionals = [{ name: '.', type: DNS_TYPE.OPT, class: 1232, ttl: 0, data: { kind: 'opaque', rdata: new Uint8Array(0) } }];
  const r = buildRefusal(decodeDnsMessage(encodeDnsMessage(q)));
  assert.deepEqual(r.header, { id: 0x4242, qr: true, opcode: 0, aa: false, tc: false, rd: true, ra: true, z: false, ad: false, cd: true, rcode: DNS_RCODE.REFUSED });
  assert.deepEqual(r.questions, [{ name: 'evil.test.', type: DNS_TYPE.AAAA, class: 1 }]);
  assert.equal(r.answers.length + r.authorities.length + r.additionals.length, 0);
  const wire = encodeDnsMessage(r);
  const theirs = dnsPacket.decode(Buffer.from(wire));
  assert.equal(theirs.id, 0x4242);
  assert.equal(theirs.type, 'response');
  assert.equal(theirs.flags! & 0xf, DNS_RCODE.REFUSED);
  assert.equal(theirs.flag_rd, true);
  assert.deepEqual(theirs.questions, [{ name: 'evil.test', type: 'AAAA', class: 'IN' }]);
  // Cilium's own (miekg SetRcode) leaves RA clear; NXDOMAIN is its nameError option.
  const cilium = buildRefusal(q, { recursionAvailable: false, rcode: DNS_RCODE.NXDOMAIN });
  assert.equal(cilium.header.ra, false);
  assert.equal(cilium.header.rcode, 3);
  const noRd = query('x.test.');
  noRd.header.rd = false;
  assert.equal(buildRefusal(noRd).header.rd, false);
});

test('queryProblem: a response, another opcode, or other than one question is no query to decide on', () => {
  assert.equal(queryProblem(query('a.test.')), undefined);
  const resp = query('a.test.'); resp.header.qr = true;
  assert.equal(queryProblem(resp)!.rcode, DNS_RCODE.FORMERR);
  const notify = query('a.test.'); notify.header.opcode = 4;
  assert.equal(queryProblem(notify)!.rcode, DNS_RCODE.NOTIMP);
  const two = query('a.test.'); two.questions.push({ name: 'b.test.', type: 1, class: 1 });
  assert.match(queryProblem(two)!.reason, /2 questions/);
  const none = query('a.test.'); none.questions = [];
  assert.equal(queryProblem(none)!.rcode, DNS_RCODE.FORMERR);
});

// ---- bad input ----

test('malformed messages are refused with DnsWireError, each within a time bound (never a hang)', async () => {
  const cases: [string, Uint8Array, string][] = [
    ['zero-length message', new Uint8Array(0), 'short-header'],
    ['11-byte header', new Uint8Array(11), 'short-header'],
    ['pointer to itself', rawQuery([0xc0, 12]), 'bad-pointer'],
    ['forward pointer', rawQuery([0xc0, 20]), 'bad-pointer'],
    ['loop: label then pointer back to that label', rawQuery([...label('a'), 0xc0, 12]), 'bad-pointer'],
    ['two pointers pointing at each other', Uint8Array.from([0x12, 0x34, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0xc0, 18, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1]), 'bad-pointer'],
    ['pointer cut short', rawQuery([0xc0]).subarray(0, 13), 'truncated'],
    ['truncated label', Uint8Array.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0x61, 0x62]), 'truncated'],
    ['name without its root label', Uint8Array.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...label('abc')]), 'truncated'],
    ['question without type and class', Uint8Array.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...label('abc'), 0, 0, 1]), 'truncated'],
    ['label of 64 (type bits 01)', rawQuery([0x40, ...new Array(64).fill(0x61), 0]), 'bad-label-type'],
    ['label type 10', rawQuery([0x80, 0]), 'bad-label-type'],
    ['name of 256 octets', rawQuery([...new Array(4).fill(label('a'.repeat(63))).flat(), 0]), 'name-too-long'],
    ['name over 255 octets through pointers', (() => {
      // Two questions: the second adds 4 labels of 63 before a pointer to the first (a 2-label name).
      const first = [...label('a'.repeat(10)), ...label('b'), 0];
      const second = [...new Array(4).fill(label('c'.repeat(63))).flat(), 0xc0, 12];
      return Uint8Array.from([0x12, 0x34, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, ...first, 0, 1, 0, 1, ...second, 0, 1, 0, 1]);
    })(), 'name-too-long'],
    ['more questions than present', Uint8Array.from([0x12, 0x34, 1, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]), 'truncated'],
    ['record RDATA longer than the message', Uint8Array.from([0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 10, 0, 200, 1, 2, 3, 4]), 'truncated'],
    ['A record of 5 bytes', Uint8Array.from([0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 10, 0, 5, 1, 2, 3, 4, 5]), 'bad-rdata'],
    ['AAAA record of 4 bytes', Uint8Array.from([0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 28, 0, 1, 0, 0, 0, 10, 0, 4, 1, 2, 3, 4]), 'bad-rdata'],
    ['CNAME whose name runs past its RDATA', Uint8Array.from([0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0, 1, 0, 0, 0, 10, 0, 3, ...label('abc'), 0]), 'truncated'],
    ['CNAME with bytes after its name', Uint8Array.from([0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0, 1, 0, 0, 0, 10, 0, 3, 0, 9, 9]), 'bad-rdata'],
    ['garbage text', new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'truncated'],
  ];
  const got = await decodeBounded(cases.map(([, b]) => b), 5000);
  cases.forEach(([what, , reason], i) => {
    assert.match(got[i]!, new RegExp(`^DnsWireError:${reason}:decode DNS message: `), `${what}: ${got[i]}`);
  });
  // And in this thread: the error is a DnsWireError with code and offset.
  assert.throws(() => decodeDnsMessage(rawQuery([0xc0, 12])), (e: unknown) => e instanceof DnsWireError && e.code === 'BL_ERR_DNS_WIRE' && e.offset === 12);
});

test('a chain of 127 pointers is refused (too-many-pointers); 126 are followed', () => {
  const build = (n: number) => {
    // The root label at 12, then n pointers, each to the one before it.
    const out = [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
    let prev = 12;
    for (let i = 0; i < n; i++) { const at = out.length; out.push(0xc0 | (prev >> 8), prev & 0xff); prev = at; }
    return { buf: Uint8Array.from(out), last: prev };
  };
  const ok = build(126);
  assert.deepEqual(decodeName(ok.buf, ok.last), { name: '.', end: ok.last + 2 });
  const bad = build(127);
  assert.throws(() => decodeName(bad.buf, bad.last), (e: unknown) => e instanceof DnsWireError && e.reason === 'too-many-pointers');
});

// ---- fuzz ----

const prng = mulberry32;

function fuzzInputs(seed: number, count: number): Uint8Array[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const seeds = [encodeDnsMessage(chainAnswer()), encodeDnsMessage(query('api.example.test.')), encodeDnsMessage(buildRefusal(query('evil.test.')))];
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 4 === 0) {
      const b = new Uint8Array(int(80));
      for (let j = 0; j < b.length; j++) b[j] = int(256);
      // Plausible counts make the decoder go past the header.
      if (b.length >= 12) { b[4] = 0; b[5] = int(3); b[6] = 0; b[7] = int(4); }
      out.push(b);
      continue;
    }
    const b = Uint8Array.from(seeds[int(seeds.length)]!);
    const edits = 1 + int(4);
    let m = b;
    for (let e = 0; e < edits; e++) {
      const at = int(m.length);
      switch (int(5)) {
        case 0: m[at] = m[at]! ^ (1 << int(8)); break; // bit flip
        case 1: m[at] = int(256); break; // byte
        case 2: m = m.subarray(0, at); break; // truncate
        case 3: if (at + 1 < m.length) { m[at] = 0xc0 | int(4); m[at + 1] = int(256); } break; // a pointer anywhere
        default: { const n = new Uint8Array(m.length + 1); n.set(m.subarray(0, at)); n[at] = int(256); n.set(m.subarray(at), at + 1); m = n; } // insert
      }
    }
    out.push(m);
  }
  return out;
}

test('fuzz: 10,000 random and mutated messages, seeded: only DnsWireError, no hang', async () => {
  const inputs = fuzzInputs(0x5eed, 10_000);
  const got = await decodeBounded(inputs, 30_000);
  const other = got.filter((r) => r !== 'ok' && !r.startsWith('DnsWireError:'));
  assert.deepEqual(other.slice(0, 5), [], `${other.length} inputs threw something other than DnsWireError`);
  const ok = got.filter((r) => r === 'ok').length;
  // Both paths are exercised: some mutants still decode, most do not.
  assert.ok(ok > 100 && ok < 9_900, `${ok} of 10000 decoded`);
});

test('fuzz property: whatever decodes re-encodes (uncompressed) and decodes to the same message', () => {
  let checked = 0;
  for (const b of fuzzInputs(0xfeed, 3000)) {
    let m: DnsMessage;
    try { m = decodeDnsMessage(b); } catch (e) { assert.ok(e instanceof DnsWireError); continue; }
    let again: Uint8Array;
    try { again = encodeDnsMessage(m); } catch (e) {
      // Decompressing can make a message longer than 64 KiB; that is the only way encoding may fail.
      assert.ok(e instanceof DnsWireError && e.reason === 'bad-length', String(e));
      continue;
    }
    assert.deepEqual(decodeDnsMessage(again), m);
    checked++;
  }
  assert.ok(checked > 50, `${checked} round trips`);
});

// ---- DNS over TCP ----

test('DNS over TCP: one message split across segments byte by byte, and several in one segment', () => {
  const a = encodeDnsMessage(query('a.example.test.', DNS_TYPE.A, 1));
  const b = encodeDnsMessage(chainAnswer());
  const c = encodeDnsMessage(query('c.example.test.', DNS_TYPE.AAAA, 3));
  const stream = Uint8Array.from([...frameTcp(a), ...frameTcp(b), ...frameTcp(c)]);
  const d = new DnsTcpDecoder();
  const got: Uint8Array[] = [];
  for (const byte of stream) got.push(...d.push(Uint8Array.of(byte)));
  assert.deepEqual(got.map((m) => decodeDnsMessage(m).header.id), [1, 0xbeef, 3]);
  assert.equal(d.pending, 0);
  // All three in one segment.
  const one = new DnsTcpDecoder().push(stream);
  assert.deepEqual(one.map((m) => [...m]), [[...a], [...b], [...c]]);
  // Uneven cuts, including one inside a length prefix.
  const d2 = new DnsTcpDecoder();
  const cuts = [1, a.length + 3, a.length + b.length + 3, stream.length - 1];
  let prev = 0;
  const got2: Uint8Array[] = [];
  for (const cut of [...cuts, stream.length]) { got2.push(...d2.push(stream.subarray(prev, cut))); prev = cut; }
  assert.deepEqual(got2.map((m) => [...m]), [[...a], [...b], [...c]]);
  // A partial message stays pending.
  const d3 = new DnsTcpDecoder();
  assert.deepEqual(d3.push(frameTcp(a).subarray(0, 7)), []);
  assert.equal(d3.pending, 7);
});

test('DNS over TCP: a frame length below a header or above the limit is a DnsWireError and the stream stays failed', () => {
  const d = new DnsTcpDecoder();
  assert.throws(() => d.push(Uint8Array.of(0, 0)), (e: unknown) => e instanceof DnsWireError && e.reason === 'bad-length');
  assert.throws(() => d.push(frameTcp(encodeDnsMessage(query('a.test.')))), DnsWireError);
  const small = new DnsTcpDecoder(512);
  const big = encodeDnsMessage({ ...chainAnswer(), additionals: [{ name: '.', type: 16, class: 1, ttl: 0, data: { kind: 'opaque', rdata: new Uint8Array(600) } }] });
  assert.throws(() => small.push(frameTcp(big).subarray(0, 2)), /frame length \d+ \(a message is 12\.\.512 bytes\)/);
  assert.throws(() => frameTcp(new Uint8Array(70_000)), (e: unknown) => e instanceof DnsWireError && e.reason === 'frame-too-large');
});
