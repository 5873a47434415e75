import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlDirection, BlDropReason, BlPolicyAction, BlPolicyMatch, BlTracePoint, BlTraceReason } from '../datapath/generated/abi.js';
import { toProtoJson } from '../api/proto.js';
import { decodeMonitorEvent } from './event.js';
import { dropReasonName, flowFromEvent, observationPointName, traceReasonName, wallClockNow, type FlowOptions } from './flow.js';
import type { DecidingPolicy, EndpointInfo, Flow, FlowEnricher } from './types.js';
import {
  ETH_IPV4,
  ETH_IPV6,
  arp,
  dropRecord,
  ethernet,
  icmpEcho,
  ip4Number,
  ipv4,
  ipv6,
  policyVerdictRecord,
  tcp,
  traceRecord,
  udp,
  vxlan,
  ETH_ARP,
} from '../../test/lib/packets.js';

// ---- a small cluster, as the agent's caches would answer

const CLIENT: EndpointInfo = {
  id: 1234,
  identity: 5001,
  namespace: 'default',
  podName: 'client-7d9f',
  labels: ['k8s:app=client', 'k8s:io.kubernetes.pod.namespace=default'],
  workloads: [{ name: 'client', kind: 'Deployment' }],
};
const SERVER: EndpointInfo = {
  id: 2345,
  identity: 5002,
  namespace: 'default',
  podName: 'server-0',
  labels: ['k8s:app=server', 'k8s:io.kubernetes.pod.namespace=default'],
  workloads: [{ name: 'server', kind: 'StatefulSet' }],
};
/** A pod on another node: no local endpoint id. */
const REMOTE: EndpointInfo = { identity: 5003, namespace: 'shop', podName: 'cart-1', labels: ['k8s:app=cart', 'k8s:io.kubernetes.pod.namespace=shop'] };
const WORLD_KNOWN: EndpointInfo = { identity: 2, labels: ['reserved:world'] };

const DENY_CLIENT: DecidingPolicy = { name: 'deny-client', namespace: 'default', kind: 'CiliumNetworkPolicy', labels: ['k8s:io.cilium.k8s.policy.name=deny-client'], revision: 3 };
const SERVER_INGRESS: DecidingPolicy = { name: 'server-ingress', namespace: 'default', kind: 'NetworkPolicy', labels: ['k8s:io.cilium.k8s.policy.name=server-ingress'] };
const ALLOW_DNS: DecidingPolicy = { name: 'allow-dns', namespace: 'default', kind: 'CiliumNetworkPolicy', labels: ['k8s:io.cilium.k8s.policy.name=allow-dns'], revision: 7 };

const COOKIE_DENY_CLIENT = 7;
const COOKIE_ALLOW_DNS = 9;

function fakeEnricher(): FlowEnricher & { calls: string[] } {
  const byIP = new Map<string, EndpointInfo>([
    ['10.0.1.5', CLIENT],
    ['10.0.1.8', SERVER],
    ['10.0.2.7', REMOTE],
    ['1.1.1.1', WORLD_KNOWN],
  ]);
  const byId = new Map<number, EndpointInfo>([
    [1234, CLIENT],
    [2345, SERVER],
  ]);
  const identities = new Map<number, string[]>([
    [5001, CLIENT.labels],
    [5002, SERVER.labels],
    [5003, REMOTE.labels],
    // Out of order on purpose: the flow's labels are sorted.
    [5009, ['k8s:zone=b', 'k8s:app=batch']],
  ]);
  const services = new Map<string, { name: string; namespace: string }>([
    ['10.96.0.10:80/tcp', { name: 'web', namespace: 'default' }],
    ['10.96.0.53:53/udp', { name: 'kube-dns', namespace: 'kube-system' }],
  ]);
  const calls: string[] = [];
  return {
    nodeName: 'node-a',
    calls,
    endpointById: (id) => byId.get(id),
    endpointByIP: (ip) => byIP.get(ip),
    identityLabels: (id) => identities.get(id),
    serviceByFrontend: (ip, port, protocol) => services.get(`${ip}:${port}/${protocol}`),
    policiesByCookie: (cookie) => (cookie === COOKIE_DENY_CLIENT ? [DENY_CLIENT] : cookie === COOKIE_ALLOW_DNS ? [ALLOW_DNS] : []),
    defaultDenyPolicies: (endpointId, direction) => {
      calls.push(`defaultDenyPolicies(${endpointId}, ${direction})`);
      return endpointId === 2345 && direction === 'ingress' ? [SERVER_INGRESS] : [];
    },
    namesForIP: (ip) => (ip === '1.1.1.1' ? ['one.one.one.one'] : []),
  };
}

