import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFlowFilters } from './filter.js';
import { FlowFilterError } from '../common/errors.js';
import type { Flow, FlowFilter } from './types.js';

/** A TCP flow from default/web-1 (10.0.1.5:40000) to prod/db-0 (10.0.2.7:5432). */
function flow(over: Partial<Flow> = {}): Flow {
  return {
    time: { seconds: '1700000000', nanos: 0 },
    uuid: 'u-1',
    verdict: 'FORWARDED',
    IP: { source: '10.0.1.5', destination: '10.0.2.7', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 40000, destination_port: 5432, flags: { SYN: true, ACK: true } } },
    source: { ID: 12, identity: 1001, namespace: 'default', pod_name: 'web-1', labels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=default'], workloads: [{ name: 'web', kind: 'Deployment' }] },
    destination: { identity: 1002, namespace: 'prod', pod_name: 'db-0', labels: ['k8s:app=db', 'k8s:tier=backend'], workloads: [{ name: 'db', kind: 'StatefulSet' }] },
    node_name: 'node-1',
    source_names: [],
    destination_names: ['db.prod.svc.cluster.local'],
    event_type: { type: 4, sub_type: 0 },
    traffic_direction: 'EGRESS',
    is_reply: { value: false },
    trace_context: { parent: { trace_id: 'abc123' } },
    destination_service: { name: 'db', namespace: 'prod' },
    ...over,
  };
}

const m = (white: FlowFilter[], f: Flow, black: FlowFilter[] = []) => compileFlowFilters(white, black)(f);

const httpFlow = (code: number, method = 'GET', url = 'http://web/api/v1/items?x=1') =>
  flow({ l7: { type: 'RESPONSE', http: { code, method, url } }, event_type: { type: 129, sub_type: 0 } });
const dnsFlow = (query: string) => flow({ l4: { UDP: { source_port: 5353, destination_port: 53 } }, l7: { type: 'REQUEST', dns: { query } }, event_type: { type: 129 } });

test('no filters match everything; an empty filter matches everything; in a blacklist it hides everything', () => {
  assert.equal(m([], flow()), true);
  assert.equal(m([{}], flow()), true);
  assert.equal(m([], flow(), [{}]), false);
});

test('fields AND within a filter, values OR within a field, whitelist any-of, blacklist none-of', () => {
  assert.equal(m([{ source_pod: ['default/web'], destination_port: ['5432'] }], flow()), true);
  assert.equal(m([{ source_pod: ['default/web'], destination_port: ['80'] }], flow()), false);
  assert.equal(m([{ destination_port: ['80', '5432'] }], flow()), true);
  assert.equal(m([{ destination_port: ['80'] }, { verdict: ['FORWARDED'] }], flow()), true);
  assert.equal(m([{ verdict: ['FORWARDED'] }], flow(), [{ destination_pod: ['prod/db'] }]), false);
  assert.equal(m([{ verdict: ['FORWARDED'] }], flow(), [{ destination_pod: ['prod/cache'] }]), true);
});

test('ip: exact and CIDR, IPv4 and IPv6, host bits ignored', () => {
  assert.equal(m([{ source_ip: ['10.0.1.5'] }], flow()), true);
  assert.equal(m([{ source_ip: ['10.0.1.6'] }], flow()), false);
  assert.equal(m([{ source_ip: ['10.0.0.0/16'] }], flow()), true);
  assert.equal(m([{ source_ip: ['10.1.0.0/16'] }], flow()), false);
  assert.equal(m([{ destination_ip: ['10.0.2.9/24'] }], flow()), true);
  assert.equal(m([{ source_ip: ['0.0.0.0/0'] }], flow()), true);
  const v6 = flow({ IP: { source: 'fd00::1:5', destination: '2001:db8::ffff:a00:207', ipVersion: 'IPv6' } });
  assert.equal(m([{ source_ip: ['fd00:0:0:0:0:0:1:5'] }], v6), true);
  assert.equal(m([{ source_ip: ['fd00::/8'] }], v6), true);
  assert.equal(m([{ source_ip: ['fe80::/10'] }], v6), false);
  assert.equal(m([{ destination_ip: ['2001:db8::ffff:10.0.2.7'] }], v6), true);
  assert.equal(m([{ destination_ip: ['2001:db8::/33'] }], v6), true);
  assert.equal(m([{ source_ip: ['10.0.0.0/8'] }], v6), false, 'an IPv4 prefix never matches an IPv6 flow');
  assert.equal(m([{ source_ip: ['::/0'] }], flow()), false);
  assert.equal(m([{ source_ip: ['10.0.0.0/8'] }], flow({ IP: null })), false);
});

