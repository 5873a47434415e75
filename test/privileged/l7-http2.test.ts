/**
 * Issue 12, "HTTP/2 cleartext (prior knowledge and h2c)", through the REAL
 * transparent node proxy on a 2-node lab with Cilium's Star Wars demo: a pod
 * `h2server` (the host's node: node:http2 for HTTP/2, node:http for HTTP/1,
 * logging each request it serves) under an L7 policy of its own in the Star Wars style
 * (`POST /v1/request-landing`, `GET /v1/.*` from the empire). From the
 * tiefighter pod: `curl --http2-prior-knowledge` (allowed 200 and denied 403
 * per request, the server reached in HTTP/2), h2load (one HTTP/2 connection,
 * allowed and denied requests alternating), `curl --http2` (the h2c offer:
 * answered in HTTP/1.1, the server never sees the offer); the L7 flows say
 * HTTP/2.0. Root; run under `flock /tmp/beeline-heavy.lock`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { beeline } from '../lib/cli.js';
import { starWarsLab } from '../lib/starwars.js';
import { until } from '../lib/wait.js';

const LAB = 'l7h2';
const env = { BEELINE_LAB: LAB };

// node:http2's cleartext server speaks only HTTP/2 (Node 20's allowHTTP1 is for TLS): a connection
// opening with the HTTP/2 preface goes to it; any other is read as HTTP/1.1 request heads (bodiless
// requests: curl's GETs) and answered with a length, keep-alive.
const SERVER = [
  "const log = (v, m, u, h) => console.log(`${v} ${m} ${u} upgrade=${h.upgrade || '-'} settings=${h['http2-settings'] ? 'yes' : '-'}`);",
  "const h2 = require('http2').createServer((req, res) => { log(req.httpVersion, req.method, req.url, req.headers); res.end('h2server 2.0\\n'); });",
  "require('net').createServer((s) => s.once('data', (d) => {",
  "  s.on('error', () => {});",
  "  if (d.subarray(0, 3).toString('latin1') === 'PRI') { s.pause(); s.unshift(d); h2.emit('connection', s); return; }",
  "  let buf = '';",
  "  const take = (x) => {",
  "    buf += x.toString('latin1');",
  "    for (let e = buf.indexOf('\\r\\n\\r\\n'); e >= 0; e = buf.indexOf('\\r\\n\\r\\n')) {",
  "      const lines = buf.slice(0, e).split('\\r\\n'); buf = buf.slice(e + 4);",
  "      const [m, u] = lines[0].split(' '); const h = {};",
  "      for (const l of lines.slice(1)) { const c = l.indexOf(':'); h[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim(); }",
  "      log('1.1', m, u, h);",
  "      s.write('HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 13\\r\\n\\r\\nh2server 1.1\\n');",
  '    }',
  '  };',
  "  take(d); s.on('data', take);",
  '})).listen(80);',
].join('\n');

const EXTRA = `apiVersion: v1
kind: Pod
metadata: {name: h2server, namespace: empire, labels: {org: empire, class: h2server}}
spec:
  containers:
  - name: c
    image: busybox
    command: ${JSON.stringify([process.execPath, '-e', SERVER])}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: h2server-l7, namespace: empire}
spec:
  endpointSelector: {matchLabels: {class: h2server}}
  ingress:
  - fromEndpoints: [{matchLabels: {org: empire}}]
    toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules:
        http:
        - {method: POST, path: /v1/request-landing}
        - {method: GET, path: "/v1/.*"}
`;

const W = '\n[%{http_code} %{http_version}]';

function inTie(args: string[]): { code: number; out: string; err: string } {
  const r = beeline(['exec', '-n', 'empire', 'tiefighter', '--', ...args], env, 60_000);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

test('HTTP/2 cleartext through the transparent node proxy: prior knowledge per request, h2load on one connection, the h2c offer removed', { timeout: 420_000 }, async (t) => {
  const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
  if (process.getuid?.() !== 0) { t.skip('needs root (a lab)'); return; }
  if (!have('h2load')) { t.skip('h2load (nghttp2-client, make setup) is not installed'); return; }
  t.after(() => { if (!process.env.BEELINE_KEEP_LAB) beeline(['lab', 'down', '--name', LAB, '-q']); });
  const all = await starWarsLab(LAB, EXTRA);
  const tie = all.find((p) => p.name === 'tiefighter')!;
  const srv = all.find((p) => p.name === 'h2server')!;
  t.diagnostic(`tiefighter ${tie.ip} on ${tie.node}; h2server ${srv.ip} on ${srv.node}`);
  const url = (path: string) => `http://${srv.ip}${path}`;
  const h2 = (method: string, path: string) => inTie(['curl', '-s', '--max-time', '5', '--http2-prior-knowledge', '-w', W, '-X', method, url(path)]).out;

  // The proxy reloads with the policy moments after the policy map: until then requests are denied (fail closed).
  await until('the proxy allows GET /v1/ships in HTTP/2', () => h2('GET', '/v1/ships') === 'h2server 2.0\n\n[200 2]' || undefined, 60_000, 500)
    .catch(() => assert.fail(`GET /v1/ships over HTTP/2: ${JSON.stringify(h2('GET', '/v1/ships'))}`));
  assert.equal(h2('POST', '/v1/request-landing'), 'h2server 2.0\n\n[200 2]');
  assert.equal(h2('PUT', '/v1/exhaust-port'), 'Access denied\r\n\n[403 2]');
  assert.equal(h2('GET', '/v2/secret'), 'Access denied\r\n\n[403 2]');

  // One HTTP/2 connection (h2load -c 1), allowed and denied requests alternating.
  const load = inTie(['h2load', '-n', '20', '-c', '1', '-m', '1', url('/v1/load'), url('/v2/load')]);
  assert.equal(load.code, 0, load.out + load.err);
  assert.match(load.out, /Application protocol: h2c/);
  assert.match(load.out, /requests: 20 total, 20 started, 20 done, 10 succeeded, 10 failed, 0 errored, 0 timeout/, load.out);
  assert.match(load.out, /status codes: 10 2xx, 0 3xx, 10 4xx, 0 5xx/, load.out);

  // The h2c offer (curl --http2 on http://): removed, answered in HTTP/1.1, rules on every request of the connection.
  const up = inTie(['curl', '-s', '-v', '--max-time', '5', '--http2', url('/v1/up'), url('/v2/up')]);
  assert.match(up.err, /> Upgrade: h2c/);
  assert.deepEqual([...up.err.matchAll(/^< HTTP\/([\d.]+) (\d+)/gm)].map((m) => `${m[1]} ${m[2]}`), ['1.1 200', '1.1 403'], up.err);
  assert.equal(up.out, 'h2server 1.1\nAccess denied\r\n');

  // The server's own log: HTTP/2 requests as HTTP/2, the h2c one without the offer, nothing denied.
  const log = beeline(['logs', '-n', 'empire', 'h2server'], env).stdout;
  assert.match(log, /^2\.0 GET \/v1\/ships upgrade=- settings=-$/m);
  assert.match(log, /^2\.0 POST \/v1\/request-landing /m);
  assert.match(log, /^2\.0 GET \/v1\/load /m);
  assert.match(log, /^1\.1 GET \/v1\/up upgrade=- settings=-$/m, log);
  assert.doesNotMatch(log, /exhaust-port|\/v2\//, log);

  // The L7 flows: the denied PUT as an HTTP/2.0 request, dropped.
  await until('the flow of the denied HTTP/2 PUT', () => {
    const r = beeline(['observe', '--protocol', 'http', '--http-method', 'PUT', '--verdict', 'DROPPED', '--last', '2000', '-o', 'json'], env);
    const flows = r.stdout.split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { flow?: { l7?: { type?: string; http?: { url?: string; protocol?: string } } } }).flow);
    return flows.some((f) => f?.l7?.type === 'REQUEST' && /\/v1\/exhaust-port$/.test(f.l7.http?.url ?? '') && f.l7.http?.protocol === 'HTTP/2.0') || undefined;
  }, 20_000, 500);
});
