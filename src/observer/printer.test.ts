/**
 * Hubble's printers, checked against the outputs Hubble's own printer tests
 * document (hubble/pkg/printer/printer_test.go) for the same flows, plus the
 * cases those tests leave out (lost events, node status, policy names, list
 * nodes) against the format strings of hubble/pkg/printer/printer.go.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowPrinter, flowHostNames, flowType, formatNodesTable, formatServerStatus, formatTimestamp, goDuration, groupDigits, identityText, joinWithCutOff, type FlowPrinterOptions } from './printer.js';
import type { Flow, GetFlowsResponse } from './types.js';

/** Hubble's test flow: a SYN from 1.1.1.1:31793 (health) to 2.2.2.2:8080 (12345), dropped by policy. */
function hubbleFlow(extra: Partial<Flow> = {}): Flow {
  return {
    time: { seconds: 1234, nanos: 567800000 },
    Type: 'L3_L4',
    node_name: 'k8s1',
    verdict: 'DROPPED',
    IP: { source: '1.1.1.1', destination: '2.2.2.2' },
    l4: { TCP: { source_port: 31793, destination_port: 8080 } },
    source: { identity: 4 },
    destination: { identity: 12345 },
    event_type: { type: 1, sub_type: 133 },
    is_reply: { value: false },
    Summary: 'TCP Flags: SYN',
    ...extra,
  };
}

function print(opts: Partial<FlowPrinterOptions>, responses: GetFlowsResponse[]): { out: string; err: string } {
  let out = '';
  let err = '';
  const p = new FlowPrinter({ output: 'compact', ...opts, out: (s) => (out += s), err: (s) => (err += s) });
  for (const r of responses) p.write(r);
  p.close();
  return { out, err };
}

const flowRes = (f: Flow): GetFlowsResponse => ({ flow: f, node_name: f.node_name ?? '', time: f.time ?? null, response_types: 'flow' });

test('compact: Hubble documented lines (plain, node name, reply, unknown direction, policy verdict)', () => {
  assert.equal(print({}, [flowRes(hubbleFlow())]).out, 'Jan  1 00:20:34.567: 1.1.1.1:31793 (health) -> 2.2.2.2:8080 (ID:12345) Policy denied DROPPED (TCP Flags: SYN)\n');
  assert.equal(print({ nodeName: true }, [flowRes(hubbleFlow())]).out, 'Jan  1 00:20:34.567 [k8s1]: 1.1.1.1:31793 (health) -> 2.2.2.2:8080 (ID:12345) Policy denied DROPPED (TCP Flags: SYN)\n');
  assert.equal(
    print({ nodeName: true }, [flowRes(hubbleFlow({ is_reply: { value: true } }))]).out,
    'Jan  1 00:20:34.567 [k8s1]: 2.2.2.2:8080 (ID:12345) <- 1.1.1.1:31793 (health) Policy denied DROPPED (TCP Flags: SYN)\n',
  );
  assert.equal(print({ nodeName: true }, [flowRes(hubbleFlow({ is_reply: null }))]).out, 'Jan  1 00:20:34.567 [k8s1]: 1.1.1.1:31793 (health) <> 2.2.2.2:8080 (ID:12345) Policy denied DROPPED (TCP Flags: SYN)\n');
  const pv = hubbleFlow({ is_reply: null, event_type: { type: 5 }, traffic_direction: 'EGRESS', policy_match_type: 0 });
  assert.equal(print({ nodeName: true }, [flowRes(pv)]).out, 'Jan  1 00:20:34.567 [k8s1]: 1.1.1.1:31793 (health) <> 2.2.2.2:8080 (ID:12345) policy-verdict:none EGRESS DENIED (TCP Flags: SYN)\n');
});

