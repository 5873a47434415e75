import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpRuleError } from '../../common/errors.js';
import type { Origin } from '../../policy/types.js';
import { HAPROXY_FILES, renderHaproxy, WORLD_IDENTITY, type ProxyRuleSet, type RenderOptions } from './haproxy.js';
import { DEFAULT_MATCH_LIMIT, PcreRewriteError, literalToPcre, re2ToPcre } from './haproxy-pcre.js';
import type { HttpRuleSpec } from './rules.js';
import { writeRenderedHaproxy } from '../../../test/lib/haproxy.js';

const pol: Origin = { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'rule1' };
const body = (pcre: string) => {
  const m = /^\(\*UTF\)\(\*LF\)\(\*LIMIT_MATCH=\d+\)\^\(\?:(.*)\)\\z$/.exec(pcre);
  assert.ok(m, pcre);
  return m[1];
};

test('re2ToPcre: full match, UTF, LF newline and the match limit around every pattern', () => {
  assert.equal(re2ToPcre('GET'), `(*UTF)(*LF)(*LIMIT_MATCH=${DEFAULT_MATCH_LIMIT})^(?:GET)\\z`);
  assert.equal(re2ToPcre('a|b', 5000), '(*UTF)(*LF)(*LIMIT_MATCH=5000)^(?:a|b)\\z');
});

test('re2ToPcre: rewrites what PCRE2 reads differently', () => {
  const cases: [string, string][] = [
    ['/a$', '\\x{2f}a\\z'],
    ['(?m)a$', '(?m)a$'],
    ['a\\sb', 'a[\\t\\n\\f\\r\\x{20}]b'],
    ['a\\Sb', 'a[^\\t\\n\\f\\r\\x{20}]b'],
    ['[\\sx]', '[\\t\\n\\f\\r\\x{20}x]'],
    ['\\v', '\\x{b}'],
    ['\\101\\0\\12', '\\x{41}\\x{0}\\x{a}'],
    ['(?P<n>a)(?<m>b)', '(a)(b)'],
    ['a{,2}', 'a\\{\\x{2c}2\\}'],
    ['a{2}b{1,}c{1,3}', 'a{2}b{1,}c{1,3}'],
    ['x{', 'x\\{'],
    ['\\Qa.b$\\E', 'a\\x{2e}b\\x{24}'],
    ['a b"c#\'', 'a\\x{20}b\\x{22}c\\x{23}\\x{27}'],
    ['\\\\', '\\x{5c}'],
    ['\\.\\$', '\\x{2e}\\x{24}'],
    ['é', '\\x{e9}'],
    ['\\x41\\x{263a}', '\\x{41}\\x{263a}'],
    ['\\pL\\p{Greek}\\PN', '\\pL\\p{Greek}\\PN'],
    ['[[:alpha:]-]', '[[:alpha:]-]'],
    ['[^]a]', '[^\\x{5d}a]'],
    ['(?i)a(?s:.)(?U)b+', '(?i)a(?s:.)(?U)b+'],
    ['\\d\\w\\b\\B\\A\\z', '\\d\\w\\b\\B\\A\\z'],
  ];
  for (const [re2, pcre] of cases) assert.equal(body(re2ToPcre(re2)), pcre, re2);
});

test('re2ToPcre: refuses what RE2 refuses and what cannot be made equal', () => {
  for (const p of ['(a', 'a)', '\\1', '(?=a)', 'a++', '\\Z', '(?x)a', '\\h']) {
    assert.throws(() => re2ToPcre(p), PcreRewriteError, p);
  }
  assert.throws(() => re2ToPcre('a\\Cb'), /\\C/);
  assert.throws(() => re2ToPcre('[\\S]'), /\\S inside a character class/);
});

test('literalToPcre: every character but letters, digits and _ as \\x{…}', () => {
  assert.equal(literalToPcre('a "b\\ #$c'), `(*UTF)(*LF)(*LIMIT_MATCH=${DEFAULT_MATCH_LIMIT})^a\\x{20}\\x{22}b\\x{5c}\\x{20}\\x{23}\\x{24}c\\z`);
});