const FIXED: FlowOptions = { now: () => ({ seconds: 1_700_000_000, nanos: 123_456_789 }), uuid: () => '6b1c3b4e-2f5a-4c1d-9e8f-0a1b2c3d4e5f' };

function flowOf(record: Uint8Array, enricher: FlowEnricher = fakeEnricher(), opts: FlowOptions = FIXED): Flow {
  const f = flowFromEvent(decodeMonitorEvent(record), enricher, opts);
  assert.ok(f, 'a flow');
  return f;
}

const MAC_CLIENT = '0a:00:00:00:01:05';
const MAC_SERVER = '0a:00:00:00:01:08';

function tcpPacket(src: string, dst: string, sport: number, dport: number, flags: string): Buffer {
  return ethernet({ type: ETH_IPV4, src: MAC_CLIENT, dst: MAC_SERVER }, ipv4({ src, dst, protocol: 6, df: true }, tcp({ sport, dport, flags })));
}

const clientSyn = () => tcpPacket('10.0.1.5', '10.0.1.8', 41234, 80, 'S');

// ---- trace events

test('a TCP SYN traced to the receiving endpoint: both local endpoints, the packet, the trace fields', () => {
  const f = flowOf(
    traceRecord(clientSyn(), { subtype: BlTracePoint.BL_TRACE_TO_LXC, source: 2345, src_identity: 5001, dst_identity: 5002, ifindex: 17 }, { dst_id: 2345, reason: BlTraceReason.BL_TRACE_REASON_POLICY }),
  );
  assert.deepEqual(f.time, { seconds: 1_700_000_000, nanos: 123_456_789 });
  assert.equal(f.uuid, '6b1c3b4e-2f5a-4c1d-9e8f-0a1b2c3d4e5f');
  assert.equal(f.node_name, 'node-a');
  assert.equal(f.Type, 'L3_L4');
  assert.equal(f.verdict, 'FORWARDED');
  assert.equal(f.drop_reason, 0);
  assert.equal(f.drop_reason_desc, undefined);
  assert.deepEqual(f.ethernet, { source: MAC_CLIENT, destination: MAC_SERVER });
  assert.deepEqual(f.IP, { source: '10.0.1.5', destination: '10.0.1.8', ipVersion: 'IPv4' });
  assert.equal(f.l4?.protocol, 'TCP');
  assert.equal(f.l4?.TCP?.source_port, 41234);
  assert.equal(f.l4?.TCP?.destination_port, 80);
  assert.deepEqual(f.l4?.TCP?.flags, { FIN: false, SYN: true, RST: false, PSH: false, ACK: false, URG: false, ECE: false, CWR: false, NS: false });
  assert.deepEqual(f.source, {
    ID: 1234,
    identity: 5001,
    namespace: 'default',
    labels: ['k8s:app=client', 'k8s:io.kubernetes.pod.namespace=default'],
    pod_name: 'client-7d9f',
    workloads: [{ name: 'client', kind: 'Deployment' }],
  });
  assert.deepEqual(f.destination, {
    ID: 2345,
    identity: 5002,
    namespace: 'default',
    labels: ['k8s:app=server', 'k8s:io.kubernetes.pod.namespace=default'],
    pod_name: 'server-0',
    workloads: [{ name: 'server', kind: 'StatefulSet' }],
  });
  // TO_LXC (0) is Hubble's TO_ENDPOINT (101); the event type keeps the datapath's number.
  assert.equal(f.trace_observation_point, 'TO_ENDPOINT');
  assert.deepEqual(f.event_type, { type: 4, sub_type: 0 });
  assert.equal(f.trace_reason, 'NEW');
  assert.deepEqual(f.is_reply, { value: false });
  assert.equal(f.reply, false);
  // Reported by the receiver (2345), not a reply: ingress.
  assert.equal(f.traffic_direction, 'INGRESS');
  assert.deepEqual(f.interface, { index: 17, name: '' });
  assert.equal(f.Summary, 'TCP Flags: SYN');
  assert.equal(f.destination_service, undefined);
  assert.equal(f.source_names, undefined);
  for (const k of ['egress_allowed_by', 'ingress_allowed_by', 'egress_denied_by', 'ingress_denied_by'] as const) assert.equal(f[k], undefined, k);
});

test('the same SYN at the sender (FROM_LXC) is egress, with the observation point as the event sub-type', () => {
  const f = flowOf(traceRecord(clientSyn(), { subtype: BlTracePoint.BL_TRACE_FROM_LXC, source: 1234, src_identity: 5001 }, { dst_id: 2345, reason: BlTraceReason.BL_TRACE_REASON_POLICY }));
  assert.equal(f.trace_observation_point, 'FROM_ENDPOINT');
  assert.deepEqual(f.event_type, { type: 4, sub_type: BlTracePoint.BL_TRACE_FROM_LXC });
  assert.equal(f.traffic_direction, 'EGRESS');
  // dst_identity 0 in the event (FROM_LXC before the lookup): the caches' identity.
  assert.equal(f.destination?.identity, 5002);
  assert.equal(f.source?.identity, 5001);
});

