import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSelector, parseSelectorRequirements, parseSelectorString, requirementsMatch, selectorMatches } from './selector.js';
import { resolveKind } from './kinds.js';

test('selectorMatches: matchLabels and every operator', () => {
  const l = { app: 'web', tier: 'front', env: 'prod' };
  assert.equal(selectorMatches({}, l), true);
  assert.equal(selectorMatches(undefined, l), false);
  assert.equal(selectorMatches({ matchLabels: { app: 'web' } }, l), true);
  assert.equal(selectorMatches({ matchLabels: { app: 'db' } }, l), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'stage'] }] }, l), true);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, l), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, l), true);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, l), true);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, l), false);
  assert.equal(selectorMatches({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, l), true);
  assert.equal(selectorMatches({ matchLabels: { toString: 'x' } }, {}), false);
});

test('parseSelectorString: kubectl -l forms', () => {
  assert.deepEqual(parseSelectorString('app=web,tier!=db,env in (a, b),zone notin (x),release,!canary'), {
    selector: {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'NotIn', values: ['db'] },
        { key: 'env', operator: 'In', values: ['a', 'b'] },
        { key: 'zone', operator: 'NotIn', values: ['x'] },
        { key: 'release', operator: 'Exists' },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    },
  });
  assert.deepEqual(parseSelectorString(''), { selector: {} });
  assert.ok('error' in parseSelectorString('app=(web'));
  assert.ok('error' in parseSelectorString('a b c'));
});

test('parseSelectorRequirements: the store form of the same parser, in written order', () => {
  assert.deepEqual(parseSelectorRequirements('tier!=db,app=web,!canary'), {
    requirements: [
      { key: 'tier', operator: 'NotIn', values: ['db'] },
      { key: 'app', operator: 'In', values: ['web'] },
      { key: 'canary', operator: 'DoesNotExist' },
    ],
  });
  assert.deepEqual(parseSelectorRequirements(undefined), { requirements: [] });
  assert.deepEqual(parseSelectorRequirements('  '), { requirements: [] });
  // Keys and values are checked as the apiserver checks them; the message names the selector and the term.
  assert.match((parseSelectorRequirements('a/b/c=x') as { error: string }).error, /^label selector "a\/b\/c=x": invalid label key "a\/b\/c"/);
  assert.match((parseSelectorRequirements('app in (-x)') as { error: string }).error, /invalid value "-x" in "app in \(-x\)"/);
  assert.match((parseSelectorRequirements('a=1,,b') as { error: string }).error, /empty term/);
  const reqs = (parseSelectorRequirements('app in (web),tier') as { requirements: never[] }).requirements;
  assert.equal(requirementsMatch(reqs, { app: 'web', tier: 'x' }), true);
  assert.equal(requirementsMatch(reqs, { app: 'web' }), false);
});

test('checkSelector: Cilium source prefixes only for Cilium', () => {
  const sel = { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'default' } };
  assert.deepEqual(checkSelector(sel, true), []);
  assert.equal(checkSelector(sel, false).length, 1);
});

test('resolveKind: kubectl names', () => {
  for (const [n, k] of [['po', 'Pod'], ['pods', 'Pod'], ['Pod', 'Pod'], ['svc', 'Service'], ['deploy', 'Deployment'], ['deployments.apps', 'Deployment'],
    ['ns', 'Namespace'], ['netpol', 'NetworkPolicy'], ['cnp', 'CiliumNetworkPolicy'], ['ccnp', 'CiliumClusterwideNetworkPolicy'],
    ['httproute', 'HTTPRoute'], ['httproutes', 'HTTPRoute'], ['no', 'Node'], ['nodes', 'Node'], ['ep', 'EndpointSlice'], ['endpointslice', 'EndpointSlice']] as const) {
    assert.equal(resolveKind(n)?.kind, k, n);
  }
  assert.equal(resolveKind('configmap'), undefined);
  assert.equal(resolveKind('ccnp')!.namespaced, false);
  assert.equal(resolveKind('cnp')!.apiVersion, 'cilium.io/v2');
});
