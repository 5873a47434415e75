import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObjectInput } from '../../store/store.js';
import { INVALID_GROUP, compileMesh, meshMapSwapPlan, parseGatewayDuration, reweightedMaps, scheduleMaps, smoothWrrSchedule, type MeshCompileInput } from './mesh.js';

const svc = (name: string, ip: string, ports: number[] = [80]): ObjectInput => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { clusterIP: ip, ports: ports.map((port) => ({ name: `p${port}`, port })) } });
const slice = (name: string, ips: string[], port = 8080, portName = 'p80', ready = true): ObjectInput => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
  addressType: 'IPv4', endpoints: ips.map((a) => ({ addresses: [a], conditions: { ready } })), ports: [{ name: portName, port }],
});
const route = (name: string, rules: unknown[], created = '2026-01-01T00:00:00Z', parent: Record<string, unknown> = { group: '', kind: 'Service', name: 'front', port: 80 }): ObjectInput => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: 'default', creationTimestamp: created }, spec: { parentRefs: [parent], rules },
});
const base = (routes: ObjectInput[]): MeshCompileInput => ({
  routes,
  services: [svc('front', '10.96.0.1'), svc('a', '10.96.0.2'), svc('b', '10.96.0.3')],
  endpointSlices: [slice('a', ['10.0.0.1', '10.0.0.2']), slice('b', ['10.0.1.1'])],
});
const opts = { stateDir: '/var/run/bl', bind: ['0.0.0.0:15001 transparent'] };
const conds = (c: ReturnType<typeof compileMesh>, name: string) => c.statuses.find((s) => s.route.name === name)!.parents[0]!.conditions;

test('smooth WRR: every window of W slots is exact and spread', () => {
  assert.deepEqual(smoothWrrSchedule([90, 10]).length, 10);
  assert.deepEqual(smoothWrrSchedule([90, 10]).filter((g) => g === 1).length, 1);
  assert.deepEqual(smoothWrrSchedule([1, 1]), [0, 1]);
  assert.deepEqual(smoothWrrSchedule([5, 0, 3]).filter((g) => g === 1).length, 0);
  const s = smoothWrrSchedule([3, 2]);
  assert.deepEqual(s, [0, 1, 0, 1, 0]);
  assert.deepEqual(smoothWrrSchedule([0, 0]), []);
  const big = smoothWrrSchedule([70, 20, 10]);
  assert.equal(big.length, 10);
  assert.deepEqual([0, 1, 2].map((g) => big.filter((x) => x === g).length), [7, 2, 1]);
});

test('config: frontend map by dst:dst_port, backends with endpoints, schedule maps', () => {
  const c = compileMesh(base([route('r', [{ backendRefs: [{ name: 'a', port: 80, weight: 90 }, { name: 'b', port: 80, weight: 10 }] }])]), opts);
  assert.equal(c.frontends.length, 1);
  assert.equal(c.frontends[0]!.key, '10.96.0.1:80');
  const fmap = c.files.find((f) => f.path === c.mapPaths.frontends)!.content;
  assert.equal(fmap, '10.96.0.1:80 f0\n');
  assert.match(c.config, /bind 0\.0\.0\.0:15001 transparent/);
  assert.match(c.config, /dst,concat\(:,txn\.dport\),map\(\/var\/run\/bl\/mesh-frontends\.map\)/);
  assert.match(c.config, /backend bl_mesh_g0\n[^]*balance roundrobin\n  option redispatch 1\n[^]*server s0 10\.0\.0\.1:8080\n  server s1 10\.0\.0\.2:8080\n/);
  assert.match(c.config, /backend bl_mesh_g1\n[^]*server s0 10\.0\.1\.1:8080\n/);
  assert.equal(c.maps.windows, 'r0 10\n');
  assert.equal(c.maps.schedule.split('\n').filter((l) => l.endsWith('bl_mesh_g1')).length, 1);
  assert.equal(c.maps.schedule.split('\n').filter((l) => l.endsWith('bl_mesh_g0')).length, 9);
  assert.deepEqual(conds(c, 'r').map((x) => [x.type, x.status, x.reason]), [['Accepted', 'True', 'Accepted'], ['ResolvedRefs', 'True', 'ResolvedRefs']]);
});