test('pod and service: ns/prefix, ns/ alone, bare prefix means namespace default', () => {
  assert.equal(m([{ source_pod: ['default/web-'] }], flow()), true);
  assert.equal(m([{ source_pod: ['web'] }], flow()), true, 'bare prefix: namespace default');
  assert.equal(m([{ destination_pod: ['db'] }], flow()), false, 'db-0 is in prod, not default');
  assert.equal(m([{ destination_pod: ['prod/'] }], flow()), true);
  assert.equal(m([{ destination_pod: ['prod/db-1'] }], flow()), false);
  assert.equal(m([{ destination_service: ['prod/db'] }], flow()), true);
  assert.equal(m([{ destination_service: ['prod/'] }], flow()), true);
  assert.equal(m([{ source_service: ['prod/'] }], flow()), false);
});

test('fqdn: exact, * wildcards, case and trailing dot ignored', () => {
  assert.equal(m([{ destination_fqdn: ['db.prod.svc.cluster.local'] }], flow()), true);
  assert.equal(m([{ destination_fqdn: ['*.cluster.local.'] }], flow()), true);
  assert.equal(m([{ destination_fqdn: ['DB.*'] }], flow()), true);
  assert.equal(m([{ destination_fqdn: ['*.example.com'] }], flow()), false);
  assert.equal(m([{ source_fqdn: ['*'] }], flow()), false, 'no names: no match');
});

test('labels: selectors with and without a source prefix', () => {
  assert.equal(m([{ source_label: ['app=web'] }], flow()), true);
  assert.equal(m([{ source_label: ['k8s:app=web'] }], flow()), true);
  assert.equal(m([{ source_label: ['reserved:app=web'] }], flow()), false);
  assert.equal(m([{ source_label: ['any:app=web'] }], flow()), true);
  assert.equal(m([{ destination_label: ['app in (db, cache),tier'] }], flow()), true);
  assert.equal(m([{ destination_label: ['app=db,tier!=backend'] }], flow()), false);
  assert.equal(m([{ destination_label: ['!canary'] }], flow()), true);
  assert.equal(m([{ destination_label: ['k8s:tier notin (frontend)'] }], flow()), true);
  assert.equal(m([{ source_label: ['k8s:io.kubernetes.pod.namespace=default'] }], flow()), true);
  const host = flow({ source: { identity: 1, labels: ['reserved:host'] } });
  assert.equal(m([{ source_label: ['reserved:host'] }], host), true);
  assert.equal(m([{ source_label: ['k8s:host'] }], host), false);
  assert.equal(m([{ source_label: ['app=api', 'app=web'] }], flow()), true, 'selectors OR');
});

