/**
 * Issue 12's "Bad input" acceptance against the REAL node proxy (HAProxy,
 * one supervised process per node) on a 2-node lab with Cilium's Star Wars
 * demo applied unchanged (its L7 policy: only `POST /v1/request-landing`).
 * The client is a raw-socket client inside the tiefighter pod
 * (test/lib/pod-http-client.ts), so every request goes through the
 * datapath's redirection to the deathstar's node proxy. Sent: malformed
 * request lines, the smuggling suite (CL.TE, TE.CL, TE.TE variants; each
 * hiding a `PUT /v1/exhaust-port`, test/lib/http-probes.ts), oversized
 * headers, invalid header bytes, a slowloris client, a server that never
 * answers, and 300 generated request heads (seeded). For each: the proxy
 * answers with a 4xx/5xx or closes that one connection, an allowed request on
 * a new connection right after succeeds, the proxy's master and worker keep
 * their pids, and no request the policy denies reaches the server: the
 * deathstar logs every request it served (`beeline logs`), and
 * PUT /v1/exhaust-port would make it panic and restart; the proxy's L7 flows
 * (`observe --protocol http`) record every 403 as a DROPPED request and
 * forward no request but the allowed one.
 * Root; run under `flock /tmp/beeline-heavy.lock`. About 2 minutes (the
 * never-answering server is given `timeout server` of the generated config).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beeline } from '../lib/cli.js';
import { empirePods, starWarsLab } from '../lib/starwars.js';
import { until } from '../lib/wait.js';
import { mulberry32 } from '../lib/rng.js';
import { PodHttpClient, type BatchCase, type BatchResult } from '../lib/pod-http.js';
import { SMUGGLED, landing, smugglingProbes } from '../lib/http-probes.js';
import { labDir } from '../../src/lab/state.js';

const LAB = 'l7bad';
const env = { BEELINE_LAB: LAB };
const HOST = 'Host: deathstar\r\n';
/** The one request the Star Wars L7 policy allows. */
const ALLOWED = landing('Content-Length: 0\r\n', '');

/**
 * A server that accepts and never answers (a busybox pod runs the host's
 * node), with an L7 policy of its own allowing `GET /wait` from the empire:
 * the allowed request is forwarded and waits for `timeout server`.
 */
const BLACKHOLE = `apiVersion: v1
kind: Pod
metadata: {name: blackhole, namespace: empire, labels: {org: empire, class: blackhole}}
spec:
  containers:
  - name: c
    image: busybox
    command: ${JSON.stringify([process.execPath, '-e', "require('net').createServer((s) => s.on('data', (d) => process.stdout.write(d.toString('latin1').split('\\r\\n')[0] + '\\n')).on('error', () => {})).listen(80)"])}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: blackhole-l7, namespace: empire}
spec:
  endpointSelector: {matchLabels: {class: blackhole}}
  ingress:
  - fromEndpoints: [{matchLabels: {org: empire}}]
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules:
        http: [{method: GET, path: /wait}]
`;

const pods = () => empirePods(env);

/** The master and worker pids of each node's proxy (pid file; the worker: the master's children). */
function proxyPids(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const node of ['node1', 'node2']) {
    const master = readFileSync(join(labDir(LAB), 'nodes', node, 'proxy.pid'), 'utf8').trim();
    let workers = '';
    try {
      workers = readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim();
    } catch {
      workers = 'gone';
    }
    out[node] = `${master}:${workers}`;
  }
  return out;
}