test('a reply traced at the server: is_reply true, REPLY, and the direction turned around', () => {
  const synAck = tcpPacket('10.0.1.8', '10.0.1.5', 80, 41234, 'SA');
  const f = flowOf(traceRecord(synAck, { subtype: BlTracePoint.BL_TRACE_FROM_LXC, source: 2345, src_identity: 5002, dst_identity: 5001 }, { dst_id: 1234, reason: BlTraceReason.BL_TRACE_REASON_CT_REPLY }));
  assert.deepEqual(f.is_reply, { value: true });
  assert.equal(f.reply, true);
  assert.equal(f.trace_reason, 'REPLY');
  assert.equal(f.source?.pod_name, 'server-0');
  assert.equal(f.destination?.pod_name, 'client-7d9f');
  // The server's own packet, but a reply: part of an ingress connection (Hubble's rule).
  assert.equal(f.traffic_direction, 'INGRESS');
  assert.equal(f.Summary, 'TCP Flags: SYN, ACK');
  assert.equal(f.l4?.TCP?.flags?.ACK, true);
});

test('a trace without connection tracking: no is_reply, TRACE_REASON_UNKNOWN, no direction', () => {
  const f = flowOf(traceRecord(clientSyn(), { subtype: BlTracePoint.BL_TRACE_TO_NETWORK, source: 1234 }, { reason: BlTraceReason.BL_TRACE_REASON_UNKNOWN }));
  assert.equal(f.is_reply, undefined);
  assert.equal(f.reply, false);
  assert.equal(f.trace_reason, 'TRACE_REASON_UNKNOWN');
  assert.equal(f.traffic_direction, 'TRAFFIC_DIRECTION_UNKNOWN');
  assert.equal(f.trace_observation_point, 'TO_NETWORK');
});

test('a Service-translated trace: the original destination (orig_ip4) names the Service', () => {
  // 10.96.0.10:80 was translated to the backend 10.0.1.8:80 before the trace.
  const f = flowOf(
    traceRecord(clientSyn(), { subtype: BlTracePoint.BL_TRACE_FROM_LXC, source: 1234, src_identity: 5001, dst_identity: 5002 }, { dst_id: 2345, reason: 0, orig_ip4: ip4Number('10.96.0.10') }),
  );
  assert.deepEqual(f.destination_service, { name: 'web', namespace: 'default' });
  assert.equal(f.source_service, undefined);
  // The wire address stays in IP; the Service is reported beside it.
  assert.equal(f.IP?.destination, '10.0.1.8');
  assert.equal(f.destination?.pod_name, 'server-0');
});

test('a packet still addressed to a frontend names the Service; a reply from the frontend names the source Service', () => {
  const toFrontend = flowOf(traceRecord(tcpPacket('10.0.1.5', '10.96.0.10', 41234, 80, 'S'), { subtype: BlTracePoint.BL_TRACE_TO_STACK, source: 1234 }, { reason: 0 }));
  assert.deepEqual(toFrontend.destination_service, { name: 'web', namespace: 'default' });
  const fromFrontend = flowOf(traceRecord(tcpPacket('10.96.0.10', '10.0.1.5', 80, 41234, 'SA'), { subtype: BlTracePoint.BL_TRACE_TO_LXC, source: 1234 }, { dst_id: 1234, reason: BlTraceReason.BL_TRACE_REASON_CT_REPLY }));
  assert.deepEqual(fromFrontend.source_service, { name: 'web', namespace: 'default' });
  assert.equal(fromFrontend.destination_service, undefined);
  // The right protocol only: port 80 over UDP is no Service.
  const udp80 = flowOf(traceRecord(ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.96.0.10', protocol: 17 }, udp({ sport: 5000, dport: 80 }))), { source: 1234 }, { reason: 0 }));
  assert.equal(udp80.destination_service, undefined);
});

test('a UDP DNS query to the cluster DNS Service', () => {
  const dns = ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.96.0.53', protocol: 17 }, udp({ sport: 53000, dport: 53 }, Buffer.alloc(29))));
  const f = flowOf(traceRecord(dns, { subtype: BlTracePoint.BL_TRACE_FROM_LXC, source: 1234, src_identity: 5001 }, { reason: BlTraceReason.BL_TRACE_REASON_POLICY }));
  assert.deepEqual(f.l4, { UDP: { source_port: 53000, destination_port: 53 }, protocol: 'UDP' });
  assert.equal(f.Summary, 'UDP');
  assert.deepEqual(f.destination_service, { name: 'kube-dns', namespace: 'kube-system' });
  assert.equal(f.traffic_direction, 'EGRESS');
});

test('an ICMP echo to a world address: ICMPv4 type and code, reserved:world, DNS names', () => {
  const ping = ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '1.1.1.1', protocol: 1 }, icmpEcho({ type: 8, id: 77, seq: 1 }, Buffer.alloc(56))));
  const f = flowOf(traceRecord(ping, { subtype: BlTracePoint.BL_TRACE_TO_STACK, source: 1234, src_identity: 5001, dst_identity: 2 }, { reason: BlTraceReason.BL_TRACE_REASON_POLICY }));
  assert.deepEqual(f.l4, { ICMPv4: { type: 8, code: 0 }, protocol: 'ICMPv4' });
  assert.equal(f.Summary, 'ICMPv4 EchoRequest');
  assert.deepEqual(f.destination, { ID: 0, identity: 2, namespace: '', labels: ['reserved:world'], pod_name: '', workloads: undefined });
  assert.deepEqual(f.destination_names, ['one.one.one.one']);
  assert.equal(f.source_names, undefined);
  assert.equal(f.trace_observation_point, 'TO_STACK');
});

