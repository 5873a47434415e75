import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsRuleError } from '../../common/errors.js';
import { parseManifest } from '../../k8s/parse.js';
import { validateObject } from '../../k8s/validate.js';
import type { Origin } from '../../policy/types.js';
import { compileDnsRules, compileFqdnSelectors, type DnsRuleSpec, type FqdnSelectorSpec } from './rules.js';

const cnp = (namespace: string, name: string): Origin => ({ kind: 'CiliumNetworkPolicy', namespace, name });

/**
 * Cilium's policy language docs, "DNS Policy and IP Discovery" example
 * (examples/policies/l7/dns/dns.yaml), as written there.
 */
const DOCS_DNS_POLICY = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: "tofqdn-dns-visibility"
spec:
  endpointSelector:
    matchLabels:
      any:org: alliance
  egress:
  - toEndpoints:
    - matchLabels:
       "k8s:io.kubernetes.pod.namespace": kube-system
       "k8s:k8s-app": kube-dns
    toPorts:
      - ports:
         - port: "53"
           protocol: ANY
        rules:
          dns:
            - matchName: "cilium.io"
            - matchPattern: "*.cilium.io"
            - matchPattern: "*.api.cilium.io"

  - toFQDNs:
      - matchName: "cilium.io"
      - matchName: "sub.cilium.io"
      - matchName: "service1.api.cilium.io"
      - matchPattern: "special*service.api.cilium.io"
    toPorts:
      - ports:
         - port: "80"
           protocol: TCP
`;

/** The docs' "DNS Proxy" visibility example (dns-visibility.yaml): every query allowed, three names' addresses selected. */
const DOCS_VISIBILITY_POLICY = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: "tofqdn-dns-visibility"
spec:
  endpointSelector:
    matchLabels:
      any:org: alliance
  egress:
  - toEndpoints:
    - matchLabels:
       "k8s:io.kubernetes.pod.namespace": kube-system
       "k8s:k8s-app": kube-dns
    toPorts:
      - ports:
         - port: "53"
           protocol: ANY
        rules:
          dns:
            - matchPattern: "*"
  - toFQDNs:
      - matchName: "cilium.io"
      - matchName: "sub.cilium.io"
      - matchPattern: "*.sub.cilium.io"
`;

function policy(text: string): { dns: DnsRuleSpec[]; fqdns: FqdnSelectorSpec[]; origin: Origin } {
  const [doc] = parseManifest(text, 'docs.yaml');
  const o = doc!.object as Record<string, any>;
  const v = validateObject(o);
  assert.deepEqual(v.errors, [], 'the docs policy validates');
  return { dns: o.spec.egress[0].toPorts[0].rules.dns, fqdns: o.spec.egress[1].toFQDNs, origin: cnp('default', o.metadata.name) };
}

test('docs "DNS Policy and IP Discovery": queries for cilium.io, its subdomains and api.cilium.io subdomains are allowed, nothing else', () => {
  const p = policy(DOCS_DNS_POLICY);
  const m = compileDnsRules([{ rules: p.dns, origin: p.origin }]);
  for (const q of ['cilium.io', 'cilium.io.', 'sub.cilium.io.', 'anothersub.cilium.io.', 'service1.api.cilium.io.', 'special-region1-service.api.cilium.io.', 'CILIUM.IO.']) {
    assert.deepEqual(m.match(q), { allowed: true, allowedBy: [p.origin] }, q);
  }
  for (const q of ['google.com.', 'a.b.cilium.io.', 'xcilium.io.', 'cilium.io.evil.test.', 'a.b.api.cilium.io.', 'a\\.b.cilium.io.']) {
    assert.deepEqual(m.match(q), { allowed: false, allowedBy: [] }, q);
  }
});

test('docs "DNS Policy and IP Discovery": toFQDNs selects cilium.io, sub.cilium.io, service1.api.cilium.io, special*service — not region1-service or anothersub', () => {
  const p = policy(DOCS_DNS_POLICY);
  const f = compileFqdnSelectors(p.fqdns, p.origin, 'egress[1].toFQDNs');
  for (const n of ['cilium.io.', 'sub.cilium.io.', 'service1.api.cilium.io.', 'special-region1-service.api.cilium.io.', 'specialservice.api.cilium.io.']) {
    assert.equal(f.selects(n), true, n);
  }
  // "DNS queries to anothersub.cilium.io are allowed but connections to the returned IPs are not".
  for (const n of ['region1-service.api.cilium.io.', 'anothersub.cilium.io.', 'special.x.service.api.cilium.io.']) assert.equal(f.selects(n), false, n);
  assert.deepEqual(f.selecting('Sub.Cilium.IO'), [1]);
  assert.deepEqual(f.selecting('special-a-service.api.cilium.io'), [3]);
  // selects() remembers its answers per name: asked again (and in another spelling), the same answers.
  for (let round = 0; round < 2; round++) {
    for (const n of ['cilium.io.', 'CILIUM.IO', 'special-b-service.api.cilium.io']) assert.equal(f.selects(n), true, `${n} (round ${round})`);
    for (const n of ['anothersub.cilium.io.', 'Anothersub.Cilium.io', 'region1-service.api.cilium.io']) assert.equal(f.selects(n), false, `${n} (round ${round})`);
  }
});

