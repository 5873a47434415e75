/** `beeline policy trace` output: a redirecting allow says so, as `cilium policy trace` does. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseManifest } from '../k8s/parse.js';
import { RESERVED_IDENTITIES } from '../identity/reserved.js';
import { PolicyRepository, tracePolicy } from '../policy/index.js';
import { cnp, podLabels } from '../policy/testing.js';
import { describeStep, suggestionYaml, suggestOptions } from './policy.js';

test('policy trace prints the proxy redirect and the policies whose HTTP rules apply', () => {
  const deathstar = podLabels('empire', { org: 'empire', class: 'deathstar' });
  const tiefighter = podLabels('empire', { org: 'empire', class: 'tiefighter' });
  const build = (proxyPorts?: { ingress: number; egress: number }) => {
    const r = new PolicyRepository({ options: proxyPorts ? { proxyPorts } : {} });
    r.setIdentities([...RESERVED_IDENTITIES.map((i): [number, typeof deathstar] => [i.id, i.labels]), [2001, deathstar], [2002, tiefighter]]);
    const text = readFileSync(new URL('../../../examples/starwars.yaml', import.meta.url), 'utf8');
    for (const d of parseManifest(text, 'starwars.yaml')) if ((d.object as { kind?: string }).kind === 'CiliumNetworkPolicy') r.upsertPolicy(d.object);
    r.upsertPolicy(cnp('empire', 'port80', { endpointSelector: { matchLabels: { class: 'deathstar' } }, ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] }));
    return tracePolicy(r, { source: { identity: 2002 }, destination: { endpoint: { id: 9, identity: 2001, labels: deathstar, namespace: 'empire' } }, protocol: 6, port: 80 });
  };
  const lines = describeStep(build({ ingress: 15001, egress: 15002 }).ingress, 'destination empire/deathstar');
  assert.equal(lines.at(-1), '  redirected to proxy port 15001 (L7 http rules of CiliumNetworkPolicy/empire/port80, CiliumNetworkPolicy/empire/rule1)');
  assert.ok(lines.some((l) => l.startsWith('  map entry: identity 2002, proto 6, port 80, allow')));
  const plain = describeStep(build().ingress, 'destination empire/deathstar');
  assert.ok(!plain.some((l) => l.includes('redirected')), 'no proxy ports, no redirect line');
});

test('policy trace says when the allow requires mutual authentication', () => {
  const web = podLabels('m', { app: 'web' });
  const client = podLabels('m', { app: 'client' });
  const r = new PolicyRepository();
  r.setIdentities([...RESERVED_IDENTITIES.map((i): [number, typeof web] => [i.id, i.labels]), [2001, web], [2002, client]]);
  r.upsertPolicy(cnp('m', 'auth', { endpointSelector: { matchLabels: { app: 'web' } }, ingress: [{ fromEndpoints: [{ matchLabels: { app: 'client' } }], authentication: { mode: 'required' } }] }));
  const trace = (from: number) => tracePolicy(r, { source: { identity: from }, destination: { endpoint: { id: 9, identity: 2001, labels: web, namespace: 'm' } }, protocol: 6, port: 80 }).ingress;
  const lines = describeStep(trace(2002), 'destination m/web');
  assert.equal(lines[0], 'destination m/web: ingress allowed (match L3-Only)');
  assert.equal(lines.at(-1), "  mutual authentication required: only through the node proxies' mTLS, else dropped (189 Authentication required)");
  assert.ok(!describeStep(trace(1), 'destination m/web').some((l) => l.includes('authentication')), 'the host (allow-localhost) is not asked');
});

test('policy suggest: flags into options, usage errors name the flag', () => {
  assert.deepEqual(suggestOptions({ namespace: 'm', label: ['app=web', 'tier=fe'] }), { namespace: 'm', kind: 'cnp', l7: false, labels: { app: 'web', tier: 'fe' } });
  assert.deepEqual(suggestOptions({ namespace: 'm', pod: ['web-0'], kind: 'KNP', l7: true }), { namespace: 'm', kind: 'knp', l7: true, pods: ['web-0'] });
  const usage = (o: Parameters<typeof suggestOptions>[0], re: RegExp) => assert.throws(() => suggestOptions(o), (e: Error & { code?: string }) => e.code === 'BL_ERR_USAGE' && re.test(e.message));
  usage({ pod: ['a'] }, /--namespace is required/);
  usage({ namespace: 'm' }, /--pod NAME .* or --label/);
  usage({ namespace: 'm', pod: ['a'], label: ['app=a'] }, /not both/);
  usage({ namespace: 'm', label: ['app'] }, /--label app: expected KEY=VALUE/);
  usage({ namespace: 'm', pod: ['Bad_Name'] }, /--pod Bad_Name/);
  usage({ namespace: 'm', pod: ['a'], kind: 'np' }, /--kind np/);
});

test('policy suggest YAML: one document per policy, each rule preceded by its flows, warnings on top; it parses back to the policies', () => {
  const r = {
    policies: [
      { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'suggested-web', namespace: 'm' }, spec: { endpointSelector: { matchLabels: { app: 'web' } }, ingress: [{ fromEndpoints: [{ matchLabels: { app: 'client' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }], egress: [{}] } },
      { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'suggested-db', namespace: 'm' }, spec: { endpointSelector: { matchLabels: { app: 'db' } }, ingress: [{}], egress: [{}] } },
    ],
    explanations: [{ policy: 'suggested-web', direction: 'ingress' as const, index: 0, peer: 'pods {app=client}', ports: ['80/TCP'], flows: 3, example: 'm/client → m/web:80/TCP' }],
    warnings: ['suggested-web: no egress was observed'],
  };
  const text = suggestionYaml(r);
  assert.match(text, /^# Warning: suggested-web: no egress was observed\n/);
  assert.match(text, /\n {2}ingress:\n {4}# ingress pods \{app=client\} on 80\/TCP: 3 flow\(s\), e\.g\. m\/client → m\/web:80\/TCP\n {4}- fromEndpoints:/);
  const docs = parseManifest(text, 'suggest.yaml').map((d) => d.object);
  assert.deepEqual(docs, r.policies);
});