test('compact: pods, reserved identities, trace points, policy verdict allowed with and without policy names', () => {
  const f = hubbleFlow({
    time: { seconds: 1796544641, nanos: 123456789 }, // 2026-12-06T08:10:41.123456789Z
    verdict: 'FORWARDED',
    source: { identity: 5678, namespace: 'default', pod_name: 'a' },
    destination: { identity: 9012, namespace: 'default', pod_name: 'b' },
    l4: { TCP: { source_port: 1234, destination_port: 80 } },
    event_type: { type: 4, sub_type: 0 },
  });
  assert.equal(print({}, [flowRes(f)]).out, 'Dec  6 08:10:41.123: default/a:1234 (ID:5678) -> default/b:80 (ID:9012) to-endpoint FORWARDED (TCP Flags: SYN)\n');
  const world = hubbleFlow({ verdict: 'FORWARDED', source: { identity: 2 }, destination: { identity: 1 }, event_type: { type: 4, sub_type: 10 } });
  assert.match(print({}, [flowRes(world)]).out, /1\.1\.1\.1:31793 \(world\) -> 2\.2\.2\.2:8080 \(host\) from-network FORWARDED/);
  const allowed = hubbleFlow({
    verdict: 'FORWARDED',
    event_type: { type: 5 },
    traffic_direction: 'INGRESS',
    policy_match_type: 2,
    ingress_allowed_by: [
      { name: 'allow-web', namespace: 'default', kind: 'CiliumNetworkPolicy', labels: [] },
      { name: '', namespace: '', kind: '', labels: [] },
      { name: 'np', namespace: 'default', kind: 'NetworkPolicy', labels: [] },
    ],
  });
  assert.match(print({}, [flowRes(allowed)]).out, / policy-verdict:L3-L4 INGRESS ALLOWED \(TCP Flags: SYN\)\n$/);
  assert.match(print({ policyNames: true }, [flowRes(allowed)]).out, / policy-verdict:L3-L4 INGRESS ALLOWED BY allow-web \(CiliumNetworkPolicy\), np \(NetworkPolicy\) \(TCP Flags: SYN\)\n$/);
  const audited = hubbleFlow({ verdict: 'AUDIT', event_type: { type: 5 }, traffic_direction: 'INGRESS' });
  assert.match(print({}, [flowRes(audited)]).out, / AUDITED /);
  // Auth, as Hubble appends it to the summary.
  assert.match(print({}, [flowRes(hubbleFlow({ auth_type: 'SPIRE' }))]).out, /\(TCP Flags: SYN; Auth: SPIRE\)\n$/);
});

test('table: Hubble documented columns, with and without NODE; rows aligned once at close', () => {
  assert.equal(
    print({ output: 'table' }, [flowRes(hubbleFlow())]).out,
    'TIMESTAMP             SOURCE          DESTINATION    TYPE            VERDICT   SUMMARY\n' + 'Jan  1 00:20:34.567   1.1.1.1:31793   2.2.2.2:8080   Policy denied   DROPPED   TCP Flags: SYN\n',
  );
  assert.equal(
    print({ output: 'table', nodeName: true }, [flowRes(hubbleFlow())]).out,
    'TIMESTAMP             NODE   SOURCE          DESTINATION    TYPE            VERDICT   SUMMARY\n' + 'Jan  1 00:20:34.567   k8s1   1.1.1.1:31793   2.2.2.2:8080   Policy denied   DROPPED   TCP Flags: SYN\n',
  );
  const two = print({ output: 'table' }, [flowRes(hubbleFlow()), flowRes(hubbleFlow({ source: { identity: 1, namespace: 'kube-system', pod_name: 'coredns-abc' } }))]).out.split('\n');
  assert.equal(two.length, 4);
  // The second row's longer source widens the column for every row.
  assert.equal(two[0]!.indexOf('DESTINATION'), two[1]!.indexOf('2.2.2.2:8080'));
  assert.equal(two[1]!.indexOf('2.2.2.2:8080'), two[2]!.indexOf('2.2.2.2:8080'));
  assert.equal(two[2]!.indexOf('kube-system/coredns-abc:31793'), 22);
});