function ruleSet(http: HttpRuleSpec[], more: Partial<ProxyRuleSet> = {}): ProxyRuleSet {
  return {
    listeners: [{ direction: 'ingress', port: 15001 }, { direction: 'egress', port: 15002 }],
    redirects: [
      { direction: 'ingress', endpointIp: '10.0.1.5', port: 80, identity: 0, http: [{ origin: pol, rules: http }] },
      { direction: 'ingress', endpointIp: '10.0.1.5', port: 80, identity: 1234, http: [{ origin: pol, rules: http }, { origin: { ...pol, name: 'all' }, rules: [] }] },
      { direction: 'egress', endpointIp: 'fd00::5', port: 8080, identity: 0, http: [{ origin: pol, rules: http }] },
    ],
    identities: [{ prefix: '10.0.1.5/32', identity: 4000 }, { prefix: '10.0.2.0/24', identity: 1234 }, { prefix: 'fd00::/64', identity: 77 }],
    logTarget: '127.0.0.1:4245',
    stateDir: '/run/beeline/proxy',
    ...more,
  };
}

const STAR_WARS: HttpRuleSpec[] = [{ method: 'POST', path: '/v1/request-landing' }];

test('renderHaproxy: transparent listeners, rule sets by endpoint/port/identity, 403, records, original destination', () => {
  const { config, files } = renderHaproxy(ruleSet(STAR_WARS));
  assert.match(config, /^frontend bl_ingress_15001\n {2}bind :15001 transparent$/m);
  assert.match(config, /^frontend bl_egress_15002\n {2}bind :15002 transparent$/m);
  // ingress: endpoint = dst, peer = src; egress: the other way round.
  assert.match(config, /set-var\(txn\.peer_id\) src,map_ip\(\/run\/beeline\/proxy\/identities\.map,2\)/);
  assert.match(config, /set-var\(txn\.peer_id\) dst,map_ip\(\/run\/beeline\/proxy\/identities\.map,2\)/);
  assert.match(config, /set-var\(txn\.rs\) int\(1\) if \{ dst 10\.0\.1\.5 \} \{ dst_port eq 80 \}\n/);
  assert.match(config, /set-var\(txn\.rs\) int\(2\) if \{ dst 10\.0\.1\.5 \} \{ dst_port eq 80 \} \{ var\(txn\.peer_id\) -m int eq 1234 \}/);
  assert.match(config, /set-var\(txn\.rs\) int\(3\) if \{ src fd00::5 \} \{ dst_port eq 8080 \}/);
  // the identity-0 entry is selected first so that a peer's own entry overrides it
  assert.ok(config.indexOf('int(1) if { dst 10.0.1.5 }') < config.indexOf('int(2) if { dst 10.0.1.5 }'));
  assert.match(config, /http-request return status 403 content-type text\/plain string "Access denied\\r\\n" if !\{ var\(txn\.allowed_by\) -m found \}/);
  assert.match(config, /server orig 0\.0\.0\.0\n {2}source 0\.0\.0\.0 usesrc clientip/);
  // Records: to a ring, forwarded to the agent over TCP.
  assert.match(config, /^ {2}log ring@bl_records len 65535 format raw local0$/m);
  assert.match(config, /^ring bl_records\n {2}format raw\n {2}maxlen 65535\n {2}size 2097152\n(?: {2}.*\n)* {2}server agent 127\.0\.0\.1:4245$/m);
  // Lua only for a target it may change.
  assert.match(config, /^ {2}http-request lua\.beeline_normalize_path if !\{ pathq -m beg \/ \} \|\| \{ pathq -m sub % \\\\ \\# \/\. \/\/ \}$/m);
  // HTTP/2 clients: the server in HTTP/2 (prior knowledge), from the client's address as well.
  assert.match(config, /use_backend bl_orig_h2 if \{ req\.ver 2\.0 \}\n {2}default_backend bl_orig\n/);
  assert.match(config, /backend bl_orig_h2\n(?: {2}#.*\n)* {2}server orig 0\.0\.0\.0 proto h2\n {2}source 0\.0\.0\.0 usesrc clientip/);
  assert.match(config, /stats socket \/run\/beeline\/proxy\/haproxy\.sock mode 600 level admin expose-fd listeners/);
  assert.match(config, /timeout http-request 10s/);
  assert.doesNotMatch(config, /option http-server-close/);
  assert.match(config, /nbthread 1/);
  assert.match(config, /hard-stop-after/);
  const byName = new Map(files.map((f) => [f.path, f.content]));
  assert.equal(byName.get(`/run/beeline/proxy/${HAPROXY_FILES.identities}`), '10.0.1.5/32 4000\n10.0.2.0/24 1234\nfd00::/64 77\n');
  // One origin each, and each rule set's policies together (named on a denial's flows).
  assert.equal(byName.get(`/run/beeline/proxy/${HAPROXY_FILES.origins}`), '1 CiliumNetworkPolicy/default/rule1\n2 CiliumNetworkPolicy/default/all\n3 CiliumNetworkPolicy/default/all,CiliumNetworkPolicy/default/rule1\n');
  assert.match(config, /http-request set-var\(txn\.rules_of\) int\(3\),map_int\(\S+\) if \{ var\(txn\.rs\) -m int eq \d+ \}/);
  for (const f of files.filter((x) => x.path.endsWith('.pat'))) assert.match(f.content, /^\(\*UTF\)\S+\n$/, 'one pattern per file, no white space');
  assert.equal(WORLD_IDENTITY, 2);
});

test('renderHaproxy: the log-format has exactly the fields of HttpAccessRecord', () => {
  const { config } = renderHaproxy(ruleSet(STAR_WARS));
  const line = /log-format "(.*)"$/m.exec(config)![1]!;
  const keys = [...line.matchAll(/\\"(\w+)\\":/g)].map((m) => m[1]);
  assert.deepEqual(keys, ['timeUs', 'direction', 'srcIp', 'srcPort', 'dstIp', 'dstPort', 'srcIdentity', 'dstIdentity', 'method', 'url', 'protocol', 'host', 'status', 'denied', 'allowedBy', 'rulesOf', 'responseMs', 'totalMs', 'termination', 'headers', 'redactedHeaders']);
  assert.match(line, /\\"headers\\":\[\[\\"user-agent\\",%\{\+Q\}\[var\(txn\.h0\),json\(utf8s\)\]\],/);
  assert.match(line, /\\"redactedHeaders\\":\[\[\\"authorization\\",%\{\+Q\}\[var\(txn\.h\d+\)\]\],/);
  assert.match(line, /\\"method\\":%\{\+Q\}\[method,json\(utf8s\)\]/);
  // No transaction (HAProxy's own 400): both print `-`, which parseHttpAccessRecord reads as 0 and false.
  assert.match(line, /\\"timeUs\\":%\[var\(txn\.t0\)\],/);
  assert.match(line, /\\"denied\\":%\[var\(txn\.denied\),iif\(true,false\)\],/);
});

test('renderHaproxy: non-transparent (tests) binds normally and forwards to forwardTo', () => {
  const opts: RenderOptions = { transparent: false, bindAddress: '127.0.0.1', forwardTo: '127.0.0.1:8080' };
  const { config } = renderHaproxy(ruleSet(STAR_WARS), opts);
  assert.match(config, /bind 127\.0\.0\.1:15001\n/);
  assert.doesNotMatch(config, /transparent|usesrc/);
  assert.match(config, /server orig 127\.0\.0\.1:8080\n/);
  assert.match(config, /server orig 127\.0\.0\.1:8080 proto h2\n/);
  assert.throws(() => renderHaproxy(ruleSet(STAR_WARS), { transparent: false }), HttpRuleError);
});

test('renderHaproxy: refuses, naming the policy and field, what it cannot enforce as written', () => {
  const refuse = (http: HttpRuleSpec[], re: RegExp) => assert.throws(() => renderHaproxy(ruleSet(http)), (e: unknown) => e instanceof HttpRuleError && re.test(e.message), JSON.stringify(http));
  refuse([{ path: '/(a' }], /CiliumNetworkPolicy\/default\/rule1: rules\.http\[0\]\.path: .*not a valid RE2/);
  refuse([{}, { host: 'a\\Cb' }], /rules\.http\[1\]\.host: .*\\C/);
  refuse([{ headerMatches: [{ name: 'X-A', value: 'v', mismatch: 'LOG' }] }], /rules\.http\[0\]\.headerMatches\[0\]\.mismatch: LOG/);
  refuse([{ headerMatches: [{ name: 'X-A', mismatch: 'ADD' }] }], /headerMatches\[0\]\.value: ADD with an empty value/);
  refuse([{ headerMatches: [{ name: ':path', value: '/x', mismatch: 'REPLACE' }] }], /headerMatches\[0\]\.name/);
  refuse([{ headers: ['X-A a,b'] }], /headers\[0\]: .*comma/);
  refuse([{ headers: [':scheme https'] }], /headers\[0\]: .*pseudo-header/);
  refuse([{ headerMatches: [{ name: 'X-A', secret: { name: 's' } }] }], /headerMatches\[0\]\.secret: secret default\/s could not be resolved/);
  refuse([{ headers: ['Bad(Header)'] }], /headers\[0\]: "Bad\(Header\)": not an HTTP header name/);
  // tchar, but not writable in a fetch argument as it is: refused, never matched on another name.
  refuse([{ headers: ['X-#a'] }], /headers\[0\]: "X-#a": a header name with # or ' is not supported/);
  refuse([{ headerMatches: [{ name: "X-'", value: 'v', mismatch: 'REPLACE' }] }], /headerMatches\[0\]\.name: "X-'": a header name with # or '/);
  refuse([{ headerMatches: [{ name: 'X-#', value: 'v' }] }], /headerMatches\[0\]\.name: "X-#"/);
  assert.throws(() => renderHaproxy(ruleSet(STAR_WARS, { stateDir: '/tmp/a b' })), HttpRuleError);
  assert.throws(() => renderHaproxy(ruleSet(STAR_WARS, { identities: [{ prefix: 'nope', identity: 1 }] })), HttpRuleError);
  const rs = ruleSet(STAR_WARS);
  rs.redirects.push({ ...rs.redirects[0]! });
  assert.throws(() => renderHaproxy(rs), /listed twice/);
});

test('renderHaproxy: a resolved secret is the expected value; actions become header edits from a value map', () => {
  const http: HttpRuleSpec[] = [
    { headerMatches: [{ name: 'X-Token', secret: { name: 'tok' } }] },
    { path: '/e', headerMatches: [{ name: 'X-A', value: 'a "b"', mismatch: 'ADD' }, { name: 'X-R', value: 'r', mismatch: 'REPLACE' }, { name: 'X-D', value: 'd', mismatch: 'DELETE' }, { name: 'X-P', mismatch: 'DELETE' }] },
  ];
  const { config, files } = renderHaproxy(ruleSet(http), { secrets: ({ namespace, name }) => (namespace === 'default' && name === 'tok' ? 's3cr3t' : undefined) });
  const pats = files.filter((f) => f.path.endsWith('.pat')).map((f) => f.content);
  assert.ok(pats.some((p) => p.includes('^s3cr3t\\z')), 'the secret is matched exactly');
  assert.match(config, /http-request add-header x-a %\[int\(1\),map_int\(\/run\/beeline\/proxy\/header-values\.map\)\] if \{ var\(txn\.r\d+\) -m bool \} !\{ req\.fhdr_cnt\(x-a\) eq 1 \} \|\| /);
  assert.match(config, /http-request set-header x-r %\[int\(2\),map_int/);
  assert.match(config, /http-request del-header x-d if /);
  assert.doesNotMatch(config, /(?:add|set|del)-header x-p/, 'a presence-only DELETE never changes anything');
  // Recorded: the headers the rules test; the one compared with a secret as its count of fields only.
  assert.match(config, /http-request set-var\(txn\.h\d+\) req\.fhdr_cnt\(x-token\) if \{ req\.fhdr_cnt\(x-token\) gt 0 \}/);
  assert.doesNotMatch(config, /set-var\(txn\.h\d+\) req\.fhdr\(x-token\)/, 'the secret-compared header is never recorded with its value');
  assert.match(config, /http-request set-var\(txn\.h\d+\) req\.fhdr\(x-a\),bytes\(0,256\)/);
  assert.equal(files.find((f) => f.path.endsWith(HAPROXY_FILES.values))!.content, '1 a "b"\n2 r\n');
});

test('renderHaproxy: HAProxy 2.6 accepts the generated configuration (haproxy -c)', (t) => {
  if (spawnSync('sh', ['-c', 'command -v haproxy']).status !== 0) {
    t.skip('haproxy is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bl-haproxy-c-'));
  try {
    const http: HttpRuleSpec[] = [
      ...STAR_WARS,
      { method: 'GET', path: '/a b"c\\\\d#\\$\'(\\?.*)?', host: 'x"y', headers: ['X-Has', 'X-V: a "b\\ #$'] },
      { path: '/e', headerMatches: [{ name: 'X-A', value: 'a "b\\ #$%[x]', mismatch: 'ADD' }] },
      // Every other tchar in a field name goes into the configuration as it is.
      { path: '/f', headers: ["X-!$%&*+.^_`|~", 'X-B: v'], headerMatches: [{ name: 'X-$%&', value: 'v', mismatch: 'REPLACE' }] },
    ];
    for (const opts of [{}, { transparent: false, forwardTo: '127.0.0.1:1' }] as RenderOptions[]) {
      const { config, files } = renderHaproxy(ruleSet(http, { stateDir: dir }), opts);
      writeRenderedHaproxy({ config, files }, join(dir, 'haproxy.cfg'));
      const r = spawnSync('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stderr, /WARNING/, r.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('renderHaproxy: h2c offers removed, other upgrades than websocket refused, in every frontend before the 403', () => {
  const { config } = renderHaproxy(ruleSet(STAR_WARS));
  for (const fe of config.split(/^frontend /m).slice(1)) {
    const lines = fe.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const acl = at(/^ {2}acl bl_h2c_offer req\.hdr\(upgrade\) -m str -i h2c$/);
    assert.ok(acl > 0, fe);
    const dels = ['http2-settings', 'connection', 'upgrade'].map((h) => at(new RegExp(`^ {2}http-request del-header ${h} if bl_h2c_offer$`)));
    assert.ok(dels.every((i, k) => i > acl && (k === 0 || i > dels[k - 1]!)), 'Upgrade is removed last: the ACL reads it');
    const refuse = at(/unset-var\(txn\.allowed_by\) if \{ req\.fhdr_cnt\(upgrade\) gt 0 \} !\{ req\.hdr\(upgrade\) -m str -i websocket \}/);
    assert.ok(refuse > dels[2]!);
    assert.ok(at(/unset-var\(txn\.allowed_by\) if \{ req\.fhdr_cnt\(upgrade\) gt 0 \} !\{ req\.hdr_cnt\(upgrade\) eq 1 \}/) > dels[2]!);
    assert.ok(refuse < at(/return status 403/));
    assert.ok(refuse > Math.max(...lines.map((l, i) => (/set-var\(txn\.i?allowed_by\) int/.test(l) ? i : -1))), 'after every rule (the chained ingress ones too)');
  }
});