test('ICMPv6 echo over IPv6', () => {
  const ping6 = ethernet({ type: ETH_IPV6 }, ipv6({ src: 'fd00::5', dst: '2606:4700::1111', nextHeader: 58 }, icmpEcho({ type: 128, id: 1, seq: 1 })));
  const f = flowOf(traceRecord(ping6, { subtype: BlTracePoint.BL_TRACE_FROM_LXC, proto: ETH_IPV6, dst_identity: 2 }, { reason: BlTraceReason.BL_TRACE_REASON_POLICY }));
  assert.deepEqual(f.IP, { source: 'fd00::5', destination: '2606:4700::1111', ipVersion: 'IPv6' });
  assert.deepEqual(f.l4, { ICMPv6: { type: 128, code: 0 }, protocol: 'ICMPv6' });
  assert.equal(f.Summary, 'ICMPv6 EchoRequest');
});

test('a world peer nobody knows: the datapath identity and the reserved labels, with no enricher labels needed', () => {
  const fromWorld = tcpPacket('8.8.8.8', '10.0.1.5', 443, 41000, 'SA');
  const f = flowOf(traceRecord(fromWorld, { subtype: BlTracePoint.BL_TRACE_TO_LXC, source: 1234, src_identity: 2, dst_identity: 5001 }, { dst_id: 1234, reason: BlTraceReason.BL_TRACE_REASON_CT_REPLY }));
  assert.deepEqual(f.source, { ID: 0, identity: 2, namespace: '', labels: ['reserved:world'], pod_name: '', workloads: undefined });
  assert.equal(f.destination?.ID, 1234);
  // A reply delivered to the client: its egress connection.
  assert.equal(f.traffic_direction, 'EGRESS');
  // Other reserved identities get their labels too.
  const fromHost = flowOf(traceRecord(tcpPacket('192.168.1.10', '10.0.1.5', 22, 41000, 'S'), { subtype: BlTracePoint.BL_TRACE_TO_LXC, source: 1234, src_identity: 1 }, { reason: 0 }));
  assert.deepEqual(fromHost.source?.labels, ['reserved:host']);
  const fromNode = flowOf(traceRecord(tcpPacket('172.18.0.12', '10.0.1.5', 22, 41000, 'S'), { subtype: BlTracePoint.BL_TRACE_TO_LXC, source: 1234, src_identity: 6 }, { reason: 0 }));
  assert.deepEqual(fromNode.source?.labels, ['reserved:remote-node']);
});

test('a remote pod: namespace and pod from the caches, no endpoint id; a newer datapath identity brings its own labels, sorted', () => {
  const f = flowOf(traceRecord(tcpPacket('10.0.2.7', '10.0.1.8', 5555, 80, 'S'), { subtype: BlTracePoint.BL_TRACE_TO_LXC, source: 2345, dst_identity: 5002 }, { dst_id: 2345, reason: 0 }));
  assert.deepEqual(f.source, { ID: 0, identity: 5003, namespace: 'shop', labels: REMOTE.labels, pod_name: 'cart-1', workloads: undefined });
  const changed = flowOf(traceRecord(tcpPacket('10.0.2.7', '10.0.1.8', 5555, 80, 'S'), { subtype: BlTracePoint.BL_TRACE_TO_LXC, source: 2345, src_identity: 5009 }, { dst_id: 2345, reason: 0 }));
  assert.equal(changed.source?.identity, 5009);
  assert.deepEqual(changed.source?.labels, ['k8s:app=batch', 'k8s:zone=b']);
});