test('workload, identity, verdict, direction, ip version, uuid, trace id, node name', () => {
  assert.equal(m([{ source_workload: [{ name: 'web' }] }], flow()), true);
  assert.equal(m([{ source_workload: [{ kind: 'StatefulSet' }] }], flow()), false);
  assert.equal(m([{ destination_workload: [{ name: 'db', kind: 'StatefulSet' }] }], flow()), true);
  assert.equal(m([{ source_identity: [1001] }], flow()), true);
  assert.equal(m([{ destination_identity: [1001] }], flow()), false);
  assert.equal(m([{ verdict: ['DROPPED'] }], flow()), false);
  assert.equal(m([{ verdict: [2] as unknown as FlowFilter['verdict'] }], flow({ verdict: 'DROPPED' })), true, 'enum numbers work too');
  assert.equal(m([{ traffic_direction: ['EGRESS'] }], flow()), true);
  assert.equal(m([{ traffic_direction: ['INGRESS'] }], flow()), false);
  assert.equal(m([{ ip_version: ['IPv6'] }], flow()), false);
  assert.equal(m([{ ip_version: ['IPv4'] }], flow()), true);
  assert.equal(m([{ uuid: ['u-1', 'u-2'] }], flow()), true);
  assert.equal(m([{ trace_id: ['abc123'] }], flow()), true);
  assert.equal(m([{ trace_id: ['zzz'] }], flow()), false);
  assert.equal(m([{ node_name: ['node-*'] }], flow()), true);
  assert.equal(m([{ node_name: ['default/node-1'] }], flow()), true, 'a bare node name is in cluster default');
  assert.equal(m([{ node_name: ['other/node-1'] }], flow()), false);
  assert.equal(m([{ node_name: ['c1/'] }], flow({ node_name: 'c1/node-9' })), true);
  assert.equal(m([{ node_name: ['node-2'] }], flow()), false);
});

test('event type with and without sub type', () => {
  assert.equal(m([{ event_type: [{ type: 4 }] }], flow()), true);
  assert.equal(m([{ event_type: [{ type: 1 }] }], flow()), false);
  assert.equal(m([{ event_type: [{ type: 4, match_sub_type: true, sub_type: 0 }] }], flow()), true);
  assert.equal(m([{ event_type: [{ type: 4, match_sub_type: true, sub_type: 3 }] }], flow()), false);
  assert.equal(m([{ event_type: [{ type: 4, sub_type: 3 }] }], flow()), true, 'sub_type only counts with match_sub_type');
});

test('protocol, ports, tcp flags, reply', () => {
  assert.equal(m([{ protocol: ['TCP'] }], flow()), true);
  assert.equal(m([{ protocol: ['udp'] }], flow()), false);
  assert.equal(m([{ protocol: ['icmp'] }], flow({ l4: { ICMPv6: { type: 128 } } })), true);
  assert.equal(m([{ protocol: ['icmpv4'] }], flow({ l4: { ICMPv6: { type: 128 } } })), false);
  assert.equal(m([{ protocol: ['dns'] }], dnsFlow('a.b.')), true);
  assert.equal(m([{ protocol: ['http'] }], dnsFlow('a.b.')), false);
  assert.equal(m([{ source_port: ['40000'] }], flow()), true);
  assert.equal(m([{ destination_port: ['53'] }], dnsFlow('x.')), true);
  assert.equal(m([{ destination_port: ['0'] }], flow({ l4: { ICMPv4: { type: 8 } } })), false, 'ICMP has no ports');
  assert.equal(m([{ tcp_flags: [{ SYN: true }] }], flow()), true);
  assert.equal(m([{ tcp_flags: [{ SYN: true, FIN: true }] }], flow()), false, 'every flag of an entry must be set');
  assert.equal(m([{ tcp_flags: [{ SYN: true, FIN: true }, { ACK: true }] }], flow()), true);
  assert.equal(m([{ tcp_flags: [{ SYN: true }] }], dnsFlow('x.')), false);
  assert.equal(m([{ reply: [false] }], flow()), true);
  assert.equal(m([{ reply: [true] }], flow({ is_reply: { value: true } })), true);
  assert.equal(m([{ reply: [false] }], flow({ is_reply: null })), false, 'unknown direction matches neither');
  assert.equal(m([{ reply: [false] }], flow({ is_reply: null, verdict: 'DROPPED' })), true, 'a drop of unknown direction counts as not a reply (Hubble)');
});

