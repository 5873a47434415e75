/**
 * Packet fixtures for L3/L4 policy enforcement (lib/policy.h, abi/policy.h):
 * endpoints in bl_lxc with policy flags, bl_policy entries written through
 * KernelPolicy (the agent's writer, so its keys meet the real LPM trie), and
 * ipcache identities; packets through BPF_PROG_TEST_RUN at every place
 * policy applies: egress in bl_from_container, ingress at local delivery
 * (from a local pod, the overlay, the uplink) and in bl_to_container.
 *
 * Identities: pod A 1000, pod B 2000, the remote pod 10.0.2.5 3000 (a /32
 * in bl_ipcache); the rest of 10.0.2.0/24 has identity 0 (taken as world).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BlCtEntryFlags,
  BlDirection,
  BlDropReason,
  BlEndpointFlags,
  BlIpcacheFlags,
  BlForwardReason,
  BlPolicyAction,
  BlPolicyMatch,
  BlRoutingMode,
  BlSourceFile,
} from '../../src/datapath/generated/abi.js';
import { KernelPolicy, endpointPolicyFlags, type PolicyMapEntry } from '../../src/datapath/policy.js';
import { icmpEcho, ip4Num, ipv4Frame, tcp, udp } from './datapath-support.js';
import { PolicyRepository } from '../../src/policy/index.js';
import { podLabels } from '../../src/policy/testing.js';
import {
  NODE,
  POD_A,
  POD_B,
  POD_C,
  PodNode,
  TCP_ACK,
  TCP_SYN,
  TCP_SYN_ACK,
  TC_ACT_OK,
  TC_ACT_REDIRECT,
  TC_ACT_SHOT,
  fromPod,
  tcpFromPod,
  type PodEvent,
  type PodNodeOptions,
  type PodSpec,
} from './datapath-pod-support.js';

const A: PodSpec = { ...POD_A, identity: 1000 };
const B: PodSpec = { ...POD_B, identity: 2000 };
const REMOTE_POD = { ip: '10.0.2.5', identity: 3000 };
const WORLD_IP = '172.18.0.100';
const { BL_EP_F_POLICY_INGRESS: INGRESS_F, BL_EP_F_POLICY_EGRESS: EGRESS_F, BL_EP_F_POLICY_AUDIT: AUDIT_F } = BlEndpointFlags;
const POLICY = BlDropReason.BL_DROP_POLICY;
const POLICY_DENY = BlDropReason.BL_DROP_POLICY_DENY;
const EGRESS = BlDirection.BL_DIR_EGRESS;
const INGRESS = BlDirection.BL_DIR_INGRESS;
const FORWARDED = BlForwardReason.BL_REASON_FORWARDED;
const { BL_POLICY_ACTION_ALLOW: ALLOW, BL_POLICY_ACTION_DENY: DENY, BL_POLICY_ACTION_AUDIT: AUDIT } = BlPolicyAction;
const { BL_POLICY_MATCH_NONE: M_NONE, BL_POLICY_MATCH_L3_ONLY: M_L3, BL_POLICY_MATCH_L3_L4: M_L3L4, BL_POLICY_MATCH_L4_ONLY: M_L4, BL_POLICY_MATCH_ALL: M_ALL } = BlPolicyMatch;

/** A node with A and B (and C), the remote pod's /32 in the ipcache, and a policy writer. */
function node(t: { after: (fn: () => void) => void }, opts: PodNodeOptions = {}): { n: PodNode; policy: KernelPolicy } {
  const n = PodNode.open({ pods: [A, B, POD_C], ...opts });
  t.after(() => n.close());
  n.ipcacheMap().set({ prefixlen: 32, ip4: ip4Num(REMOTE_POD.ip) }, { sec_identity: REMOTE_POD.identity, tunnel_endpoint: ip4Num('172.18.0.12'), node_id: 2, flags: 0 });
  return { n, policy: new KernelPolicy(n.dps.lxc) };
}

/** Sets an endpoint's policy flags in bl_lxc (the raw bits, as the agent's writer does). */
function setFlags(n: PodNode, pod: PodSpec, flags: number): void {
  const key = { ip4: ip4Num(pod.ip) };
  const info = n.lxcMap().get(key)!;
  n.lxcMap().set(key, { ...info, flags });
}

const entry = (o: Partial<PolicyMapEntry>): PolicyMapEntry => ({ direction: 'egress', identity: 0, protocol: 6, port: 80, portPrefixLen: 16, verdict: 'allow', cookie: 0, proxyPort: 0, ...o });
const defaultDeny = (direction: 'ingress' | 'egress', cookie: number): PolicyMapEntry => ({ direction, identity: 0, protocol: 0, port: 0, portPrefixLen: 0, verdict: 'default-deny', cookie, proxyPort: 0 });

const drops = (evs: readonly PodEvent[]) => evs.filter((e) => e.type === 'drop');
const verdicts = (evs: readonly PodEvent[]) => evs.filter((e) => e.type === 'policy');

/** The run's one policy verdict event, as comparable fields. */
function verdictOf(evs: readonly PodEvent[]) {
  const v = verdicts(evs);
  assert.equal(v.length, 1, `one policy verdict event: ${JSON.stringify(evs.map((e) => e.type))}`);
  const e = v[0]!;
  assert.ok(e.type === 'policy');
  return { source: e.source, dir: e.dir, action: e.action, match: e.match, cookie: e.cookie, remote: e.remote, verdict: e.verdict, dport: e.dport, proto: e.proto, dstId: e.dstId };
}