test('dict: Hubble documented blocks, separated by ------------', () => {
  assert.equal(
    print({ output: 'dict' }, [flowRes(hubbleFlow())]).out,
    '  TIMESTAMP: Jan  1 00:20:34.567\n     SOURCE: 1.1.1.1:31793\nDESTINATION: 2.2.2.2:8080\n       TYPE: Policy denied\n    VERDICT: DROPPED\n    SUMMARY: TCP Flags: SYN\n',
  );
  const withNode = print({ output: 'dict', nodeName: true }, [flowRes(hubbleFlow()), flowRes(hubbleFlow())]).out;
  assert.equal(
    withNode,
    '  TIMESTAMP: Jan  1 00:20:34.567\n       NODE: k8s1\n     SOURCE: 1.1.1.1:31793\nDESTINATION: 2.2.2.2:8080\n       TYPE: Policy denied\n    VERDICT: DROPPED\n    SUMMARY: TCP Flags: SYN\n' +
      '------------\n' +
      '  TIMESTAMP: Jan  1 00:20:34.567\n       NODE: k8s1\n     SOURCE: 1.1.1.1:31793\nDESTINATION: 2.2.2.2:8080\n       TYPE: Policy denied\n    VERDICT: DROPPED\n    SUMMARY: TCP Flags: SYN\n',
  );
});

test('json and jsonpb: one GetFlowsResponse per line in protobuf JSON with proto names (Hubble documented)', () => {
  const expected =
    '{"flow":{"time":"1970-01-01T00:20:34.567800Z","verdict":"DROPPED","IP":{"source":"1.1.1.1","destination":"2.2.2.2"},' +
    '"l4":{"TCP":{"source_port":31793,"destination_port":8080}},"source":{"identity":4},"destination":{"identity":12345},' +
    '"Type":"L3_L4","node_name":"k8s1","event_type":{"type":1,"sub_type":133},"is_reply":false,"Summary":"TCP Flags: SYN"}}';
  // Hubble's test response carries only the flow; the same object through both aliases.
  const res: GetFlowsResponse = { flow: hubbleFlow(), response_types: 'flow' };
  for (const output of ['json', 'jsonpb'] as const) {
    const { out } = print({ output }, [res, res]);
    const lines = out.split('\n');
    assert.equal(lines.length, 3);
    assert.deepEqual(JSON.parse(lines[0]!), JSON.parse(expected));
    assert.equal(lines[2], '');
  }
});

test('lost events: Hubble compact, dict and table lines, on stdout', () => {
  const lost: GetFlowsResponse = { lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: '12', cpu: { value: 0 } }, response_types: 'lost_events' };
  assert.deepEqual(print({}, [lost]), { out: 'EVENTS LOST: HUBBLE_RING_BUFFER CPU(0) 12\n', err: '' });
  assert.equal(print({ output: 'dict' }, [flowRes(hubbleFlow()), lost]).out.split('------------\n')[1], '  TIMESTAMP: \n     SOURCE: HUBBLE_RING_BUFFER\n       TYPE: EVENTS LOST\n    VERDICT: \n    SUMMARY: CPU(0) - 12\n');
  const table = print({ output: 'table' }, [lost]).out.split('\n');
  assert.equal(table[0], 'TIMESTAMP   SOURCE               DESTINATION   TYPE          VERDICT   SUMMARY');
  assert.equal(table[1], ' '.repeat(12) + 'HUBBLE_RING_BUFFER   ' + ' '.repeat(14) + 'EVENTS LOST   ' + ' '.repeat(10) + 'CPU(0) - 12');
  const json = JSON.parse(print({ output: 'json' }, [lost]).out);
  assert.deepEqual(json, { lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: '12', cpu: 0 } });
});