test('a VXLAN capture is reported by its inner packet', () => {
  const inner = ethernet({ type: ETH_IPV4, src: MAC_CLIENT, dst: MAC_SERVER }, ipv4({ src: '10.0.2.7', dst: '10.0.1.8', protocol: 6 }, tcp({ sport: 5555, dport: 80, flags: 'S' })));
  const outer = ethernet({ type: ETH_IPV4 }, ipv4({ src: '172.18.0.12', dst: '172.18.0.11', protocol: 17 }, udp({ sport: 40000, dport: 8472 }, vxlan(2, inner))));
  const f = flowOf(traceRecord(outer, { subtype: BlTracePoint.BL_TRACE_FROM_OVERLAY }, { reason: BlTraceReason.BL_TRACE_REASON_UNKNOWN }));
  assert.deepEqual(f.IP, { source: '10.0.2.7', destination: '10.0.1.8', ipVersion: 'IPv4' });
  assert.deepEqual(f.ethernet, { source: MAC_CLIENT, destination: MAC_SERVER });
  assert.equal(f.l4?.TCP?.destination_port, 80);
  assert.equal(f.Summary, 'TCP Flags: SYN');
  assert.equal(f.trace_observation_point, 'FROM_OVERLAY');
});

test('an ARP request: Ethernet only, the sending endpoint from the event', () => {
  const req = ethernet({ type: ETH_ARP, src: MAC_CLIENT, dst: 'ff:ff:ff:ff:ff:ff' }, arp({ op: 1, senderMac: MAC_CLIENT, senderIp: '10.0.1.5', targetMac: '00:00:00:00:00:00', targetIp: '10.0.1.1' }));
  const f = flowOf(traceRecord(req, { subtype: BlTracePoint.BL_TRACE_FROM_LXC, source: 1234, proto: ETH_ARP }, { reason: BlTraceReason.BL_TRACE_REASON_UNKNOWN }));
  assert.equal(f.IP, undefined);
  assert.equal(f.l4, undefined);
  assert.deepEqual(f.ethernet, { source: MAC_CLIENT, destination: 'ff:ff:ff:ff:ff:ff' });
  assert.equal(f.Summary, 'Ethernet');
  assert.equal(f.source?.pod_name, 'client-7d9f');
  assert.equal(f.source?.ID, 1234);
  assert.equal(f.destination?.ID, 0);
});

// ---- drops

test('a policy drop with a cookie: DROPPED, the reason, and ingress_denied_by names the policy', () => {
  const e = fakeEnricher();
  const f = flowOf(dropRecord(clientSyn(), { subtype: BlDropReason.BL_DROP_POLICY_DENY, source: 2345, src_identity: 5001, dst_identity: 5002 }, { cookie: COOKIE_DENY_CLIENT, file: 2, line: 99 }), e);
  assert.equal(f.verdict, 'DROPPED');
  assert.equal(f.drop_reason, 181);
  assert.equal(f.drop_reason_desc, 'POLICY_DENY');
  assert.deepEqual(f.event_type, { type: 1, sub_type: 181 });
  // Reported by the receiver: ingress (Hubble's rule for drops).
  assert.equal(f.traffic_direction, 'INGRESS');
  assert.deepEqual(f.ingress_denied_by, [{ name: 'deny-client', namespace: 'default', kind: 'CiliumNetworkPolicy', labels: ['k8s:io.cilium.k8s.policy.name=deny-client'], revision: 3 }]);
  assert.equal(f.egress_denied_by, undefined);
  assert.equal(f.is_reply, undefined);
  assert.equal(f.trace_observation_point, undefined);
  assert.equal(f.trace_reason, undefined);
  assert.equal(f.interface, undefined);
  assert.deepEqual(e.calls, [], 'a cookie that names policies needs no default-deny lookup');
});

test('a default-deny drop without a cookie names the policies that made the endpoint default-deny', () => {
  const e = fakeEnricher();
  const f = flowOf(dropRecord(clientSyn(), { subtype: BlDropReason.BL_DROP_POLICY, source: 2345, src_identity: 5001, dst_identity: 5002 }, { cookie: 0 }), e);
  assert.equal(f.drop_reason_desc, 'POLICY_DENIED');
  assert.deepEqual(e.calls, ['defaultDenyPolicies(2345, ingress)']);
  assert.deepEqual(f.ingress_denied_by?.map((p) => p.name), ['server-ingress']);
  // At the sender: egress, and the sender's egress default deny is asked for.
  const e2 = fakeEnricher();
  const g = flowOf(dropRecord(clientSyn(), { subtype: BlDropReason.BL_DROP_POLICY, source: 1234, src_identity: 5001 }, { cookie: 0 }), e2);
  assert.equal(g.traffic_direction, 'EGRESS');
  assert.deepEqual(e2.calls, ['defaultDenyPolicies(1234, egress)']);
  assert.equal(g.egress_denied_by, undefined);
});