/** The run's one drop event. */
function dropOf(evs: readonly PodEvent[]) {
  const d = drops(evs);
  assert.equal(d.length, 1, `one drop event: ${JSON.stringify(evs.map((e) => e.type))}`);
  const e = d[0]!;
  assert.ok(e.type === 'drop');
  return e;
}

// ---------------------------------------------------------------------------
// Egress (bl_from_container)

test('egress default deny: the SYN drops with 133 and the default entry\'s cookie, leaves no conntrack entry, is reported', (t) => {
  const { n, policy } = node(t);
  policy.apply(A.id, { upserts: [defaultDeny('egress', 11)], deletes: [] });
  setFlags(n, A, EGRESS_F);
  const syn = tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 40000, 80);
  const out = n.run('bl_from_container', syn);

  assert.equal(out.retval, TC_ACT_SHOT);
  const d = dropOf(out.events);
  assert.deepEqual(
    { reason: d.reason, cookie: d.cookie, source: d.source, file: d.file, src: d.srcIdentity, dst: d.dstIdentity },
    { reason: POLICY, cookie: 11, source: A.id, file: BlSourceFile.BL_FILE_LXC, src: A.identity, dst: REMOTE_POD.identity },
  );
  assert.deepEqual(d.data, syn);
  assert.deepEqual(verdictOf(out.events), {
    source: A.id,
    dir: EGRESS,
    action: DENY,
    match: M_NONE,
    cookie: 11,
    remote: REMOTE_POD.identity,
    verdict: -POLICY,
    dport: 80,
    proto: 6,
    dstId: 0,
  });
  assert.deepEqual(n.ct(), [], 'a dropped SYN leaves no conntrack entry');
  assert.deepEqual(n.metrics().get(`${POLICY}/${EGRESS}`), { count: 1n, bytes: BigInt(syn.length) });
  assert.equal(n.metrics().get(`${FORWARDED}/${EGRESS}`), undefined);
  const dd = policy.entries(A.id).find((r) => r.verdict === 'default-deny')!;
  assert.deepEqual([dd.packets, dd.bytes], [1n, BigInt(syn.length)], 'the deciding entry counts the packet');
});

test('egress: an explicit deny drops with 181 even when an identity-specific allow matches too', (t) => {
  const { n, policy } = node(t);
  policy.apply(A.id, {
    upserts: [entry({ identity: REMOTE_POD.identity, cookie: 1 }), entry({ identity: 0, verdict: 'deny', cookie: 2 }), defaultDeny('egress', 3)],
    deletes: [],
  });
  setFlags(n, A, EGRESS_F);
  const out = n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 40001, 80));
  assert.equal(out.retval, TC_ACT_SHOT);
  assert.deepEqual([dropOf(out.events).reason, dropOf(out.events).cookie], [POLICY_DENY, 2]);
  assert.deepEqual(
    (({ action, match, cookie, verdict }) => ({ action, match, cookie, verdict }))(verdictOf(out.events)),
    { action: DENY, match: M_L4, cookie: 2, verdict: -POLICY_DENY },
  );
  assert.deepEqual(n.ct(), []);

  // The identity's own deny wins over an any-identity allow, with its cookie. (Its L3-L4
  // allow goes: within one identity the longest prefix wins, so the engine never leaves a
  // more specific allow under a deny; it materialises deny precedence.)
  policy.apply(A.id, {
    upserts: [entry({ identity: REMOTE_POD.identity, verdict: 'deny', protocol: 0, port: 0, portPrefixLen: 0, cookie: 4 }), entry({ identity: 0, cookie: 5 })],
    deletes: [entry({ identity: REMOTE_POD.identity })],
  });
  const out2 = n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 40002, 80));
  assert.deepEqual([out2.retval, dropOf(out2.events).reason, dropOf(out2.events).cookie], [TC_ACT_SHOT, POLICY_DENY, 4]);
  assert.equal(verdictOf(out2.events).match, M_L3);
});

test('egress: an identity-specific L3-L4 allow passes, creates the entry, reports the verdict once per connection', (t) => {
  const { n, policy } = node(t);
  policy.apply(A.id, { upserts: [entry({ identity: REMOTE_POD.identity, cookie: 21 }), defaultDeny('egress', 22)], deletes: [] });
  setFlags(n, A, EGRESS_F);
  const out = n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 40000, 80));
  assert.equal(out.retval, TC_ACT_REDIRECT, 'to the tunnel');
  assert.deepEqual(drops(out.events), []);
  assert.deepEqual(verdictOf(out.events), { source: A.id, dir: EGRESS, action: ALLOW, match: M_L3L4, cookie: 21, remote: REMOTE_POD.identity, verdict: 0, dport: 80, proto: 6, dstId: 0 });
  assert.equal(n.ct().length, 1);

  // Established: allowed again (policy is checked on every packet), not reported again.
  const ack = n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_ACK, 40000, 80));
  assert.equal(ack.retval, TC_ACT_REDIRECT);
  assert.deepEqual(verdicts(ack.events), []);
  const allowRow = policy.entries(A.id).find((r) => r.cookie === 21)!;
  assert.equal(allowRow.packets, 2n);

  // Another port of the same peer: only L3-L4 on 80 allows, so the default denies.
  const other = n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 40003, 81));
  assert.deepEqual([other.retval, dropOf(other.events).reason, dropOf(other.events).cookie], [TC_ACT_SHOT, POLICY, 22]);
});