test('node status events: only trouble, on stderr, as Hubble words them', () => {
  const at = { seconds: 1796544641, nanos: 0 };
  const unavailable: GetFlowsResponse = { node_status: { state_change: 'NODE_UNAVAILABLE', node_names: ['node2', 'node3'], message: '' }, node_name: 'relay', time: at, response_types: 'node_status' };
  const error: GetFlowsResponse = { node_status: { state_change: 'NODE_ERROR', node_names: ['node2'], message: 'connection refused' }, node_name: 'relay', time: at, response_types: 'node_status' };
  const connected: GetFlowsResponse = { node_status: { state_change: 'NODE_CONNECTED', node_names: ['node1'], message: '' }, node_name: 'relay', time: at, response_types: 'node_status' };
  assert.deepEqual(print({}, [unavailable, error, connected]), {
    out: '',
    err: 'Dec  6 08:10:41.000 [relay]: 2 nodes are unavailable: node2, node3\n' + 'Dec  6 08:10:41.000 [relay]: Error "connection refused" on 1 nodes: node2\n',
  });
  assert.equal(print({ debug: true }, [connected]).err, 'Dec  6 08:10:41.000 [relay]: Receiving flows from 1 nodes: node1\n');
  const json = print({ output: 'json' }, [unavailable]);
  assert.equal(json.out, '');
  assert.deepEqual(JSON.parse(json.err), { node_status: { state_change: 'NODE_UNAVAILABLE', node_names: ['node2', 'node3'] }, node_name: 'relay', time: '2026-12-06T08:10:41Z' });
  assert.equal(print({ output: 'dict' }, [error]).err, '  TIMESTAMP: Dec  6 08:10:41.000\n      STATE: NODE_ERROR\n      NODES: node2\n    MESSAGE: "connection refused"\n');
});

test('host names: pods, Services, DNS names, Ethernet, IPv6, --numeric (Hubble GetHostNames cases)', () => {
  const base: Flow = { IP: { source: '1.1.1.1', destination: '2.2.2.2' } };
  assert.deepEqual(flowHostNames(base), ['1.1.1.1', '2.2.2.2']);
  assert.deepEqual(flowHostNames({ ...base, source: { namespace: 'srcns', pod_name: 'srcpod' }, destination: { namespace: 'dstns', pod_name: 'dstpod' } }), ['srcns/srcpod', 'dstns/dstpod']);
  assert.deepEqual(flowHostNames({ ...base, l4: { UDP: { source_port: 55555, destination_port: 53 } } }), ['1.1.1.1:55555', '2.2.2.2:53']);
  assert.deepEqual(flowHostNames({ ...base, l4: { SCTP: { source_port: 55555, destination_port: 5060 } } }), ['1.1.1.1:55555', '2.2.2.2:5060']);
  assert.deepEqual(
    flowHostNames({ ...base, l4: { TCP: { source_port: 55555, destination_port: 80 } }, source_service: { namespace: 'default', name: 'xwing' }, destination_service: { namespace: 'deathstar', name: 'tiefighter' } }),
    ['default/xwing:55555', 'deathstar/tiefighter:80'],
  );
  assert.deepEqual(flowHostNames({ ...base, l4: { UDP: { source_port: 54321, destination_port: 65432 } }, source_names: ['a'], destination_names: ['b'] }), ['a:54321', 'b:65432']);
  assert.deepEqual(flowHostNames({ ethernet: { source: '00:01:02:03:04:05', destination: '06:07:08:09:0a:0b' } }), ['00:01:02:03:04:05', '06:07:08:09:0a:0b']);
  assert.deepEqual(flowHostNames({ IP: { source: 'fd00::1', destination: 'fd00::2' }, l4: { TCP: { source_port: 1, destination_port: 443 } } }), ['[fd00::1]:1', '[fd00::2]:443']);
  assert.deepEqual(flowHostNames({ ...base, source: { namespace: 'ns', pod_name: 'p' } }, false), ['1.1.1.1', '2.2.2.2']);
  // ICMP has no ports; a port 0 is not printed.
  assert.deepEqual(flowHostNames({ ...base, l4: { ICMPv4: { type: 8 } } }), ['1.1.1.1', '2.2.2.2']);
});