test('precedence: exact > longest prefix > regex; method, then headers, then query params; then age, then name', () => {
  const be = [{ name: 'a', port: 80 }];
  const c = compileMesh(base([
    route('z-young', [{ matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: be }], '2026-02-01T00:00:00Z'),
    route('m', [
      { matches: [{ path: { type: 'RegularExpression', value: '/a/.*' } }], backendRefs: be },
      { matches: [{ path: { type: 'PathPrefix', value: '/a/b' } }], backendRefs: be },
      { matches: [{ path: { type: 'Exact', value: '/a' } }], backendRefs: be },
      { matches: [{ path: { type: 'PathPrefix', value: '/a' }, headers: [{ name: 'x', value: '1' }] }], backendRefs: be },
      { matches: [{ path: { type: 'PathPrefix', value: '/a' }, queryParams: [{ name: 'q', value: '1' }], headers: [{ name: 'x', value: '1' }, { name: 'y', value: '1' }] }], backendRefs: be },
      { matches: [{ path: { type: 'PathPrefix', value: '/a' }, method: 'GET' }], backendRefs: be },
    ]),
    route('a-young', [{ matches: [{ path: { type: 'PathPrefix', value: '/a' }, queryParams: [{ name: 'q', value: '2' }] }], backendRefs: be }], '2026-02-01T00:00:00Z'),
  ]), opts);
  const order = c.frontends[0]!.entries.map((e) => `${e.route.name}:${e.rule}`);
  assert.deepEqual(order, ['m:2', 'm:1', 'm:5', 'm:4', 'm:3', 'a-young:0', 'z-young:0', 'm:0']);
  // HAProxy tries them in that order: the first set-var(txn.rule) line is entry r0 (Exact /a).
  const first = /set-var\(txn\.rule\) str\((r\d+)\)/.exec(c.config)![1];
  assert.equal(first, c.frontends[0]!.entries[0]!.id);
});

test('conflicting routes for one Service: the older wins, the loser is told', () => {
  const c = compileMesh(base([
    route('newer', [{ matches: [{ path: { type: 'PathPrefix', value: '/x' } }], backendRefs: [{ name: 'b', port: 80 }] }], '2026-03-01T00:00:00Z'),
    route('older', [{ matches: [{ path: { type: 'PathPrefix', value: '/x' } }], backendRefs: [{ name: 'a', port: 80 }] }], '2026-01-01T00:00:00Z'),
  ]), opts);
  assert.deepEqual(c.frontends[0]!.entries.map((e) => e.route.name), ['older']);
  assert.match(conds(c, 'newer')[0]!.message!, /shadowed by HTTPRoute default\/older/);
  assert.equal(conds(c, 'older')[0]!.message, 'Accepted');
});

test('status: missing Service, missing port, port required; weights all 0 → no slot (500)', () => {
  const c = compileMesh(base([
    route('nf', [{ backendRefs: [{ name: 'nope', port: 80 }, { name: 'a', port: 81 }, { name: 'a' }] }]),
    route('zero', [{ matches: [{ path: { type: 'PathPrefix', value: '/z' } }], backendRefs: [{ name: 'a', port: 80, weight: 0 }, { name: 'b', port: 80, weight: 0 }] }]),
  ]), opts);
  const nf = conds(c, 'nf');
  assert.equal(nf[0]!.status, 'True');
  assert.deepEqual([nf[1]!.type, nf[1]!.status, nf[1]!.reason], ['ResolvedRefs', 'False', 'BackendNotFound']);
  assert.match(nf[1]!.message!, /Service default\/nope not found.*no port 81.*port is required/);
  const nfEntry = c.frontends[0]!.entries.find((e) => e.route.name === 'nf')!;
  assert.deepEqual(nfEntry.groups.map((g) => g.backend), [INVALID_GROUP, INVALID_GROUP, INVALID_GROUP]);
  assert.match(c.maps.schedule, new RegExp(`^${nfEntry.id}/3/0 ${INVALID_GROUP}$`, 'm'));
  assert.match(c.config, new RegExp(`return status 500 if \\{ var\\(txn\\.grp\\) -m str ${INVALID_GROUP} \\}`));
  const zero = c.frontends[0]!.entries.find((e) => e.route.name === 'zero')!;
  assert.doesNotMatch(c.maps.windows, new RegExp(`^${zero.id} `, 'm'));
  assert.match(c.config, /return status 500 if !\{ var\(txn\.w\) -m int gt 0 \}/);
});