test('http status, method, path; dns query (RE2)', () => {
  assert.equal(m([{ http_status_code: ['404'] }], httpFlow(404)), true);
  assert.equal(m([{ http_status_code: ['4+'] }], httpFlow(404)), true);
  assert.equal(m([{ http_status_code: ['40+'] }], httpFlow(404)), true);
  assert.equal(m([{ http_status_code: ['41+'] }], httpFlow(404)), false);
  assert.equal(m([{ http_status_code: ['5+', '200'] }], httpFlow(200)), true);
  assert.equal(m([{ http_status_code: ['2+'] }], flow()), false);
  assert.equal(m([{ http_method: ['get'] }], httpFlow(200)), true);
  assert.equal(m([{ http_method: ['POST'] }], httpFlow(200)), false);
  assert.equal(m([{ http_path: ['^/api/v[0-9]+/'] }], httpFlow(200)), true);
  assert.equal(m([{ http_path: ['x=1'] }], httpFlow(200)), false, 'the query is not part of the path');
  assert.equal(m([{ http_path: ['^/items$'] }], httpFlow(200, 'GET', '/items?a')), true);
  assert.equal(m([{ dns_query: ['example\\.com\\.$'] }], dnsFlow('www.example.com.')), true);
  assert.equal(m([{ dns_query: ['^example'] }], dnsFlow('www.example.com.')), false);
  assert.equal(m([{ dns_query: ['.*'] }], flow()), false, 'not a DNS flow');
  // Linear time: a pattern that makes backtracking engines explode.
  const t0 = Date.now();
  assert.equal(m([{ dns_query: ['(a+)+$'] }], dnsFlow(`${'a'.repeat(5000)}!`)), false);
  assert.ok(Date.now() - t0 < 2000);
});

test('bad filters throw FlowFilterError naming the list, entry and field', () => {
  const bad: [FlowFilter, RegExp][] = [
    [{ destination_ip: ['10.0.0.300'] }, /^whitelist\[0\]\.destination_ip: "10\.0\.0\.300" is not an IP address or CIDR$/],
    [{ source_ip: ['10.0.0.0/33'] }, /whitelist\[0\]\.source_ip: "10\.0\.0\.0\/33"/],
    [{ source_ip: ['fd00:::1'] }, /source_ip/],
    [{ source_port: ['65536'] }, /whitelist\[0\]\.source_port: "65536" is not a port number/],
    [{ destination_port: ['http'] }, /destination_port/],
    [{ dns_query: ['a(b'] }, /whitelist\[0\]\.dns_query: "a\(b" is not a valid RE2 regular expression/],
    [{ http_path: ['(?<=x)'] }, /whitelist\[0\]\.http_path/],
    [{ source_label: ['app=(web'] }, /whitelist\[0\]\.source_label: .* is not a label selector/],
    [{ destination_label: ['k8s:bad key=x'] }, /destination_label/],
    [{ http_status_code: ['600'] }, /whitelist\[0\]\.http_status_code: "600" is not an HTTP status code/],
    [{ http_status_code: ['200'], event_type: [{ type: 4 }] }, /http_status_code: .*requires the event type filter/],
    [{ protocol: ['quic'] }, /whitelist\[0\]\.protocol: unknown protocol "quic"/],
    [{ source_pod: ['/'] }, /whitelist\[0\]\.source_pod/],
    [{ destination_fqdn: ['ex ample.com'] }, /destination_fqdn: "ex ample\.com" is not an FQDN pattern/],
    [{ node_name: ['a/b/c'] }, /node_name/],
    [{ verdict: ['MAYBE' as 'DROPPED'] }, /whitelist\[0\]\.verdict: "MAYBE" is not a flow\.Verdict/],
  ];
  for (const [ff, re] of bad) {
    assert.throws(() => compileFlowFilters([ff], []), (e: unknown) => e instanceof FlowFilterError && e.code === 'BL_ERR_FLOW_FILTER' && re.test(e.message), JSON.stringify(ff));
  }
  assert.throws(() => compileFlowFilters([], [{}, { source_ip: ['nope'] }]), /^FlowFilterError: blacklist\[1\]\.source_ip/);
});