test('flow types (Hubble GetFlowType cases) and identities', () => {
  assert.equal(flowType({ l7: { type: 'REQUEST' } }), 'l7-request');
  assert.equal(flowType({ l7: { type: 'RESPONSE', http: {} } }), 'http-response');
  assert.equal(flowType({ l7: { type: 'REQUEST', kafka: {} } }), 'kafka-request');
  assert.equal(flowType({ l7: { type: 'REQUEST', dns: { observation_source: 'proxy' } } }), 'dns-request proxy');
  assert.equal(flowType({ event_type: { type: 4, sub_type: 2 } }), 'to-host');
  assert.equal(flowType({ verdict: 'FORWARDED', event_type: { type: 5 }, policy_match_type: 2, traffic_direction: 'INGRESS' }), 'policy-verdict:L3-L4 INGRESS');
  assert.equal(flowType({ verdict: 'DROPPED', event_type: { type: 5 }, traffic_direction: 'INGRESS' }), 'policy-verdict:none INGRESS');
  assert.equal(flowType({ event_type: { type: 7 }, sock_xlate_point: 'SOCK_XLATE_POINT_PRE_DIRECTION_FWD' }), 'pre-xlate-fwd');
  assert.equal(flowType({ event_type: { type: 7 }, sock_xlate_point: 'SOCK_XLATE_POINT_POST_DIRECTION_FWD' }), 'post-xlate-fwd');
  assert.equal(flowType({ event_type: { type: 3 }, debug_capture_point: 'DBG_CAPTURE_DELIVERY' }), 'DBG_CAPTURE_DELIVERY');
  assert.equal(flowType({ event_type: { type: 1, sub_type: 250 } }), '250, 0');
  assert.equal(flowType({}), 'UNKNOWN');
  assert.equal(identityText(0), '(unknown)');
  assert.equal(identityText(2), '(world)');
  assert.equal(identityText(6), '(remote-node)');
  assert.equal(identityText(16777217), '(ID:16777217)');
});

test('timestamps in every --time-format (Hubble fmtTimestamp cases)', () => {
  assert.equal(formatTimestamp({ seconds: 0, nanos: 0 }), 'Jan  1 00:00:00.000');
  assert.equal(formatTimestamp({ seconds: 1530984600, nanos: 123000000 }), 'Jul  7 17:30:00.123');
  assert.equal(formatTimestamp({ seconds: -1, nanos: -1 }), 'N/A');
  assert.equal(formatTimestamp(null), 'N/A');
  const t = { seconds: '1796544641', nanos: 123450000 };
  assert.equal(formatTimestamp(t, 'YearMonthDay'), '2026-12-06');
  assert.equal(formatTimestamp(t, 'YearMonthDayHour'), '2026-12-06T08Z');
  assert.equal(formatTimestamp(t, 'YearMonthDayHourMinute'), '2026-12-06T08:10Z');
  assert.equal(formatTimestamp(t, 'RFC3339'), '2026-12-06T08:10:41Z');
  assert.equal(formatTimestamp(t, 'RFC3339Milli'), '2026-12-06T08:10:41.123Z');
  assert.equal(formatTimestamp(t, 'RFC3339Micro'), '2026-12-06T08:10:41.123450Z');
  assert.equal(formatTimestamp(t, 'RFC3339Nano'), '2026-12-06T08:10:41.12345Z');
  assert.equal(formatTimestamp({ seconds: 1796544641, nanos: 0 }, 'RFC3339Nano'), '2026-12-06T08:10:41Z');
  assert.equal(formatTimestamp(t, 'RFC1123Z'), 'Sun, 06 Dec 2026 08:10:41 +0000');
  assert.match(print({ timeFormat: 'RFC3339' }, [flowRes(hubbleFlow())]).out, /^1970-01-01T00:20:34Z: /);
});