test('bad input: unsupported filters, invalid regex, bad retry code → Accepted=False UnsupportedValue, route unused', () => {
  const be = [{ name: 'a', port: 80 }];
  const c = compileMesh(base([
    route('mirror', [{ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'b', port: 80 } } }], backendRefs: be }]),
    route('ext', [{ filters: [{ type: 'ExtensionRef', extensionRef: { group: 'x', kind: 'y', name: 'z' } }], backendRefs: be }]),
    route('regex', [{ matches: [{ path: { type: 'RegularExpression', value: '/(a' } }], backendRefs: be }]),
    route('hre', [{ matches: [{ headers: [{ type: 'RegularExpression', name: 'x', value: '\\C' }] }], backendRefs: be }]),
    route('code', [{ backendRefs: be, retry: { codes: [429] } }]),
    route('dur', [{ backendRefs: be, timeouts: { request: '10 seconds' } }]),
    route('parent', [{ backendRefs: be }], undefined, { group: '', kind: 'Service', name: 'front', port: 9999 }),
    route('noparent', [{ backendRefs: be }], undefined, { group: '', kind: 'Service', name: 'gone' }),
    route('gw', [{ backendRefs: be }], undefined, { name: 'some-gateway' }),
    route('rpm', [{ matches: [{ path: { type: 'Exact', value: '/x' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/y' } } }], backendRefs: be }]),
  ]), opts);
  for (const name of ['mirror', 'ext', 'regex', 'hre', 'code', 'dur', 'rpm']) {
    const a = conds(c, name);
    assert.deepEqual([a.length, a[0]!.type, a[0]!.status, a[0]!.reason], [1, 'Accepted', 'False', 'UnsupportedValue'], name);
  }
  assert.match(conds(c, 'mirror')[0]!.message!, /RequestMirror is not supported/);
  assert.match(conds(c, 'regex')[0]!.message!, /not a valid RE2/);
  assert.match(conds(c, 'code')[0]!.message!, /429/);
  assert.equal(conds(c, 'parent')[0]!.reason, 'NoMatchingParent');
  assert.equal(conds(c, 'noparent')[0]!.reason, 'NoMatchingParent');
  assert.equal(c.statuses.find((s) => s.route.name === 'gw'), undefined, 'a Gateway route is not ours');
  assert.deepEqual(c.frontends, []);
});

test('filters, retries, timeouts render as HAProxy rules for the rule only', () => {
  const c = compileMesh(base([route('f', [{
    matches: [{ path: { type: 'PathPrefix', value: '/api/' }, method: 'POST', headers: [{ name: 'X-A', value: 'v' }], queryParams: [{ name: 'q', value: '1' }] }],
    filters: [
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-s', value: '50% "q" $HOME' }], add: [{ name: 'x-a', value: 'v' }], remove: ['x-r'] } },
      { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['server'] } },
      { type: 'URLRewrite', urlRewrite: { hostname: 'h.example', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } },
    ],
    backendRefs: [{ name: 'a', port: 80 }],
    retry: { attempts: 2, codes: [502, 503] },
    timeouts: { request: '1m', backendRequest: '1500ms' },
  }, {
    matches: [{ path: { type: 'Exact', value: '/old' } }],
    filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', port: 8443, path: { type: 'ReplaceFullPath', replaceFullPath: '/new' }, statusCode: 301 } }],
  }])]), opts);
  const [post, redir] = [c.frontends[0]!.entries.find((e) => e.rule === 0)!.id, c.frontends[0]!.entries.find((e) => e.rule === 1)!.id];
  const on = (id: string) => `if { var(txn.rule) -m str ${id} }`;
  assert.ok(c.config.includes(`http-request set-header x-s "50%% \\"q\\" \\$HOME" ${on(post)}`));
  assert.ok(c.config.includes(`http-request add-header x-a "v" ${on(post)}`));
  assert.ok(c.config.includes(`http-request del-header x-r ${on(post)}`));
  assert.ok(c.config.includes(`http-response del-header server ${on(post)}`));
  assert.ok(c.config.includes(`http-request set-header host h.example ${on(post)}`));
  assert.ok(c.config.includes(`http-request set-path "/v2%[path,bytes(4)]" ${on(post)}`));
  assert.match(c.config, /\{ method POST \} \{ req\.fhdr\(X-A\) -m reg -f \/var\/run\/bl\/mesh-p\d+\.pat \} \{ urlp\(q\) -m reg -f /);
  assert.match(c.config, /timeout server 1500ms\n  retry-on 502 503 conn-failure empty-response\n  retries 2\n/);
  assert.ok(c.config.includes(`set-var-fmt(txn.loc) "https://%[req.hdr(host),field(1,:)]:8443/new" ${on(redir)}`));
  assert.ok(c.config.includes(`redirect location "%[var(txn.loc)]" code 301 ${on(redir)}`));
  assert.match(c.config, /disable-l7-retry if \{ var\(txn\.noretry\) -m found \}/);
  const prefix = c.files.find((f) => f.content.includes('(?:/.*)?'))!.content;
  assert.equal(prefix, '(*UTF)(*LF)(*LIMIT_MATCH=1000000)^\\x{2f}api(?:/.*)?\\z\n');
  assert.equal(parseGatewayDuration('1h2m3s4ms'), 3_723_004);
});

test('weight swap plan: the union first (old and new windows coexist), then windows, then the new schedule', () => {
  const c = compileMesh(base([route('r', [{ backendRefs: [{ name: 'a', port: 80, weight: 90 }, { name: 'b', port: 80, weight: 10 }] }])]), opts);
  const to = reweightedMaps(c.frontends, { r0: [50, 50] });
  assert.equal(to.windows, 'r0 2\n');
  assert.equal(to.schedule, 'r0/2/0 bl_mesh_g0\nr0/2/1 bl_mesh_g1\n');
  const plan = meshMapSwapPlan(c.maps, to);
  assert.deepEqual(plan.map((p) => p.map), ['schedule', 'windows', 'schedule']);
  assert.equal(plan[0]!.content.split('\n').filter((l) => l).length, 12);
  assert.equal(plan[2]!.content, to.schedule);
  assert.deepEqual(scheduleMaps(c.frontends), c.maps);
  // Same W, other weights: the union holds each key once, with the new value.
  const same = meshMapSwapPlan(reweightedMaps(c.frontends, { r0: [70, 30] }), c.maps)[0]!.content;
  assert.equal(same, c.maps.schedule);
});