test('matching does not depend on call order (no state kept between flows)', () => {
  const p = compileFlowFilters([{ source_ip: ['10.0.1.0/24', 'fd00::/64'], source_label: ['app=web'] }], [{ destination_port: ['22'] }]);
  const a = flow(), b = flow({ IP: { source: 'fd00::9', destination: 'fd00::1' } }), c = flow({ l4: { TCP: { destination_port: 22 } } });
  for (let i = 0; i < 3; i++) {
    assert.equal(p(a), true);
    assert.equal(p(b), true);
    assert.equal(p(c), false);
  }
});

test('fuzz: the address parser agrees with node:net on random text, and every spelling of an address matches its canonical form', async () => {
  const { isIP } = await import('node:net');
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = '0123456789abcdefABCDEF:.:::/x %';
  for (let i = 0; i < 20000; i++) {
    let s = '';
    const len = 1 + rnd(20);
    for (let k = 0; k < len; k++) s += alphabet[rnd(alphabet.length)];
    if (s.includes('%') || s.includes('/') || s.includes(' ')) continue; // zones and prefixes: not node:net's business
    let ours = true;
    try {
      compileFlowFilters([{ source_ip: [s] }], []);
    } catch (e) {
      assert.ok(e instanceof FlowFilterError);
      ours = false;
    }
    assert.equal(ours, isIP(s) !== 0, `parse of ${JSON.stringify(s)}`);
  }
  for (let i = 0; i < 2000; i++) {
    const groups = Array.from({ length: 8 }, () => (rnd(3) === 0 ? 0 : rnd(0x10000)));
    const full = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
    const canonical = new URL(`http://[${full}]`).hostname.slice(1, -1);
    const upper = canonical.toUpperCase();
    const v4tail = `${groups.slice(0, 6).map((g) => g.toString(16)).join(':')}:${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
    const f = flow({ IP: { source: canonical, destination: v4tail, ipVersion: 'IPv6' } });
    for (const spelling of [full, canonical, upper, v4tail]) {
      assert.equal(m([{ source_ip: [spelling] }], f), true, `${spelling} vs ${canonical}`);
      assert.equal(m([{ destination_ip: [spelling] }], f), true, `${spelling} vs ${v4tail}`);
    }
    const bits = rnd(129);
    assert.equal(m([{ source_ip: [`${canonical}/${bits}`] }], f), true);
    // Flip a bit inside the prefix: no match.
    if (bits > 0) {
      const b = rnd(bits);
      const g2 = [...groups];
      g2[b >> 4] = g2[b >> 4]! ^ (0x8000 >> (b & 15));
      const other = new URL(`http://[${g2.map((g) => g.toString(16)).join(':')}]`).hostname.slice(1, -1);
      assert.equal(m([{ source_ip: [`${other}/${bits}`] }], f), false, `${other}/${bits} must not hold ${canonical}`);
    }
  }
});

test('drop_reason_desc and http_url (Hubble fields 33 and 31)', () => {
  const drop = { verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED' } as Flow;
  const other = { verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENY' } as Flow;
  const m = compileFlowFilters([{ drop_reason_desc: ['POLICY_DENIED'] }]);
  assert.equal(m(drop), true);
  assert.equal(m(other), false);
  assert.throws(() => compileFlowFilters([{ drop_reason_desc: ['NOPE'] as never }]), /whitelist\[0\]\.drop_reason_desc/);
  const http = { l7: { http: { url: 'http://api.shop:8080/v1/orders?x=1' } } } as Flow;
  const u = compileFlowFilters([{ http_url: ['/v1/orders\\?'] }]);
  assert.equal(u(http), true);
  assert.equal(u({ l7: { http: { url: 'http://api.shop/v2' } } } as Flow), false);
  assert.throws(() => compileFlowFilters([{ http_url: ['('] }]), /whitelist\[0\]\.http_url/);
});