test('egress: an any-identity port range (a port prefix) passes inside the range and drops outside it', (t) => {
  const { n, policy } = node(t);
  // 8000..8031: 0x1f40 with an 11-bit prefix.
  policy.apply(A.id, { upserts: [entry({ identity: 0, port: 8000, portPrefixLen: 11, cookie: 31 })], deletes: [] });
  setFlags(n, A, EGRESS_F);
  for (const [port, ok] of [[8000, true], [8017, true], [8031, true], [7999, false], [8032, false]] as const) {
    const out = n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 41000 + port - 7990, port));
    assert.equal(out.retval, ok ? TC_ACT_REDIRECT : TC_ACT_SHOT, `port ${port}`);
    const v = verdictOf(out.events);
    assert.deepEqual([v.action, v.match, v.cookie, v.dport], ok ? [ALLOW, M_L4, 31, port] : [DENY, M_NONE, 0, port], `port ${port}`);
    if (!ok) assert.deepEqual([dropOf(out.events).reason, dropOf(out.events).cookie], [POLICY, 0], 'no default entry: cookie 0');
  }
  // UDP to the same ports is another protocol: not allowed.
  const dns = n.run('bl_from_container', fromPod(A, REMOTE_POD.ip, 17, udp(5000, 8000, A.ip, REMOTE_POD.ip)));
  assert.equal(dns.retval, TC_ACT_SHOT);
});

test('egress: an L3-only allow (any protocol) and an allow-all entry report their match types; ICMP matches on its type', (t) => {
  const { n, policy } = node(t);
  policy.apply(A.id, {
    upserts: [entry({ identity: REMOTE_POD.identity, protocol: 0, port: 0, portPrefixLen: 0, cookie: 41 }), entry({ identity: 0, protocol: 1, port: 8, portPrefixLen: 16, cookie: 42 })],
    deletes: [],
  });
  setFlags(n, A, EGRESS_F);
  const l3 = n.run('bl_from_container', fromPod(A, REMOTE_POD.ip, 17, udp(5000, 53, A.ip, REMOTE_POD.ip)));
  assert.equal(l3.retval, TC_ACT_REDIRECT);
  assert.deepEqual([verdictOf(l3.events).match, verdictOf(l3.events).cookie], [M_L3, 41]);

  const ping = n.run('bl_from_container', fromPod(A, WORLD_IP, 1, icmpEcho(8, 77)));
  assert.equal(ping.retval, TC_ACT_OK, 'echo request (type 8) to the world: allowed, to the stack');
  assert.deepEqual([verdictOf(ping.events).match, verdictOf(ping.events).remote, verdictOf(ping.events).dport], [M_L4, 2, 8]);
  const reply = n.run('bl_from_container', fromPod(A, WORLD_IP, 1, icmpEcho(0, 78)));
  assert.equal(reply.retval, TC_ACT_SHOT, 'an echo reply (type 0) that answers nothing: no allow');

  policy.apply(A.id, { upserts: [entry({ identity: 0, protocol: 0, port: 0, portPrefixLen: 0, cookie: 43 })], deletes: [] });
  const any = n.run('bl_from_container', tcpFromPod(A, WORLD_IP, TCP_SYN, 42000, 443));
  assert.equal(any.retval, TC_ACT_OK);
  assert.deepEqual([verdictOf(any.events).match, verdictOf(any.events).cookie], [M_ALL, 43]);
});

test('a reply of an allowed connection passes although nothing allows the reverse direction', (t) => {
  const { n, policy } = node(t);
  policy.apply(A.id, { upserts: [entry({ identity: REMOTE_POD.identity }), defaultDeny('egress', 1), defaultDeny('ingress', 2)], deletes: [] });
  setFlags(n, A, EGRESS_F | INGRESS_F);
  assert.equal(n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 40000, 80)).retval, TC_ACT_REDIRECT);
  const synAck = ipv4Frame({ src: REMOTE_POD.ip, dst: A.ip, proto: 6, payload: tcp(TCP_SYN_ACK, 80, 40000, REMOTE_POD.ip, A.ip) });
  const out = n.run('bl_from_overlay', synAck);
  assert.equal(out.retval, TC_ACT_REDIRECT, 'delivered into A');
  assert.deepEqual(drops(out.events), []);
  assert.deepEqual(verdicts(out.events), [], 'replies are not looked up');
  // A new connection from the remote pod to A is not a reply: denied.
  const syn = ipv4Frame({ src: REMOTE_POD.ip, dst: A.ip, proto: 6, payload: tcp(TCP_SYN, 5555, 80, REMOTE_POD.ip, A.ip) });
  const denied = n.run('bl_from_overlay', syn);
  assert.equal(denied.retval, TC_ACT_SHOT);
  assert.deepEqual([dropOf(denied.events).reason, dropOf(denied.events).cookie, dropOf(denied.events).source], [POLICY, 2, A.id]);
});

test('an established connection is cut on its next packet once its allow entry is deleted', (t) => {
  const { n, policy } = node(t);
  const allow = entry({ identity: REMOTE_POD.identity, cookie: 51 });
  policy.apply(A.id, { upserts: [allow], deletes: [] });
  setFlags(n, A, EGRESS_F);
  assert.equal(n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 40000, 80)).retval, TC_ACT_REDIRECT);
  assert.equal(n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_ACK, 40000, 80)).retval, TC_ACT_REDIRECT);

  policy.apply(A.id, { upserts: [], deletes: [allow] });
  assert.deepEqual(policy.entries(A.id), []);
  const out = n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_ACK, 40000, 80));
  assert.equal(out.retval, TC_ACT_SHOT);
  assert.equal(dropOf(out.events).reason, POLICY);
  assert.equal(verdictOf(out.events).action, DENY, 'every policy drop is reported, established or not');
});