test('server status: Hubble documented compact lines; unavailable nodes listed sorted', () => {
  const base = { num_flows: '2031', max_flows: '4095', seen_flows: '2348885', uptime_ns: '301515181665', version: 'v' };
  assert.equal(formatServerStatus(base), 'Current/Max Flows: 2,031/4,095 (49.60%)\nFlows/s: 7790.27\n');
  assert.equal(
    formatServerStatus({ num_flows: '2771', max_flows: '8190', seen_flows: '2771', uptime_ns: '301515181665', num_connected_nodes: { value: 2 }, num_unavailable_nodes: { value: 0 } }),
    'Current/Max Flows: 2,771/8,190 (33.83%)\nFlows/s: 9.19\nConnected Nodes: 2/2\n',
  );
  assert.equal(
    formatServerStatus({ ...base, num_connected_nodes: { value: 1 }, num_unavailable_nodes: { value: 3 }, unavailable_nodes: ['node3', 'node2'] }),
    'Current/Max Flows: 2,031/4,095 (49.60%)\nFlows/s: 7790.27\nConnected Nodes: 1/4\nUnavailable Nodes: 3\n  - node2\n  - node3\n  - and 1 more...\n',
  );
  assert.equal(formatServerStatus({}), 'Current/Max Flows: 0/0\nFlows/s: N/A\n');
  assert.equal(groupDigits(1000000), '1,000,000');
  assert.equal(groupDigits(999), '999');
});

test('list nodes: NAME STATUS AGE FLOWS/S CURRENT/MAX-FLOWS, sorted, Go durations', () => {
  const out = formatNodesTable([
    { name: 'node2', state: 'NODE_UNAVAILABLE', uptime_ns: '0', num_flows: '0', max_flows: '0', seen_flows: '0' },
    { name: 'node1', state: 'NODE_CONNECTED', uptime_ns: '301515181665', num_flows: '2031', max_flows: '4095', seen_flows: '2348885' },
  ]);
  assert.equal(out, 'NAME    STATUS        AGE    FLOWS/S   CURRENT/MAX-FLOWS\n' + 'node1   Connected     5m2s   7777.76   2031/4095 ( 49.60%)\n' + 'node2   Unavailable   N/A    N/A       N/A\n');
  assert.match(formatNodesTable([{ name: 'n', state: 'NODE_CONNECTED', version: 'beeline 0.1.0', address: 'unix:///a.sock', tls: null }], true), /VERSION\s+ADDRESS\s+TLS\nn\s+Connected\s+N\/A\s+N\/A\s+N\/A\s+beeline 0\.1\.0\s+unix:\/\/\/a\.sock\s+N\/A\n/);
  assert.equal(goDuration(301515181665n), '5m1.515181665s');
  assert.equal(goDuration(3_600_000_000_000n + 2_000_000_000n), '1h0m2s');
  assert.equal(goDuration(1_500_000n), '1.5ms');
  assert.equal(joinWithCutOff(['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc', 'dddddddddd', 'eeeeeeeeee'], ', ', 30), 'aaaaaaaaaa, bbbbbbbbbb (and 3 more)');
});

test('--print-policy-names on a policy drop: the deciding policies, and a default deny says so', async () => {
  const { verdictText } = await import('./printer.js');
  const pol = [{ name: 'server-ingress', namespace: 'obs', kind: 'CiliumNetworkPolicy', labels: [] }];
  const drop = (reason: string) => ({ verdict: 'DROPPED', drop_reason_desc: reason, event_type: { type: 1, sub_type: 133 }, ingress_denied_by: pol }) as never;
  assert.equal(verdictText(drop('POLICY_DENIED'), true), 'DROPPED BY default deny of server-ingress (CiliumNetworkPolicy)');
  assert.equal(verdictText(drop('POLICY_DENY'), true), 'DROPPED BY server-ingress (CiliumNetworkPolicy)');
  assert.equal(verdictText(drop('POLICY_DENIED'), false), 'DROPPED');
});