/** A timeout of the generated configuration, ms. */
function configTimeoutMs(node: string, name: string): number {
  const cfg = readFileSync(join(labDir(LAB), 'nodes', node, 'proxy', 'haproxy.cfg'), 'utf8');
  // The defaults section's (the records ring has timeouts of its own).
  const defaults = /^defaults\n((?:[ \t].*\n|\n)*)/m.exec(cfg)?.[1] ?? '';
  const m = new RegExp(`^\\s*timeout ${name} (\\d+)(ms|s|m)?$`, 'm').exec(defaults);
  assert.ok(m, `timeout ${name} in the defaults of ${node}'s haproxy.cfg`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
}

/** Every request line the deathstars logged (served requests: `IP "METHOD URL" STATUS`). */
function deathstarRequests(): string[] {
  const out: string[] = [];
  for (const p of pods().filter((x) => x.name.startsWith('deathstar-'))) {
    for (const prev of [false, true]) {
      const r = beeline(['logs', '-n', 'empire', p.name, ...(prev ? ['-p'] : [])], env);
      if (r.code !== 0) continue;
      for (const l of r.stdout.split('\n')) if (/ "[^"]*" \d+$/.test(l)) out.push(`${p.name}: ${l}`);
    }
  }
  return out;
}

interface JsonFlow {
  verdict?: string;
  l4?: { TCP?: { source_port?: number; destination_port?: number } };
  IP?: { source?: string; destination?: string };
  l7?: { type?: string; http?: { method?: string; url?: string; code?: number } };
}
/** The L7 HTTP flows of the lab (both nodes, through the relay). */
function httpFlows(): JsonFlow[] {
  const r = beeline(['observe', '--protocol', 'http', '--last', '20000', '-o', 'json'], env);
  assert.equal(r.code, 0, `observe: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { flow?: JsonFlow }).flow).filter((f): f is JsonFlow => !!f);
}

const allowedCase = (name: string): BatchCase => ({ name: `${name} / allowed after`, steps: [ALLOWED], waitMs: 3000, lingerMs: 0 });
const is2xx = (s: number) => s >= 200 && s < 300;

test('the node proxy under bad input: refuses or closes that connection, serves everyone else, never lets a denied request through', { timeout: 420_000 }, async (t) => {
  t.after(() => { if (!process.env.BEELINE_KEEP_LAB) beeline(['lab', 'down', '--name', LAB, '-q']); });
  const all = await starWarsLab(LAB, BLACKHOLE);
  const tie = all.find((p) => p.name === 'tiefighter')!;
  const deathstars = all.filter((p) => p.name.startsWith('deathstar-'));
  // The deathstar on the other node if there is one: the connection crosses the fabric.
  const target = deathstars.find((p) => p.node !== tie.node) ?? deathstars[0]!;
  const blackhole = all.find((p) => p.name === 'blackhole')!;
  t.diagnostic(`tiefighter ${tie.ip} on ${tie.node}; target deathstar ${target.name} ${target.ip} on ${target.node}; blackhole ${blackhole.ip} on ${blackhole.node}`);
  const client = new PodHttpClient(LAB, 'empire', 'tiefighter');
  const slowClient = new PodHttpClient(LAB, 'empire', 'tiefighter');
  const hangClient = new PodHttpClient(LAB, 'empire', 'tiefighter');
  t.after(() => Promise.all([client.close(), slowClient.close(), hangClient.close()]));

  // The L7 policy in force on both: the PUT answered 403 by the proxy, the POST landing.
  await until('the L7 policy enforced at the deathstar and the blackhole', async () => {
    const [a, d] = await client.batch(target.ip, 80, [{ name: 'a', steps: [ALLOWED], waitMs: 2000 }, { name: 'd', steps: [SMUGGLED], waitMs: 2000 }]);
    const [b] = await client.batch(blackhole.ip, 80, [{ name: 'b', steps: [`GET /other HTTP/1.1\r\nHost: blackhole\r\n\r\n`], waitMs: 2000 }]);
    return a!.statuses[0] === 200 && d!.statuses[0] === 403 && b!.statuses[0] === 403;
  }, 60_000, 500);
  const pids0 = proxyPids();
  t.diagnostic(`proxy master:worker pids ${JSON.stringify(pids0)}`);

  // Timeouts from the generated configuration (not changed for the test): the slowloris and the
  // never-answering server run in the background from here while the other cases run.
  const httpRequestMs = configTimeoutMs(target.node, 'http-request');
  const serverMs = configTimeoutMs(blackhole.node, 'server');
  t.diagnostic(`timeout http-request ${httpRequestMs} ms (${target.node}), timeout server ${serverMs} ms (${blackhole.node})`);
  // slowloris: an allowed request's head, one header line a second, never finished.
  const slowSteps = [`POST /v1/request-landing HTTP/1.1\r\n${HOST}`, ...Array.from({ length: Math.ceil(httpRequestMs / 1000) + 10 }, (_, i) => `X-Slow-${i}: ${i}\r\n`)];
  const slowT0 = Date.now();
  const slowP = slowClient.batch(target.ip, 80, [{ name: 'slowloris', steps: slowSteps, paceMs: 1000, lingerMs: 0 }]);
  const hangT0 = Date.now();
  const hangP = hangClient.batch(blackhole.ip, 80, [{ name: 'hang', steps: [`GET /wait HTTP/1.1\r\nHost: blackhole\r\n\r\n`], waitMs: serverMs + 15_000, lingerMs: 0 }]);

  const problems: string[] = [];
  /** Runs cases, each followed by an allowed request on a new connection; checks the answers. */
  const runCases = async (what: string, cases: (BatchCase & { denied: boolean; expect?: number[]; mayWait?: boolean })[], concurrency = 1): Promise<BatchResult[]> => {
    const plan: BatchCase[] = cases.flatMap((c) => [{ waitMs: 3000, lingerMs: 300, ...c }, allowedCase(c.name)]);
    const results = await client.batch(target.ip, 80, plan, concurrency);
    const rows: string[] = [];
    cases.forEach((c, i) => {
      const r = results[2 * i]!;
      const after = results[2 * i + 1]!;
      // Who answered: HAProxy's own error pages carry Cache-Control, the proxy's 403/404/307 `return`s
      // content-type text/plain with the body, the server (node:http) lower-case headers.
      const by = r.statuses.length === 0 ? '' : /\r\nCache-Control: no-cache/.test(r.text) ? ' (proxy error page)' : /\r\ncontent-type: text\/plain\r\ncontent-length: 15\r\n/.test(r.text) && r.text.includes('Access denied') ? '' : /^HTTP\/1\.1 [0-9]{3} [^\r]*\r\n[a-z]/.test(r.text) ? ' (server)' : '';
      rows.push(`${c.name}: ${r.statuses.join(',') || 'none'}${by}${r.closed ? ' closed' : ''}${r.error ? ` ${r.error}` : ''}; allowed after: ${after.statuses.join(',')}`);
      if (after.statuses[0] !== 200 || !after.text.includes('Ship landed')) problems.push(`${what} ${c.name}: the allowed request after it (port ${after.localPort}) got ${after.statuses.join(',') || 'nothing'}${after.closed ? ', closed' : ''} ${after.error ?? ''}`);
      if (c.expect && JSON.stringify(r.statuses) !== JSON.stringify(c.expect)) problems.push(`${what} ${c.name}: answered ${r.statuses.join(',') || 'nothing'}, expected ${c.expect.join(',')}`);
      // A denied request: never a 2xx for it, and never the deathstar's own answer to the PUT.
      if (r.text.includes('deathstar exploded')) problems.push(`${what} ${c.name}: the deathstar answered the PUT`);
      if (c.denied && !c.expect && r.statuses.some(is2xx)) problems.push(`${what} ${c.name}: a 2xx for a request the policy denies (${r.statuses.join(',')})`);
      // Every answer the proxy gives is either the server's to an allowed request or its own 3xx/4xx/5xx, and a connection without any answer was closed.
      if (r.statuses.length === 0 && !r.closed && !c.mayWait) problems.push(`${what} ${c.name}: neither answered nor closed`);
      const denials = r.statuses.filter((s) => s === 403).length;
      if (r.text.split('Access denied\r\n').length - 1 < denials) problems.push(`${what} ${c.name}: a 403 without "Access denied"`);
    });
    t.diagnostic(`${what}:\n  ${rows.join('\n  ')}`);
    return results;
  };
  const checkServer = (what: string) => {
    const reqs = deathstarRequests();
    const bad = reqs.filter((l) => !/ "POST \/v1\/request-landing" \d+$/.test(l));
    assert.deepEqual(bad, [], `${what}: requests the policy denies reached a deathstar`);
    const restarted = pods().filter((p) => p.name.startsWith('deathstar-') && p.restarts > 0);
    assert.deepEqual(restarted.map((p) => p.name), [], `${what}: a deathstar restarted (PUT /v1/exhaust-port reached it)`);
    assert.deepEqual(proxyPids(), pids0, `${what}: a node proxy's master or worker changed`);
    const found = problems.splice(0);
    assert.deepEqual(found, [], `${what}: answers`);
  };

  await t.test('malformed request lines', async () => {
    const put = (line: string, rest = `${HOST}Content-Length: 0\r\n\r\n`) => `${line}\r\n${rest}`;
    await runCases('request line', [
      { name: 'method only', steps: ['GET\r\n\r\n'], denied: true },
      { name: 'HTTP/0.9 PUT', steps: ['PUT /v1/exhaust-port\r\n\r\n'], denied: true },
      { name: 'two spaces', steps: [put('PUT  /v1/exhaust-port HTTP/1.1')], denied: true },
      { name: 'extra token', steps: [put('PUT /v1/exhaust-port HTTP/1.1 x')], denied: true },
      { name: 'version 9.9', steps: [put('PUT /v1/exhaust-port HTTP/9.9')], denied: true },
      { name: 'no version slash', steps: [put('PUT /v1/exhaust-port HTTP1.1')], denied: true },
      { name: 'tab separator', steps: [put('PUT\t/v1/exhaust-port\tHTTP/1.1')], denied: true },
      { name: 'NUL in target', steps: [put('PUT /v1/exhaust\0port HTTP/1.1')], denied: true },
      { name: 'space in target', steps: [put('PUT /v1/exhaust port HTTP/1.1')], denied: true },
      { name: 'CR in target', steps: [put('PUT /v1/exhaust\rport HTTP/1.1')], denied: true },
      { name: 'bare LF line ends', steps: [`PUT /v1/exhaust-port HTTP/1.1\nHost: deathstar\nContent-Length: 0\n\n`], denied: true },
      { name: 'leading empty lines', steps: [`\r\n\r\n${SMUGGLED}`], denied: true },
      { name: 'absolute-form PUT', steps: [put('PUT http://deathstar/v1/exhaust-port HTTP/1.1')], denied: true, expect: [403] },
      { name: 'lower-case method', steps: [put('post /v1/request-landing HTTP/1.1')], denied: true, expect: [403] },
      { name: 'query (full match)', steps: [put('POST /v1/request-landing?x=1 HTTP/1.1')], denied: true, expect: [403] },
      { name: 'dot segments to exhaust-port', steps: [put('PUT /v1/request-landing/../exhaust-port HTTP/1.1')], denied: true, expect: [403] },
      { name: 'fragment', steps: [put('POST /v1/request-landing#x HTTP/1.1')], denied: true },
      { name: 'escaped slash', steps: [put('PUT /v1%2Fexhaust-port HTTP/1.1')], denied: true },
      { name: 'asterisk-form', steps: [put('PUT * HTTP/1.1')], denied: true },
      { name: 'CONNECT', steps: [put('CONNECT 10.0.0.1:80 HTTP/1.1')], denied: true },
      { name: 'method of 20 KiB', steps: [put(`${'A'.repeat(20_000)} /v1/request-landing HTTP/1.1`)], denied: true },
      { name: 'target of 40 KiB', steps: [put(`PUT /v1/${'x'.repeat(40_000)} HTTP/1.1`)], denied: true },
      // HAProxy takes the preface as HTTP/2 with prior knowledge and waits for the client's SETTINGS.
      { name: 'HTTP/2 preface', steps: ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'], denied: true, mayWait: true },
      { name: 'binary garbage', steps: ['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'], denied: true },
    ]);
    checkServer('malformed request lines');
  });

  await t.test('request smuggling: CL.TE, TE.CL, TE.TE variants, each hiding PUT /v1/exhaust-port', async () => {
    const probes = smugglingProbes(ALLOWED);
    assert.ok(probes.length >= 20);
    await runCases('smuggling', probes.map((p) => ({ name: p.name, steps: p.steps, denied: false, ...(p.expect ? { expect: p.expect } : {}) })));
    checkServer('smuggling');
  });

  await t.test('oversized headers', async () => {
    const big = (n: number) => `X-Big: ${'b'.repeat(n)}\r\n`;
    const many = (n: number) => Array.from({ length: n }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
    await runCases('oversized', [
      { name: 'allowed + 40 KiB header (> tune.bufsize)', steps: [landing(`Content-Length: 0\r\n${big(40_000)}`, '')], denied: false },
      { name: 'PUT + 40 KiB header', steps: [`PUT /v1/exhaust-port HTTP/1.1\r\n${HOST}${big(40_000)}Content-Length: 0\r\n\r\n`], denied: true },
      { name: 'allowed + 200 headers (> tune.http.maxhdr)', steps: [landing(`Content-Length: 0\r\n${many(200)}`, '')], denied: false },
      { name: 'PUT + 200 headers', steps: [`PUT /v1/exhaust-port HTTP/1.1\r\n${HOST}${many(200)}Content-Length: 0\r\n\r\n`], denied: true },
      { name: 'allowed + 1 MiB of headers in 64 KiB writes', steps: [`POST /v1/request-landing HTTP/1.1\r\n${HOST}`, ...Array.from({ length: 16 }, () => big(65_536))], denied: false, waitMs: 300 },
      { name: 'allowed + 6 KiB header (fits)', steps: [landing(`Content-Length: 0\r\n${big(6000)}`, '')], denied: false, expect: [200] },
    ]);
    checkServer('oversized headers');
  });

  await t.test('invalid header bytes', async () => {
    const bad: [string, string][] = [
      ['NUL in value', 'X-A: a\0b\r\n'],
      ['CR alone in value', 'X-A: a\rb\r\n'],
      ['CR alone ending a line', 'X-A: a\rX-B: b\r\n'],
      ['space in name', 'X A: b\r\n'],
      ['parenthesis in name', 'X(A): b\r\n'],
      ['DEL in name', 'X\x7fA: b\r\n'],
      ['high byte in name', 'X\xc3\xa9: b\r\n'],
      ['empty name', ': b\r\n'],
      ['no colon', 'X-A b\r\n'],
      ['NUL in Host', 'X-A: a\r\nHost: death\0star\r\n'],
      ['obs-fold Content-Length', 'Content-Length:\r\n 0\r\n'],
      ['negative Content-Length', 'Content-Length: -1\r\n'],
      ['Content-Length with sign', 'Content-Length: +0\r\n'],
      ['Content-Length list', 'Content-Length: 0, 0\r\n'],
    ];
    await runCases('header bytes', bad.flatMap(([name, h]) => [
      { name: `allowed + ${name}`, steps: [`POST /v1/request-landing HTTP/1.1\r\n${HOST}${h}${h.startsWith('Content-Length') ? '' : 'Content-Length: 0\r\n'}\r\n`], denied: false },
      { name: `PUT + ${name}`, steps: [`PUT /v1/exhaust-port HTTP/1.1\r\n${HOST}${h}${h.startsWith('Content-Length') ? '' : 'Content-Length: 0\r\n'}\r\n`], denied: true },
    ]));
    checkServer('invalid header bytes');
  });

  await t.test('fuzz: 300 generated request heads (seeded), nothing denied reaches the server, the proxy stays up', async () => {
    const seed = Number(process.env.BL_FUZZ_SEED ?? 0x5eed12);
    const rnd = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const seeds = [
      ALLOWED,
      SMUGGLED,
      `GET /v1 HTTP/1.1\r\n${HOST}\r\n`,
      landing(`Content-Length: ${SMUGGLED.length}\r\n`, SMUGGLED),
      landing('Transfer-Encoding: chunked\r\n', `5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`),
      landing('Content-Length: 0\r\n', '') + SMUGGLED,
    ];
    const tokens = ['\0', '\r', '\n', '\r\n', '\t', ' ', ':', ',', ';', '\x7f', '\xff', '\x0b', '/', '..', '%2F', '%00', '#', '?', 'chunked', 'Transfer-Encoding: chunked\r\n', 'Content-Length: 5\r\n', 'Content-Length: 0\r\n', `\r\n\r\n${SMUGGLED}`, 'PUT', 'POST', 'HTTP/1.0', 'HTTP/1.1', '0\r\n\r\n', 'Expect: 100-continue\r\n', 'Connection: close\r\n', 'Upgrade: h2c\r\n', 'Host: x\r\n'];
    const mutate = (s: string): string => {
      const i = Math.floor(rnd() * (s.length + 1));
      switch (Math.floor(rnd() * 7)) {
        case 0: return s.slice(0, i) + pick(tokens) + s.slice(i); // insert
        case 1: return s.slice(0, i) + s.slice(i + 1 + Math.floor(rnd() * 4)); // delete
        case 2: return s.slice(0, i) + String.fromCharCode(Math.floor(rnd() * 256)) + s.slice(i + 1); // replace a byte
        case 3: { // duplicate a line
          const lines = s.split('\r\n');
          const k = Math.floor(rnd() * lines.length);
          lines.splice(k, 0, lines[k]!);
          return lines.join('\r\n');
        }
        case 4: return s.slice(0, i) + (rnd() < 0.5 ? s.slice(i).toUpperCase() : s.slice(i).toLowerCase()); // case
        case 5: return s.replace(pick(['POST', 'PUT', 'GET', 'request-landing', 'exhaust-port', 'HTTP/1.1', 'chunked', 'Content-Length']), pick(tokens)); // replace a token
        default: return s.slice(0, i); // truncate
      }
    };
    const cases: BatchCase[] = [];
    for (let n = 0; n < 300; n++) {
      let s = pick(seeds);
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) s = mutate(s);
      cases.push({ name: `fuzz ${n}: ${JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s)}`, steps: [s], waitMs: 500, lingerMs: 100 });
    }
    const tally = new Map<string, number>();
    for (let b = 0; b < cases.length; b += 50) {
      const batch = cases.slice(b, b + 50);
      const res = await client.batch(target.ip, 80, batch, 6);
      for (const r of res) {
        const k = r.statuses.length ? r.statuses.join(',') : r.closed ? 'closed' : 'no answer';
        tally.set(k, (tally.get(k) ?? 0) + 1);
        if (r.text.includes('deathstar exploded')) problems.push(`${r.name}: the deathstar answered the PUT`);
      }
      // After each batch: an allowed request on a new connection, the proxy's pids, the server's log.
      const [after] = await client.batch(target.ip, 80, [allowedCase(`fuzz batch ${b / 50}`)]);
      assert.equal(after!.statuses[0], 200, `allowed request after fuzz batch ${b / 50} (port ${after!.localPort}): ${JSON.stringify({ ...after, text: after!.text.slice(0, 200) })}`);
      checkServer(`fuzz (seed ${seed}) batch ${b / 50}`);
    }
    t.diagnostic(`fuzz seed ${seed}: answers ${JSON.stringify(Object.fromEntries([...tally].sort((a, b) => b[1] - a[1])))}`);
  });

  await t.test(`slowloris: headers trickled are cut after timeout http-request; others served meanwhile`, async () => {
    const [slow] = await slowP;
    const ms = slow!.closedAfterMs ?? Date.now() - slowT0;
    t.diagnostic(`slowloris: ${slow!.statuses.join(',') || 'no answer'}, closed ${slow!.closed} after ${Math.round(ms)} ms, ${slow!.stepMs.length} of ${slowSteps.length} pieces written`);
    assert.ok(slow!.closed, 'the slowloris connection was closed');
    assert.ok(slow!.statuses.every((s) => s === 408), `answered ${slow!.statuses.join(',')} (408 or nothing)`);
    assert.ok(ms >= httpRequestMs - 500 && ms <= httpRequestMs + 3000, `closed after ${Math.round(ms)} ms, timeout http-request ${httpRequestMs} ms`);
    checkServer('slowloris');
  });

  await t.test('a server that never answers: 504 after timeout server; the proxy served the other cases meanwhile', async () => {
    const [hang] = await hangP;
    const ms = hang!.stepMs[0] ?? Date.now() - hangT0;
    t.diagnostic(`never-answering server: ${hang!.statuses.join(',') || 'no answer'} after ${Math.round(ms)} ms, closed ${hang!.closed}`);
    assert.deepEqual(hang!.statuses, [504], hang!.text.slice(0, 300));
    assert.ok(ms >= serverMs - 500 && ms <= serverMs + 5000, `504 after ${Math.round(ms)} ms, timeout server ${serverMs} ms`);
    // While it waited, everything above ran against the same proxy: an allowed request right now too.
    const [after] = await client.batch(target.ip, 80, [allowedCase('after the 504')]);
    assert.equal(after!.statuses[0], 200);
    const seen = beeline(['logs', '-n', 'empire', 'blackhole'], env).stdout;
    assert.match(seen, /^GET \/wait HTTP\/1\.1$/m, 'the blackhole got the allowed GET /wait');
    assert.doesNotMatch(seen, /\/other/, 'the denied GET /other never reached the blackhole');
  });

  await t.test("the proxy's L7 flows: every denied request DROPPED, nothing but the allowed request forwarded", async () => {
    const flows = await until('the proxy records of the 504', () => {
      const fs = httpFlows();
      return fs.some((f) => f.l7?.http?.code === 504) ? fs : undefined;
    }, 20_000, 1000);
    const requests = flows.filter((f) => f.l7?.type === 'REQUEST');
    const toDeathstar = requests.filter((f) => f.IP?.destination === target.ip);
    // The answer each request got (the response flow of the same connection and URL).
    const answer = (f: JsonFlow) => flows.find((x) => x.l7?.type === 'RESPONSE' && x.l4?.TCP?.destination_port === f.l4?.TCP?.source_port && x.l7?.http?.url === f.l7?.http?.url)?.l7?.http?.code;
    const forwarded = toDeathstar.filter((f) => f.verdict === 'FORWARDED');
    // FORWARDED but answered by the proxy itself (its path normalization: 307 to the unescaped path, 404 for a target that is not a path): never reached the server.
    const local = forwarded.filter((f) => answer(f) === 307 || (answer(f) === 404 && !(f.l7?.http?.url ?? '').includes('/v1')));
    const notLanding = forwarded.filter((f) => !local.includes(f) && !(f.l7?.http?.method === 'POST' && /^http:\/\/[^/]*\/v1\/request-landing$/.test(f.l7?.http?.url ?? '')));
    assert.deepEqual(notLanding.map((f) => `${f.l7?.http?.method} ${f.l7?.http?.url} -> ${answer(f)}`), [], 'forwarded requests other than POST /v1/request-landing');
    const dropped = toDeathstar.filter((f) => f.verdict === 'DROPPED');
    const responses403 = flows.filter((f) => f.l7?.type === 'RESPONSE' && f.l7?.http?.code === 403 && f.IP?.source === target.ip);
    assert.ok(dropped.length > 0, 'denied requests are recorded');
    assert.equal(dropped.length, responses403.length, 'one DROPPED request flow per 403 response');
    assert.ok(dropped.every((f) => !(f.l7?.http?.method === 'POST' && /\/v1\/request-landing$/.test(f.l7?.http?.url ?? ''))), 'no allowed request recorded as dropped');
    const refused = toDeathstar.filter((f) => f.verdict === 'ERROR');
    t.diagnostic(`flows to ${target.ip}: ${forwarded.length} forwarded (${local.length} of them answered by the proxy's path normalization), ${dropped.length} dropped, ${refused.length} refused by the proxy (ERROR); 504 from the blackhole recorded`);
    assert.ok(refused.length > 0, 'requests the proxy refused (400) are recorded as ERROR flows');
  });
});