/** An ICMP destination unreachable (port unreachable) quoting a UDP packet src:sport → dst:dport. */
function icmpUnreachable(quote: { src: string; dst: string; sport: number; dport: number }): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 12, 2);
  ip[8] = 64;
  ip[9] = 17;
  ip.writeUInt32BE(ip4Num(quote.src) >>> 0, 12);
  ip.writeUInt32BE(ip4Num(quote.dst) >>> 0, 16);
  return Buffer.concat([Buffer.from([3, 3, 0, 0, 0, 0, 0, 0]), ip, udp(quote.sport, quote.dport, quote.src, quote.dst).subarray(0, 8)]);
}

test('ICMP errors quoting a tracked connection are related and pass an enforced direction; unrelated ones are judged (and dropped)', (t) => {
  const { n, policy } = node(t);
  policy.apply(A.id, { upserts: [entry({ identity: REMOTE_POD.identity, protocol: 17, port: 53 }), defaultDeny('egress', 1), defaultDeny('ingress', 2)], deletes: [] });
  setFlags(n, A, EGRESS_F | INGRESS_F);
  assert.equal(n.run('bl_from_container', fromPod(A, REMOTE_POD.ip, 17, udp(40000, 53, A.ip, REMOTE_POD.ip))).retval, TC_ACT_REDIRECT);
  const related = n.run('bl_from_overlay', ipv4Frame({ src: REMOTE_POD.ip, dst: A.ip, proto: 1, payload: icmpUnreachable({ src: A.ip, dst: REMOTE_POD.ip, sport: 40000, dport: 53 }) }));
  assert.equal(related.retval, TC_ACT_REDIRECT, 'the port unreachable reaches A');
  assert.deepEqual(drops(related.events), []);
  assert.deepEqual(verdicts(related.events), [], 'related packets are not looked up');
  assert.equal(n.ct().length, 1, 'and make no entry of their own');
  const unrelated = n.run('bl_from_overlay', ipv4Frame({ src: REMOTE_POD.ip, dst: A.ip, proto: 1, payload: icmpUnreachable({ src: A.ip, dst: REMOTE_POD.ip, sport: 40001, dport: 53 }) }));
  assert.equal(unrelated.retval, TC_ACT_SHOT);
  assert.equal(dropOf(unrelated.events).reason, POLICY);
});

test('audit mode: what policy would drop passes, reported with action audit and no drop', (t) => {
  const { n, policy } = node(t);
  policy.apply(A.id, { upserts: [defaultDeny('egress', 61)], deletes: [] });
  setFlags(n, A, EGRESS_F | AUDIT_F);
  const out = n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 40000, 80));
  assert.equal(out.retval, TC_ACT_REDIRECT);
  assert.deepEqual(drops(out.events), []);
  const v = verdictOf(out.events);
  assert.deepEqual([v.action, v.verdict, v.cookie, v.match], [AUDIT, -POLICY, 61, M_NONE], 'the would-be drop reason stays in the verdict');
  assert.equal(n.ct().length, 1, 'the connection is tracked as allowed');
  assert.equal(n.metrics().get(`${POLICY}/${EGRESS}`), undefined);
});

test('no policy flags: nothing is looked up, everything passes, nothing is reported', (t) => {
  const { n, policy } = node(t);
  policy.apply(A.id, { upserts: [entry({ identity: B.identity, protocol: 0, port: 0, portPrefixLen: 0, verdict: 'deny', cookie: 71 }), defaultDeny('egress', 72)], deletes: [] });
  policy.apply(B.id, { upserts: [defaultDeny('ingress', 73)], deletes: [] });
  const out = n.run('bl_from_container', tcpFromPod(A, B.ip, TCP_SYN, 40000, 80));
  assert.equal(out.retval, TC_ACT_REDIRECT);
  assert.deepEqual(verdicts(out.events), []);
  assert.deepEqual(drops(out.events), []);
  assert.ok(policy.entries().every((r) => r.packets === 0n), 'no entry was consulted');
});

// ---------------------------------------------------------------------------
// Ingress

test('ingress at local delivery from a local pod: B\'s default deny drops A\'s SYN (reported for B, in its ingress), and A keeps no entry', (t) => {
  const { n, policy } = node(t);
  policy.apply(B.id, { upserts: [defaultDeny('ingress', 81)], deletes: [] });
  setFlags(n, B, INGRESS_F);
  const syn = tcpFromPod(A, B.ip, TCP_SYN, 40000, 8080);
  const out = n.run('bl_from_container', syn);
  assert.equal(out.retval, TC_ACT_SHOT);
  const d = dropOf(out.events);
  assert.deepEqual(
    { reason: d.reason, cookie: d.cookie, source: d.source, src: d.srcIdentity, dst: d.dstIdentity },
    { reason: POLICY, cookie: 81, source: B.id, src: A.identity, dst: B.identity },
  );
  assert.deepEqual(verdictOf(out.events), { source: B.id, dir: INGRESS, action: DENY, match: M_NONE, cookie: 81, remote: A.identity, verdict: -POLICY, dport: 8080, proto: 6, dstId: A.id });
  assert.deepEqual(n.ct(), [], "neither B's ingress entry nor A's egress entry stays behind");
  assert.deepEqual(n.metrics().get(`${POLICY}/${INGRESS}`), { count: 1n, bytes: BigInt(syn.length) }, "counted in B's direction");

  // Allowing A's identity on the port lets it through, with both entries.
  policy.apply(B.id, { upserts: [entry({ direction: 'ingress', identity: A.identity, port: 8080, cookie: 82 })], deletes: [] });
  const ok = n.run('bl_from_container', syn);
  assert.equal(ok.retval, TC_ACT_REDIRECT);
  assert.deepEqual((({ dir, action, match, cookie, source }) => ({ dir, action, match, cookie, source }))(verdictOf(ok.events)), { dir: INGRESS, action: ALLOW, match: M_L3L4, cookie: 82, source: B.id });
  assert.equal(n.ct().length, 2);
});