test('a drop that is not policy names no policy; an unknown reason keeps its number', () => {
  const e = fakeEnricher();
  const f = flowOf(dropRecord(clientSyn(), { subtype: BlDropReason.BL_DROP_INVALID_SIP, source: 0 }), e);
  assert.equal(f.drop_reason_desc, 'INVALID_SOURCE_IP');
  assert.equal(f.traffic_direction, 'TRAFFIC_DIRECTION_UNKNOWN');
  assert.equal(f.ingress_denied_by, undefined);
  assert.deepEqual(e.calls, []);
  assert.equal(dropReasonName(250), '250');
  assert.equal(dropReasonName(BlDropReason.BL_DROP_TTL_EXCEEDED), 'TTL_EXCEEDED');
});

// ---- policy verdicts

test('a policy verdict that allowed egress: FORWARDED, egress_allowed_by, the match type, the remote identity', () => {
  const dns = ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '1.1.1.1', protocol: 17 }, udp({ sport: 53001, dport: 53 })));
  const f = flowOf(
    policyVerdictRecord(
      dns,
      { source: 1234, src_identity: 5001 },
      { remote_identity: 2, verdict: 0, cookie: COOKIE_ALLOW_DNS, dport: 53, proto: 17, dir: BlDirection.BL_DIR_EGRESS, action: BlPolicyAction.BL_POLICY_ACTION_ALLOW, match_type: BlPolicyMatch.BL_POLICY_MATCH_L3_L4 },
    ),
  );
  assert.equal(f.verdict, 'FORWARDED');
  assert.deepEqual(f.event_type, { type: 5, sub_type: 0 });
  assert.equal(f.traffic_direction, 'EGRESS');
  assert.equal(f.policy_match_type, 2);
  assert.deepEqual(f.is_reply, { value: false });
  assert.equal(f.destination?.identity, 2);
  assert.deepEqual(f.egress_allowed_by, [{ name: 'allow-dns', namespace: 'default', kind: 'CiliumNetworkPolicy', labels: ['k8s:io.cilium.k8s.policy.name=allow-dns'], revision: 7 }]);
  assert.equal(f.egress_denied_by, undefined);
  assert.equal(f.drop_reason_desc, undefined);
});

test('an audited policy verdict: AUDIT, no drop reason, the policies that would have denied it', () => {
  const e = fakeEnricher();
  const f = flowOf(
    policyVerdictRecord(
      clientSyn(),
      { source: 2345, dst_identity: 5002 },
      { remote_identity: 5001, verdict: -BlDropReason.BL_DROP_POLICY, cookie: 0, dport: 80, proto: 6, dir: BlDirection.BL_DIR_INGRESS, action: BlPolicyAction.BL_POLICY_ACTION_AUDIT, dst_id: 1234 },
    ),
    e,
  );
  assert.equal(f.verdict, 'AUDIT');
  assert.equal(f.drop_reason, 0);
  assert.equal(f.drop_reason_desc, undefined);
  assert.equal(f.traffic_direction, 'INGRESS');
  assert.equal(f.source?.identity, 5001, 'the remote identity is the source on ingress');
  assert.deepEqual(f.is_reply, { value: false });
  assert.deepEqual(f.ingress_denied_by?.map((p) => p.name), ['server-ingress']);
  assert.equal(f.ingress_allowed_by, undefined);
});

test('a policy verdict that denied: DROPPED with the reason, *_denied_by from the cookie, no is_reply', () => {
  const f = flowOf(
    policyVerdictRecord(
      clientSyn(),
      { source: 2345, src_identity: 5001, dst_identity: 5002 },
      { remote_identity: 5001, verdict: -BlDropReason.BL_DROP_POLICY_DENY, cookie: COOKIE_DENY_CLIENT, dport: 80, proto: 6, dir: BlDirection.BL_DIR_INGRESS, action: BlPolicyAction.BL_POLICY_ACTION_DENY },
    ),
  );
  assert.equal(f.verdict, 'DROPPED');
  assert.equal(f.drop_reason_desc, 'POLICY_DENY');
  assert.equal(f.is_reply, undefined);
  assert.deepEqual(f.ingress_denied_by?.map((p) => p.name), ['deny-client']);
});