test('docs "DNS Proxy" visibility: matchPattern "*" allows every query; toFQDNs takes cilium.io, sub.cilium.io and its subdomains', () => {
  const p = policy(DOCS_VISIBILITY_POLICY);
  const m = compileDnsRules([{ rules: p.dns, origin: p.origin }]);
  for (const q of ['.', 'anything.example.', 'odd\\032label.test.']) assert.equal(m.match(q).allowed, true, q);
  const f = compileFqdnSelectors(p.fqdns, p.origin);
  for (const n of ['cilium.io', 'sub.cilium.io', 'a.sub.cilium.io']) assert.equal(f.selects(n), true, n);
  for (const n of ['a.b.sub.cilium.io', 'other.cilium.io']) assert.equal(f.selects(n), false, n);
});

test('rules are ORed across policies; allowedBy names every policy that allowed, sorted; none means denied', () => {
  const a = cnp('default', 'a');
  const b = cnp('default', 'b');
  const m = compileDnsRules([
    { rules: [{ matchPattern: '*.example.test' }], origin: b },
    { rules: [{ matchName: 'api.example.test' }, { matchName: 'other.test' }], origin: a },
  ]);
  assert.deepEqual(m.match('api.example.test'), { allowed: true, allowedBy: [a, b] });
  assert.deepEqual(m.match('www.example.test'), { allowed: true, allowedBy: [b] });
  assert.deepEqual(m.match('other.test.'), { allowed: true, allowedBy: [a] });
  assert.deepEqual(m.match('evil.test.'), { allowed: false, allowedBy: [] });
  assert.equal(m.ruleCount, 3);
  assert.deepEqual(compileDnsRules([]).match('api.example.test'), { allowed: false, allowedBy: [] });
});

test('a policy allowing the port without DNS rules allows every name (L4-only wildcards L7)', () => {
  const l4 = cnp('default', 'l4-only');
  const m = compileDnsRules([{ rules: [{ matchName: 'a.test' }], origin: cnp('default', 'dns') }, { rules: [], origin: l4 }]);
  assert.deepEqual(m.match('evil.test.'), { allowed: true, allowedBy: [l4] });
});

test('issue 13 acceptance: a DNS rule for *.example.test allows api.example.test, REFUSES evil.test; toFQDNs api.example.test selects only it', () => {
  const o = cnp('default', 'fqdn');
  const m = compileDnsRules([{ rules: [{ matchPattern: '*.example.test' }], origin: o }]);
  assert.equal(m.match('api.example.test.').allowed, true);
  assert.equal(m.match('evil.test.').allowed, false);
  assert.equal(m.match('example.test.').allowed, false);
  const f = compileFqdnSelectors([{ matchName: 'api.example.test' }], o);
  assert.equal(f.selects('api.example.test.'), true);
  assert.equal(f.selects('www.example.test.'), false);
});

test('a rules.dns entry may carry both matchName and matchPattern (either allows); a toFQDNs entry may not', () => {
  const o = cnp('ns', 'p');
  const m = compileDnsRules([{ rules: [{ matchName: 'exact.test', matchPattern: '*.wild.test' }], origin: o }]);
  assert.equal(m.match('exact.test').allowed, true);
  assert.equal(m.match('x.wild.test').allowed, true);
  assert.equal(m.ruleCount, 2);
  assert.throws(() => compileFqdnSelectors([{ matchName: 'exact.test' }, { matchName: 'a.test', matchPattern: '*.test' }], o, 'egress[0].toFQDNs'),
    (e: unknown) => e instanceof DnsRuleError && e.code === 'BL_ERR_DNS_RULE'
      && e.message === 'CiliumNetworkPolicy/ns/p: egress[0].toFQDNs[1]: only one of matchName, matchPattern is allowed in a toFQDNs entry');
});

test('bad entries are refused with DnsRuleError naming the policy and field', () => {
  const o = cnp('ns', 'p');
  assert.throws(() => compileDnsRules([{ rules: [{ matchName: 'ok.test' }, { matchPattern: 'bad/pattern' }], origin: o }]),
    /^DnsRuleError: CiliumNetworkPolicy\/ns\/p: rules\.dns\[1\]\.matchPattern: "bad\/pattern": only letters/);
  assert.throws(() => compileDnsRules([{ rules: [{}], origin: o }]), /rules\.dns\[0\]: one of matchName, matchPattern is required/);
  assert.throws(() => compileDnsRules([{ rules: [{ matchName: '*.test' }], origin: o }]), /rules\.dns\[0\]\.matchName: "\*\.test"/);
  assert.throws(() => compileFqdnSelectors([{ matchPattern: 'a..test' }], o), /toFQDNs\[0\]\.matchPattern: "a\.\.test": empty label/);
  assert.throws(() => compileFqdnSelectors([{ matchName: '' }], o), /toFQDNs\[0\]: one of matchName, matchPattern is required/);
});

test('toFQDNs "*" selects names of [-a-zA-Z0-9_] labels only; DNS rule "*" allows any name', () => {
  const o = cnp('ns', 'p');
  const f = compileFqdnSelectors([{ matchPattern: '*' }], o);
  assert.equal(f.selects('api.example.test'), true);
  assert.equal(f.selects('_srv._tcp.example.test'), true);
  assert.equal(f.selects('we\\.ird.test'), false);
  assert.equal(compileDnsRules([{ rules: [{ matchPattern: '*' }], origin: o }]).match('we\\.ird.test').allowed, true);
});

test('toFQDNs **. (Cilium 1.19): any depth below the parent, never the parent itself', () => {
  const f = compileFqdnSelectors([{ matchPattern: '**.example.test' }], cnp('ns', 'p'));
  for (const n of ['a.example.test', 'a.b.c.example.test']) assert.equal(f.selects(n), true, n);
  for (const n of ['example.test', 'example.test.evil', 'aexample.test']) assert.equal(f.selects(n), false, n);
});