test('ingress with default allow (enableDefaultDeny false + ingressDeny): the engine\'s entries drop the denied identity with 181, pass everyone else with match all', (t) => {
  const { n, policy } = node(t);
  // The engine's output for B, written by the agent's writer: B is selected by a rule that denies A's
  // identity and leaves default deny off, so ingress is enforced (looked up) with an allow-all default.
  const repo = new PolicyRepository();
  repo.setIdentities([[A.identity!, podLabels('x', { app: 'a' })], [B.identity!, podLabels('y', { app: 'b' })], [REMOTE_POD.identity, podLabels('z', { app: 'r' })]]);
  repo.upsertPolicy({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { namespace: 'y', name: 'deny-x' },
    spec: { endpointSelector: {}, enableDefaultDeny: { ingress: false, egress: false }, ingressDeny: [{ fromEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'x' } }] }] } });
  const pol = repo.computeEndpoint({ id: B.id, identity: B.identity!, labels: podLabels('y', { app: 'b' }), namespace: 'y' });
  assert.deepEqual([pol.ingressEnforced, pol.ingressDefaultDeny, pol.egressEnforced], [true, false, false]);
  policy.apply(B.id, { upserts: pol.entries, deletes: [] });
  setFlags(n, B, endpointPolicyFlags({ ingress: pol.ingressEnforced, egress: pol.egressEnforced }));
  const denyCookie = pol.entries.find((e) => e.verdict === 'deny')!.cookie;
  const allCookie = pol.entries.find((e) => e.identity === 0 && e.protocol === 0)!.cookie;

  const denied = n.run('bl_from_container', tcpFromPod(A, B.ip, TCP_SYN, 40000, 8080));
  assert.equal(denied.retval, TC_ACT_SHOT);
  assert.deepEqual([dropOf(denied.events).reason, dropOf(denied.events).cookie], [POLICY_DENY, denyCookie]);
  assert.deepEqual((({ dir, action, match, cookie }) => ({ dir, action, match, cookie }))(verdictOf(denied.events)), { dir: INGRESS, action: DENY, match: M_L3, cookie: denyCookie });
  assert.deepEqual(n.ct(), []);

  // The remote pod (another namespace's identity) and the world pass through the allow-all entry.
  const from = (src: string, proto: number, payload: Buffer) => ipv4Frame({ src, dst: B.ip, proto, payload });
  const remote = n.run('bl_from_overlay', from(REMOTE_POD.ip, 6, tcp(TCP_SYN, 40001, 8080, REMOTE_POD.ip, B.ip)));
  assert.equal(remote.retval, TC_ACT_REDIRECT);
  assert.deepEqual((({ dir, action, match, cookie, remote: r }) => ({ dir, action, match, cookie, remote: r }))(verdictOf(remote.events)), { dir: INGRESS, action: ALLOW, match: M_ALL, cookie: allCookie, remote: REMOTE_POD.identity });
  const world = n.run('bl_from_overlay', from('10.0.2.77', 17, udp(40002, 53, '10.0.2.77', B.ip)));
  assert.equal(world.retval, TC_ACT_REDIRECT);
  assert.equal(verdictOf(world.events).remote, 2);
  const all = policy.entries(B.id).find((r) => r.identity === 0 && r.protocol === 0)!;
  assert.deepEqual([all.verdict, all.packets], ['allow', 2n], 'the allow-all entry decided both');
});

test('ingress from the overlay: the sender is judged by its ipcache identity (unknown: world)', (t) => {
  const { n, policy } = node(t);
  policy.apply(B.id, { upserts: [entry({ direction: 'ingress', identity: REMOTE_POD.identity, cookie: 91 }), defaultDeny('ingress', 92)], deletes: [] });
  setFlags(n, B, INGRESS_F);
  const from = (src: string, sport: number) => ipv4Frame({ src, dst: B.ip, proto: 6, payload: tcp(TCP_SYN, sport, 80, src, B.ip) });
  const ok = n.run('bl_from_overlay', from(REMOTE_POD.ip, 5000));
  assert.equal(ok.retval, TC_ACT_REDIRECT);
  assert.deepEqual((({ remote, match, cookie, dir }) => ({ remote, match, cookie, dir }))(verdictOf(ok.events)), { remote: REMOTE_POD.identity, match: M_L3L4, cookie: 91, dir: INGRESS });
  const other = n.run('bl_from_overlay', from('10.0.2.6', 5001));
  assert.equal(other.retval, TC_ACT_SHOT);
  assert.deepEqual([verdictOf(other.events).remote, dropOf(other.events).cookie, dropOf(other.events).source], [2, 92, B.id]);
  assert.equal(n.ct().length, 1, 'only the allowed connection is tracked');
});