// ---- the rest

test('records that are not flows give undefined', () => {
  assert.equal(flowFromEvent(decodeMonitorEvent(new Uint8Array(0)), fakeEnricher()), undefined);
  const debug = traceRecord(clientSyn());
  debug[0] = 2; // BL_EVENT_DEBUG
  assert.equal(flowFromEvent(decodeMonitorEvent(debug), fakeEnricher()), undefined);
});

test('defaults: a random v4 uuid per flow; the time is the event\'s kernel timestamp on the wall clock', () => {
  const before = Date.now();
  // The datapath stamps events with CLOCK_MONOTONIC, the clock process.hrtime reads.
  const a = flowFromEvent(decodeMonitorEvent(traceRecord(clientSyn(), { ktime_ns: process.hrtime.bigint() })), fakeEnricher())!;
  const b = flowFromEvent(decodeMonitorEvent(traceRecord(clientSyn(), { ktime_ns: process.hrtime.bigint() })), fakeEnricher())!;
  const after = Date.now();
  // An event 2 s old (by its stamp) is 2 s old on the wall clock, whenever it is read.
  const old = flowFromEvent(decodeMonitorEvent(traceRecord(clientSyn(), { ktime_ns: process.hrtime.bigint() - 2_000_000_000n })), fakeEnricher())!;
  const oldMs = Number((old.time as { seconds: number }).seconds) * 1000 + (old.time as { nanos: number }).nanos / 1e6;
  assert.ok(Math.abs(oldMs - (before - 2000)) < 50, `${oldMs} is ~2 s before ${before}`);
  // No stamp: the time of decoding.
  const unstamped = flowFromEvent(decodeMonitorEvent(traceRecord(clientSyn(), { ktime_ns: 0n })), fakeEnricher())!;
  assert.ok(Math.abs(Number((unstamped.time as { seconds: number }).seconds) * 1000 - Date.now()) < 2000);
  assert.match(a.uuid!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a.uuid, b.uuid);
  const t = a.time as { seconds: number; nanos: number };
  const ms = t.seconds * 1000 + t.nanos / 1e6;
  assert.ok(ms >= before - 5 && ms <= after + 5, `${ms} within [${before}, ${after}]`);
  const n = wallClockNow();
  assert.ok(Number.isInteger(n.nanos) && n.nanos >= 0 && n.nanos < 1e9);
});

test("enum names follow flow.proto and Hubble's mapping", () => {
  assert.equal(observationPointName(BlTracePoint.BL_TRACE_TO_LXC), 'TO_ENDPOINT');
  assert.equal(observationPointName(BlTracePoint.BL_TRACE_FROM_NETWORK), 'FROM_NETWORK');
  assert.equal(observationPointName(BlTracePoint.BL_TRACE_TO_CRYPTO), 'TO_CRYPTO');
  assert.equal(traceReasonName(BlTraceReason.BL_TRACE_REASON_POLICY), 'NEW');
  assert.equal(traceReasonName(BlTraceReason.BL_TRACE_REASON_CT_ESTABLISHED), 'ESTABLISHED');
  assert.equal(traceReasonName(BlTraceReason.BL_TRACE_REASON_CT_REPLY), 'REPLY');
  assert.equal(traceReasonName(BlTraceReason.BL_TRACE_REASON_CT_RELATED), 'RELATED');
  assert.equal(traceReasonName(BlTraceReason.BL_TRACE_REASON_UNKNOWN), 'TRACE_REASON_UNKNOWN');
  assert.equal(dropReasonName(BlDropReason.BL_DROP_POLICY), 'POLICY_DENIED');
});

