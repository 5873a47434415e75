import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdentityInvalidError } from '../common/errors.js';
import {
  canonicalLabels,
  filterLabels,
  formatLabel,
  formatLabelSet,
  labelFilter,
  labelSetKey,
  parseLabel,
  parseLabelSetKey,
  podIdentityLabels,
  podLabels,
  type Label,
} from './labels.js';

const k8s = (key: string, value: string): Label => ({ source: 'k8s', key, value });

test('labels: parse and format source:key=value', () => {
  assert.deepEqual(parseLabel('k8s:app=web'), k8s('app', 'web'));
  assert.deepEqual(parseLabel('reserved:host'), { source: 'reserved', key: 'host', value: '' });
  assert.deepEqual(parseLabel('cidr:10.0.0.0/8'), { source: 'cidr', key: '10.0.0.0/8', value: '' });
  assert.deepEqual(parseLabel('app=web'), { source: 'unspec', key: 'app', value: 'web' });
  // A colon after the '=' belongs to the value.
  assert.deepEqual(parseLabel('k8s:url=http://x'), k8s('url', 'http://x'));
  assert.deepEqual(parseLabel('app.kubernetes.io/name=a=b'), { source: 'unspec', key: 'app.kubernetes.io/name', value: 'a=b' });
  assert.equal(formatLabel(k8s('app', 'web')), 'k8s:app=web');
  assert.equal(formatLabel({ source: 'reserved', key: 'world', value: '' }), 'reserved:world');
  assert.throws(() => parseLabel(''), IdentityInvalidError);
  assert.throws(() => parseLabel('k8s:=x'), IdentityInvalidError);
});

test('labels: canonical form is sorted, one per key, and the key is order-independent and reversible', () => {
  const a = canonicalLabels(['k8s:zeta=1', 'k8s:app=web', 'k8s:io.kubernetes.pod.namespace=default']);
  assert.deepEqual(formatLabelSet(a), ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=default', 'k8s:zeta=1']);
  const key = labelSetKey(['k8s:zeta=1', 'k8s:io.kubernetes.pod.namespace=default', 'k8s:app=web']);
  assert.equal(key, labelSetKey(a));
  assert.equal(key, 'k8s:app=web;k8s:io.kubernetes.pod.namespace=default;k8s:zeta=1;');
  assert.deepEqual(parseLabelSetKey(key), a);
  assert.deepEqual(parseLabelSetKey(''), []);
  // The later label of one key wins (Cilium's label map is keyed by key).
  assert.deepEqual(formatLabelSet(canonicalLabels(['k8s:app=a', 'k8s:app=b'])), ['k8s:app=b']);
  assert.notEqual(labelSetKey(['k8s:app=a']), labelSetKey(['k8s:app=b']));
  assert.notEqual(labelSetKey(['k8s:app=a']), labelSetKey(['container:app=a']));
});

test("labels: Cilium's default filter drops hashes, generations, io.kubernetes/kubernetes.io/k8s.io keys and annotations", () => {
  const input = [
    k8s('app', 'web'),
    k8s('pod-template-hash', '5d9f8c7b6'),
    k8s('controller-revision-hash', 'abc'),
    k8s('pod-template-generation', '1'),
    k8s('statefulset.kubernetes.io/pod-name', 'db-0'),
    k8s('apps.kubernetes.io/pod-index', '0'),
    k8s('batch.kubernetes.io/job-completion-index', '3'),
    k8s('io.kubernetes.pod.uid', 'u-1'),
    k8s('io.kubernetes.pod.name', 'web-1'),
    k8s('kubernetes.io/hostname', 'n1'),
    k8s('beta.kubernetes.io/arch', 'amd64'),
    k8s('topology.beta.kubernetes.io/zone', 'a'),
    k8s('k8s.io/whatever', 'x'),
    k8s('annotation.foo', 'x'),
    k8s('etcd_node', 'e1'),
    // kept: includes win over the shorter ignore, and prefixes only match at the key's start
    k8s('io.kubernetes.pod.namespace', 'default'),
    k8s('io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name', 'default'),
    k8s('app.kubernetes.io/name', 'shop'),
    k8s('io.cilium.k8s.policy.cluster', 'default'),
    k8s('io.cilium.k8s.policy.serviceaccount', 'sa'),
    k8s('my-pod-template-hash', 'kept'),
    { source: 'reserved', key: 'host', value: '' },
  ];
  const { identity, info } = filterLabels(input);
  assert.deepEqual(formatLabelSet(identity), [
    'k8s:app=web',
    'k8s:app.kubernetes.io/name=shop',
    'reserved:host',
    'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default',
    'k8s:io.cilium.k8s.policy.cluster=default',
    'k8s:io.cilium.k8s.policy.serviceaccount=sa',
    'k8s:io.kubernetes.pod.namespace=default',
    'k8s:my-pod-template-hash=kept',
  ]);
  assert.equal(info.length, 14);
});

test('labels: a user include pattern switches to allow-list mode, as in Cilium', () => {
  const f = labelFilter(['k8s:app']);
  const { identity } = filterLabels([k8s('app', 'web'), k8s('tier', 'db'), k8s('io.kubernetes.pod.namespace', 'x')], f);
  assert.deepEqual(formatLabelSet(identity), ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=x']);
  const g = labelFilter(['k8s:!tier']); // Cilium's syntax: source, then ! and the pattern
  assert.deepEqual(formatLabelSet(filterLabels([k8s('app', 'web'), k8s('tier', 'db')], g).identity), ['k8s:app=web']);
  assert.throws(() => labelFilter(['k8s:(']), IdentityInvalidError);
});

test('labels: a pod gets its labels, namespace, namespace labels, service account and cluster', () => {
  const pod = {
    namespace: 'shop',
    labels: { app: 'web', 'pod-template-hash': '77f9', 'io.kubernetes.pod.namespace': 'spoofed' },
    namespaceLabels: { team: 'blue' },
    serviceAccount: 'web-sa',
  };
  assert.equal(podLabels(pod).length, 8);
  assert.deepEqual(formatLabelSet(podIdentityLabels(pod)), [
    'k8s:app=web',
    'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop',
    'k8s:io.cilium.k8s.namespace.labels.team=blue',
    'k8s:io.cilium.k8s.policy.cluster=default',
    'k8s:io.cilium.k8s.policy.serviceaccount=web-sa',
    'k8s:io.kubernetes.pod.namespace=shop',
  ]);
  // Two replicas of one Deployment (different hashes) share one label set; another namespace does not.
  const a = labelSetKey(podIdentityLabels({ namespace: 'shop', labels: { app: 'web', 'pod-template-hash': '1' } }));
  const b = labelSetKey(podIdentityLabels({ namespace: 'shop', labels: { app: 'web', 'pod-template-hash': '2' } }));
  const c = labelSetKey(podIdentityLabels({ namespace: 'other', labels: { app: 'web' } }));
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.match(a, /k8s:io\.cilium\.k8s\.policy\.serviceaccount=default;/);
  assert.throws(() => podLabels({ namespace: '' }), IdentityInvalidError);
});