test('ingress from the uplink (native routing and NodePort): the sender is judged by its ipcache identity, else world', (t) => {
  const { n, policy } = node(t, { config: { routing_mode: BlRoutingMode.BL_ROUTING_NATIVE } });
  policy.apply(B.id, { upserts: [entry({ direction: 'ingress', identity: REMOTE_POD.identity, cookie: 101 }), defaultDeny('ingress', 102)], deletes: [] });
  setFlags(n, B, INGRESS_F);
  const from = (src: string) => ipv4Frame({ src, dst: B.ip, proto: 6, payload: tcp(TCP_SYN, 6000, 80, src, B.ip) });
  const ok = n.run('bl_from_netdev', from(REMOTE_POD.ip));
  assert.equal(ok.retval, TC_ACT_REDIRECT);
  assert.equal(verdictOf(ok.events).remote, REMOTE_POD.identity);
  const world = n.run('bl_from_netdev', from(WORLD_IP));
  assert.equal(world.retval, TC_ACT_SHOT);
  assert.deepEqual([verdictOf(world.events).remote, dropOf(world.events).reason, dropOf(world.events).cookie, dropOf(world.events).file], [2, POLICY, 102, BlSourceFile.BL_FILE_HOST]);
});

test('ingress in bl_to_container: the node is host (1), an ipcache address its identity, anything else world', (t) => {
  const { n, policy } = node(t);
  policy.apply(B.id, {
    upserts: [entry({ direction: 'ingress', identity: 1, port: 22, cookie: 111 }), entry({ direction: 'ingress', identity: REMOTE_POD.identity, cookie: 112 }), defaultDeny('ingress', 113)],
    deletes: [],
  });
  setFlags(n, B, INGRESS_F);
  const to = (src: string, dport: number) => ipv4Frame({ src, dst: B.ip, proto: 6, payload: tcp(TCP_SYN, 7000, dport, src, B.ip) });

  const host = n.run('bl_to_container', to(NODE.ip, 22));
  assert.equal(host.retval, TC_ACT_OK);
  assert.deepEqual((({ remote, cookie, match, source }) => ({ remote, cookie, match, source }))(verdictOf(host.events)), { remote: 1, cookie: 111, match: M_L3L4, source: B.id });
  assert.equal(n.run('bl_to_container', to(NODE.router, 22)).retval, TC_ACT_OK, 'the gateway address is the node too');
  assert.equal(n.run('bl_to_container', to(REMOTE_POD.ip, 80)).retval, TC_ACT_OK);

  const world = n.run('bl_to_container', to(WORLD_IP, 22));
  assert.equal(world.retval, TC_ACT_SHOT);
  assert.deepEqual([verdictOf(world.events).remote, dropOf(world.events).reason, dropOf(world.events).cookie, dropOf(world.events).source], [2, POLICY, 113, B.id]);
  assert.deepEqual(n.metrics().get(`${POLICY}/${INGRESS}`)?.count, 1n);
  assert.equal(n.ct().filter((r) => r.saddr === WORLD_IP).length, 0, 'the denied SYN left no entry');

  // A reply of B's own connection to the world passes whatever ingress says.
  setFlags(n, B, INGRESS_F | EGRESS_F);
  policy.apply(B.id, { upserts: [entry({ direction: 'egress', identity: 0, port: 443, cookie: 114 })], deletes: [] });
  assert.equal(n.run('bl_from_container', tcpFromPod(B, WORLD_IP, TCP_SYN, 43000, 443)).retval, TC_ACT_OK);
  const reply = ipv4Frame({ src: WORLD_IP, dst: B.ip, proto: 6, payload: tcp(TCP_SYN_ACK, 443, 43000, WORLD_IP, B.ip) });
  const r = n.run('bl_to_container', reply);
  assert.equal(r.retval, TC_ACT_OK);
  assert.deepEqual(verdicts(r.events), []);
});

test('the agent\'s flag writer: setEndpointPolicyFlags switches enforcement on the real bl_lxc', (t) => {
  const { n, policy } = node(t);
  policy.apply(A.id, { upserts: [defaultDeny('egress', 121)], deletes: [] });
  assert.equal(n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 40000, 80)).retval, TC_ACT_REDIRECT, 'not enforced yet');
  assert.equal(policy.setEndpointPolicyFlags(A.id, { ingress: false, egress: true }), 1);
  assert.equal(n.lxcMap().get({ ip4: ip4Num(A.ip) })!.flags, endpointPolicyFlags({ ingress: false, egress: true }));
  assert.equal(n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 40001, 80)).retval, TC_ACT_SHOT);
  policy.setEndpointPolicyFlags(A.id, { ingress: false, egress: false });
  assert.equal(n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 40002, 80)).retval, TC_ACT_REDIRECT);
  assert.equal(policy.deleteEndpoint(A.id), 1);
  assert.deepEqual(policy.entries(), []);
});

// ---------------------------------------------------------------------------
// Mutual authentication (issue 15): BL_POLICY_F_AUTH_REQUIRED, BL_IPCACHE_F_AUTH_REQUIRED, bl_config.mtls_out_port

const AUTH_REQUIRED = BlDropReason.BL_DROP_POLICY_AUTH_REQUIRED;
const SOCKET_LOOKUP_FAILED = BlDropReason.BL_DROP_SOCKET_LOOKUP_FAILED;
/** A port no socket of the test's namespace listens on (the fixtures' lookups happen there). */
const MTLS_OUT_PORT = 15904;

/** Sets the ipcache flags of one /32 (the agent writes them from the owner's published entry). */
function flagAddress(n: PodNode, ip: string, identity: number, flags: number, tunnel = 0): void {
  n.ipcacheMap().set({ prefixlen: 32, ip4: ip4Num(ip) }, { sec_identity: identity, tunnel_endpoint: tunnel ? tunnel : 0, node_id: tunnel ? 2 : 0, flags });
}

