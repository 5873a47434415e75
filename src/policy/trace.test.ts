/** `policy trace` is computed from the emitted entries, per direction, with deciding origins. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupPolicy } from './lookup.js';
import { tracePolicy } from './trace.js';
import { CLIENT2, DB, ID, WEB, ccnp, cnp, repository, TCP, UDP } from './testing.js';

const policies = () => [
  cnp('ns1', 'web-in', { endpointSelector: { matchLabels: { app: 'web' } }, ingress: [{ fromEndpoints: [{ matchLabels: { app: 'db' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] }),
  cnp('ns1', 'db-out', { endpointSelector: { matchLabels: { app: 'db' } }, egress: [{ toEndpoints: [{}] }] }),
  ccnp('no-81', { endpointSelector: {}, ingressDeny: [{ toPorts: [{ ports: [{ port: '81', protocol: 'TCP' }] }] }], enableDefaultDeny: { ingress: false } }),
];

test('trace: allowed both ways, with match types and deciding policies', () => {
  const r = repository(policies());
  const t = tracePolicy(r, { source: { endpoint: DB }, destination: { endpoint: WEB }, protocol: TCP, port: 80 });
  assert.equal(t.allowed, true);
  assert.deepEqual([t.egress!.verdict, t.egress!.match, t.egress!.by], ['allowed', 'L3-Only', ['CiliumNetworkPolicy/ns1/db-out']]);
  assert.deepEqual([t.ingress!.verdict, t.ingress!.match, t.ingress!.by, t.ingress!.dropReason], ['allowed', 'L3-L4', ['CiliumNetworkPolicy/ns1/web-in'], undefined]);
});

test('trace: default deny names the policies that enforce the direction', () => {
  const r = repository(policies());
  const t = tracePolicy(r, { source: { endpoint: DB }, destination: { endpoint: WEB }, protocol: UDP, port: 80 });
  assert.equal(t.allowed, false);
  assert.equal(t.egress!.verdict, 'allowed');
  assert.deepEqual([t.ingress!.verdict, t.ingress!.dropReason, t.ingress!.match, t.ingress!.by], ['denied', 133, 'none', ['CiliumNetworkPolicy/ns1/web-in']]);
});

test('trace: explicit deny (181) names the deny policy; egress default deny at the source', () => {
  const r = repository(policies());
  const t = tracePolicy(r, { source: { identity: ID.db }, destination: { endpoint: WEB }, protocol: TCP, port: 81 });
  assert.equal(t.egress, undefined, 'a bare identity has no local egress policy');
  assert.deepEqual([t.ingress!.verdict, t.ingress!.dropReason, t.ingress!.match, t.ingress!.by], ['denied', 181, 'L4-Only', ['CiliumClusterwideNetworkPolicy/no-81']]);
  const out = tracePolicy(r, { source: { endpoint: DB }, destination: { identity: 2 }, protocol: TCP, port: 443 });
  assert.deepEqual([out.allowed, out.egress!.dropReason, out.egress!.by, out.ingress], [false, 133, ['CiliumNetworkPolicy/ns1/db-out'], undefined]);
});

test('trace: a direction not enforced is allowed with match none; default allow names default-allow and lets denies drop', () => {
  const r = repository(policies());
  const t = tracePolicy(r, { source: { endpoint: WEB }, destination: { endpoint: CLIENT2 }, protocol: TCP, port: 80 });
  assert.deepEqual([t.allowed, t.egress!.enforced, t.egress!.match], [true, false, 'none']);
  // CLIENT2 is selected only by no-81 (enableDefaultDeny false): enforced with default allow, its deny applies.
  assert.deepEqual([t.ingress!.enforced, t.ingress!.defaultDeny, t.ingress!.match, t.ingress!.by], [true, false, 'all', ['default-allow']]);
  const denied = tracePolicy(r, { source: { endpoint: WEB }, destination: { endpoint: CLIENT2 }, protocol: TCP, port: 81 });
  assert.deepEqual([denied.allowed, denied.ingress!.dropReason, denied.ingress!.by], [false, 181, ['CiliumClusterwideNetworkPolicy/no-81']]);
  // WEB is selected by web-in too: default deny.
  assert.deepEqual([tracePolicy(r, { source: { endpoint: CLIENT2 }, destination: { endpoint: WEB }, protocol: TCP, port: 80 }).ingress!.defaultDeny], [true]);
});

test('trace agrees with lookupPolicy over computeEndpoint for every packet of a grid', () => {
  const r = repository(policies());
  for (const [src, dst] of [[DB, WEB], [WEB, DB], [CLIENT2, WEB], [DB, CLIENT2]] as const) {
    const sp = r.computeEndpoint(src), dp = r.computeEndpoint(dst);
    for (const proto of [TCP, UDP]) for (const port of [79, 80, 81, 82]) {
      const t = tracePolicy(r, { source: { endpoint: src }, destination: { endpoint: dst }, protocol: proto, port });
      const e = lookupPolicy(sp.entries, 'egress', dst.identity, proto, port, sp.egressEnforced);
      const i = lookupPolicy(dp.entries, 'ingress', src.identity, proto, port, dp.ingressEnforced);
      assert.equal(t.allowed, e.allowed && i.allowed);
      assert.deepEqual(t.egress!.entry, e.entry);
      assert.deepEqual(t.ingress!.entry, i.entry);
    }
  }
});