test("a flow's JSON has the shape of Hubble's `observe -o json`", () => {
  const f = flowOf(
    traceRecord(clientSyn(), { subtype: BlTracePoint.BL_TRACE_TO_LXC, source: 2345, src_identity: 5001, dst_identity: 5002, ifindex: 17 }, { dst_id: 2345, reason: BlTraceReason.BL_TRACE_REASON_POLICY, orig_ip4: ip4Number('10.96.0.10') }),
  );
  const json = toProtoJson('observer.GetFlowsResponse', { flow: f, node_name: f.node_name, time: f.time, response_types: 'flow' }) as Record<string, unknown>;
  assert.deepEqual(json, {
    flow: {
      time: '2023-11-14T22:13:20.123456789Z',
      uuid: '6b1c3b4e-2f5a-4c1d-9e8f-0a1b2c3d4e5f',
      verdict: 'FORWARDED',
      ethernet: { source: MAC_CLIENT, destination: MAC_SERVER },
      IP: { source: '10.0.1.5', destination: '10.0.1.8', ipVersion: 'IPv4' },
      l4: { TCP: { source_port: 41234, destination_port: 80, flags: { SYN: true } } },
      source: { ID: 1234, identity: 5001, namespace: 'default', labels: ['k8s:app=client', 'k8s:io.kubernetes.pod.namespace=default'], pod_name: 'client-7d9f', workloads: [{ name: 'client', kind: 'Deployment' }] },
      destination: { ID: 2345, identity: 5002, namespace: 'default', labels: ['k8s:app=server', 'k8s:io.kubernetes.pod.namespace=default'], pod_name: 'server-0', workloads: [{ name: 'server', kind: 'StatefulSet' }] },
      Type: 'L3_L4',
      node_name: 'node-a',
      event_type: { type: 4 },
      destination_service: { name: 'web', namespace: 'default' },
      traffic_direction: 'INGRESS',
      trace_observation_point: 'TO_ENDPOINT',
      is_reply: false,
      interface: { index: 17 },
      trace_reason: 'NEW',
      Summary: 'TCP Flags: SYN',
    },
    node_name: 'node-a',
    time: '2023-11-14T22:13:20.123456789Z',
  });
  // A drop's JSON: the reason by name, the deciding policy.
  const d = flowOf(dropRecord(clientSyn(), { subtype: BlDropReason.BL_DROP_POLICY_DENY, source: 2345, src_identity: 5001, dst_identity: 5002 }, { cookie: COOKIE_DENY_CLIENT }));
  const dj = (toProtoJson('observer.GetFlowsResponse', { flow: d, node_name: d.node_name, time: d.time }) as { flow: Record<string, unknown> }).flow;
  assert.equal(dj.verdict, 'DROPPED');
  assert.equal(dj.drop_reason, 181);
  assert.equal(dj.drop_reason_desc, 'POLICY_DENY');
  assert.deepEqual(dj.event_type, { type: 1, sub_type: 181 });
  assert.deepEqual(dj.ingress_denied_by, [{ name: 'deny-client', namespace: 'default', labels: ['k8s:io.cilium.k8s.policy.name=deny-client'], revision: '3', kind: 'CiliumNetworkPolicy' }]);
  assert.equal('is_reply' in dj, false);
});

test('a socket-level Service translation is a SOCK flow: TRANSLATED, the caller by cgroup, the backend, the Service', async () => {
  const { encodeBlTraceSockNotify, BlEventType, BlSockXlatePoint, BlNotifyVersion } = await import('../datapath/generated/abi.js');
  const ip = (s: string) => s.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const zeroHdr = { type: BlEventType.BL_EVENT_TRACE_SOCK, subtype: BlSockXlatePoint.BL_SOCK_XLATE_POST_FWD, source: 0, hash: 0, len_orig: 0, len_cap: 0, version: BlNotifyVersion.BL_NOTIFY_VERSION, pad0: 0, ktime_ns: 5n, ifindex: 0, src_identity: 0, dst_identity: 0, proto: 0, pad1: 0 };
  const record = encodeBlTraceSockNotify({ hdr: zeroHdr, sock_cookie: 77n, cgroup_id: 4242n, dst_ip4: ip('10.0.1.8'), dst_port: 8080, l4_proto: 6, pad0: 0, orig_ip4: ip('10.96.0.10'), orig_port: 80, pad1: 0 } as never);
  const e = fakeEnricher();
  const enricher: FlowEnricher = { ...e, endpointByCgroup: (id) => (id === '4242' ? { info: CLIENT, ip: '10.0.1.5' } : undefined) };
  const f = flowFromEvent(decodeMonitorEvent(record), enricher, FIXED)!;
  assert.equal(f.Type, 'SOCK');
  assert.equal(f.verdict, 'TRANSLATED');
  assert.equal(f.sock_xlate_point, 'SOCK_XLATE_POINT_POST_DIRECTION_FWD');
  assert.deepEqual(f.event_type, { type: 7, sub_type: 2 });
  assert.deepEqual(f.IP, { source: '10.0.1.5', destination: '10.0.1.8', ipVersion: 'IPv4' });
  assert.deepEqual(f.l4, { TCP: { destination_port: 8080 } });
  assert.equal(f.source?.pod_name, 'client-7d9f');
  assert.equal(f.destination?.pod_name, 'server-0');
  assert.deepEqual(f.destination_service, { name: 'web', namespace: 'default' });
  assert.equal(f.socket_cookie, '77');
  assert.equal(f.cgroup_id, '4242');
  // A caller the enricher cannot place still gives the flow, without a source.
  const anon = flowFromEvent(decodeMonitorEvent(record), e, FIXED)!;
  assert.equal(anon.source, undefined);
  assert.equal(anon.IP?.source, '');
});