test('auth required, server side: a plaintext SYN allowed by an auth-required entry drops with 189 at local delivery, with the entry\'s cookie; the proxy-like sender through the stack passes; the host is not asked by an any-peer entry', (t) => {
  const { n, policy } = node(t);
  policy.apply(B.id, {
    upserts: [
      entry({ direction: 'ingress', identity: A.identity, port: 80, cookie: 201, authRequired: true }),
      entry({ direction: 'ingress', identity: REMOTE_POD.identity, port: 80, cookie: 202, authRequired: true }),
      entry({ direction: 'ingress', identity: 0, port: 8080, cookie: 203, authRequired: true }),
      entry({ direction: 'ingress', identity: 1, port: 9090, cookie: 206, authRequired: true }),
      entry({ direction: 'ingress', identity: 1, protocol: 0, port: 0, portPrefixLen: 0, cookie: 204 }),
      defaultDeny('ingress', 205),
    ],
    deletes: [],
  });
  setFlags(n, B, INGRESS_F);

  // A local pod: at local delivery (bl_from_container → ipv4_local_delivery), never authenticated.
  const syn = tcpFromPod(A, B.ip, TCP_SYN, 40000, 80);
  const local = n.run('bl_from_container', syn);
  assert.equal(local.retval, TC_ACT_SHOT);
  const d = dropOf(local.events);
  assert.deepEqual(
    { reason: d.reason, cookie: d.cookie, source: d.source, src: d.srcIdentity, dst: d.dstIdentity },
    { reason: AUTH_REQUIRED, cookie: 201, source: B.id, src: A.identity, dst: B.identity },
  );
  assert.deepEqual(verdictOf(local.events), { source: B.id, dir: INGRESS, action: DENY, match: M_L3L4, cookie: 201, remote: A.identity, verdict: -AUTH_REQUIRED, dport: 80, proto: 6, dstId: A.id });
  assert.deepEqual(n.ct(), [], 'no entry either way');
  assert.deepEqual(n.metrics().get(`${AUTH_REQUIRED}/${INGRESS}`), { count: 1n, bytes: BigInt(syn.length) });
  // An any-identity entry that requires it asks every peer.
  assert.equal(dropOf(n.run('bl_from_container', tcpFromPod(A, B.ip, TCP_SYN, 40003, 8080)).events).reason, AUTH_REQUIRED);
  // A port no entry requires it on: the usual default deny.
  assert.equal(dropOf(n.run('bl_from_container', tcpFromPod(A, B.ip, TCP_SYN, 40001, 81)).events).reason, POLICY);

  // Through the node's stack: a test run's packet has a socket (the kernel's dummy one), so a foreign
  // source reads as the node proxy's transparent upstream (proxy_sent): authenticated, and its entry is the proxy's.
  const to = (src: string, dport: number) => ipv4Frame({ src, dst: B.ip, proto: 6, payload: tcp(TCP_SYN, 7000, dport, src, B.ip) });
  const proxied = n.run('bl_to_container', to(REMOTE_POD.ip, 80));
  assert.equal(proxied.retval, TC_ACT_OK);
  assert.deepEqual((({ action, cookie }) => ({ action, cookie }))(verdictOf(proxied.events)), { action: ALLOW, cookie: 202 });
  assert.ok(n.ct().some((r) => r.saddr === REMOTE_POD.ip && r.entry.flags & BlCtEntryFlags.BL_CT_F_FROM_PROXY));
  // The node's own socket (its address) is not the proxy: an entry naming the host with auth drops it…
  const own = n.run('bl_to_container', to(NODE.ip, 9090));
  assert.equal(own.retval, TC_ACT_SHOT);
  assert.deepEqual([dropOf(own.events).reason, dropOf(own.events).cookie], [AUTH_REQUIRED, 206]);
  // … but an any-peer entry does not ask the host (kubelet probes, allowed by allow-localhost).
  const host = n.run('bl_to_container', to(NODE.ip, 8080));
  assert.equal(host.retval, TC_ACT_OK);
  assert.deepEqual((({ action, cookie }) => ({ action, cookie }))(verdictOf(host.events)), { action: ALLOW, cookie: 204 });

  // Audit mode: passes, reported as audit.
  setFlags(n, B, INGRESS_F | AUDIT_F);
  const audit = n.run('bl_from_container', tcpFromPod(A, B.ip, TCP_SYN, 40002, 80));
  assert.equal(audit.retval, TC_ACT_REDIRECT);
  assert.equal(verdictOf(audit.events).action, AUDIT);
});

