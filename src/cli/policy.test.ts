/** `beeline policy trace` output: a redirecting allow says so, as `cilium policy trace` does. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseManifest } from '../k8s/parse.js';
import { RESERVED_IDENTITIES } from '../identity/reserved.js';
import { PolicyRepository, tracePolicy } from '../policy/index.js';
import { cnp, podLabels } from '../policy/testing.js';
import { describeStep } from './policy.js';

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