test('auth required, server side: a plaintext established connection is cut on its next packet when the policy turns auth on; the proxy\'s (FROM_PROXY entry) goes on', (t) => {
  const { n, policy } = node(t);
  const allow = (identity: number, auth: boolean) => entry({ direction: 'ingress', identity, port: 80, cookie: 211, ...(auth ? { authRequired: true } : {}) });
  policy.apply(B.id, { upserts: [allow(A.identity!, false), allow(REMOTE_POD.identity, false), defaultDeny('ingress', 212)], deletes: [] });
  setFlags(n, B, INGRESS_F);
  // Plaintext from A (local delivery), and the proxy-like connection through the stack (see above).
  assert.equal(n.run('bl_from_container', tcpFromPod(A, B.ip, TCP_SYN, 44000, 80)).retval, TC_ACT_REDIRECT);
  assert.equal(n.run('bl_from_container', tcpFromPod(A, B.ip, TCP_ACK, 44000, 80)).retval, TC_ACT_REDIRECT);
  const viaStack = (flags: number) => ipv4Frame({ src: REMOTE_POD.ip, dst: B.ip, proto: 6, payload: tcp(flags, 7002, 80, REMOTE_POD.ip, B.ip) });
  assert.equal(n.run('bl_to_container', viaStack(TCP_SYN)).retval, TC_ACT_OK);

  policy.apply(B.id, { upserts: [allow(A.identity!, true), allow(REMOTE_POD.identity, true)], deletes: [] });
  const cut = n.run('bl_from_container', tcpFromPod(A, B.ip, TCP_ACK, 44000, 80));
  assert.equal(cut.retval, TC_ACT_SHOT, 'plaintext: cut on its next packet');
  assert.deepEqual([dropOf(cut.events).reason, dropOf(cut.events).cookie], [AUTH_REQUIRED, 211]);
  assert.equal(n.run('bl_to_container', viaStack(TCP_ACK)).retval, TC_ACT_OK, "the proxy's connection goes on");
  // A new plaintext connection is refused.
  assert.equal(dropOf(n.run('bl_from_container', tcpFromPod(A, B.ip, TCP_SYN, 44001, 80)).events).reason, AUTH_REQUIRED);
});

test('auth required, client side: without an mTLS-out port nothing changes (the server drops); with one, a TCP connection to a flagged destination goes to the proxy listener (none here: 178); unflagged and UDP unchanged', (t) => {
  const AUTH_F = BlIpcacheFlags.BL_IPCACHE_F_AUTH_REQUIRED;
  {
    const { n } = node(t);
    flagAddress(n, REMOTE_POD.ip, REMOTE_POD.identity, AUTH_F, ip4Num('172.18.0.12'));
    flagAddress(n, B.ip, B.identity!, AUTH_F);
    assert.equal(n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 41000, 80)).retval, TC_ACT_REDIRECT, 'to the tunnel as before');
    assert.equal(n.run('bl_from_container', tcpFromPod(A, B.ip, TCP_SYN, 41001, 80)).retval, TC_ACT_REDIRECT, 'into B as before');
  }
  const { n, policy } = node(t, { config: { mtls_out_port: MTLS_OUT_PORT } });
  assert.equal(n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 42000, 80)).retval, TC_ACT_REDIRECT, 'unflagged: unchanged');
  flagAddress(n, REMOTE_POD.ip, REMOTE_POD.identity, AUTH_F, ip4Num('172.18.0.12'));
  flagAddress(n, B.ip, B.identity!, AUTH_F);
  for (const dst of [REMOTE_POD.ip, B.ip]) {
    const out = n.run('bl_from_container', tcpFromPod(A, dst, TCP_SYN, 42001, 80));
    assert.equal(out.retval, TC_ACT_SHOT, `${dst}: handed to the mTLS-out listener, which the test namespace does not have`);
    const d = dropOf(out.events);
    assert.deepEqual([d.reason, d.source], [SOCKET_LOOKUP_FAILED, A.id]);
  }
  // Not TCP: the listener takes TCP only; the packet goes as it is.
  assert.equal(n.run('bl_from_container', fromPod(A, REMOTE_POD.ip, 17, udp(42002, 53, A.ip, REMOTE_POD.ip))).retval, TC_ACT_REDIRECT);
  flagAddress(n, REMOTE_POD.ip, REMOTE_POD.identity, 0, ip4Num('172.18.0.12'));
  // An egress allow that requires authentication: to the listener too (here: none), whatever the destination's flag.
  policy.apply(A.id, { upserts: [entry({ identity: REMOTE_POD.identity, port: 80, cookie: 221, authRequired: true }), defaultDeny('egress', 222)], deletes: [] });
  setFlags(n, A, EGRESS_F);
  assert.equal(dropOf(n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 42003, 80)).events).reason, SOCKET_LOOKUP_FAILED);
});

test('auth required, client side: an egress allow that requires it drops with 189 at the client when the node has no mTLS-out port, or for UDP', (t) => {
  const { n, policy } = node(t);
  policy.apply(A.id, {
    upserts: [entry({ identity: REMOTE_POD.identity, protocol: 0, port: 0, portPrefixLen: 0, cookie: 231, authRequired: true }), defaultDeny('egress', 232)],
    deletes: [],
  });
  setFlags(n, A, EGRESS_F);
  const out = n.run('bl_from_container', tcpFromPod(A, REMOTE_POD.ip, TCP_SYN, 43000, 80));
  assert.equal(out.retval, TC_ACT_SHOT);
  const d = dropOf(out.events);
  assert.deepEqual({ reason: d.reason, cookie: d.cookie, source: d.source }, { reason: AUTH_REQUIRED, cookie: 231, source: A.id });
  assert.deepEqual(verdictOf(out.events).dir, EGRESS);
  assert.deepEqual(n.ct(), []);
  const n2 = node(t, { config: { mtls_out_port: MTLS_OUT_PORT } });
  n2.policy.apply(A.id, { upserts: [entry({ identity: REMOTE_POD.identity, protocol: 0, port: 0, portPrefixLen: 0, cookie: 231, authRequired: true })], deletes: [] });
  setFlags(n2.n, A, EGRESS_F);
  assert.equal(dropOf(n2.n.run('bl_from_container', fromPod(A, REMOTE_POD.ip, 17, udp(43001, 53, A.ip, REMOTE_POD.ip))).events).reason, AUTH_REQUIRED, 'UDP cannot be authenticated');
});
