import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hideWorkload, NO_NOISE_HIDDEN, noiseBlacklist, requestFilters, showWorkload } from './filters.js';

test('nothing hidden: no blacklist', () => {
  assert.deepEqual(noiseBlacklist(NO_NOISE_HIDDEN), []);
});

test('hide host, kube-dns and health: one filter per side and label', () => {
  assert.deepEqual(noiseBlacklist({ ...NO_NOISE_HIDDEN, host: true }), [{ source_label: ['reserved:host'] }, { destination_label: ['reserved:host'] }]);
  assert.deepEqual(noiseBlacklist({ ...NO_NOISE_HIDDEN, kubeDns: true }), [{ source_label: ['k8s:k8s-app=kube-dns'] }, { destination_label: ['k8s:k8s-app=kube-dns'] }]);
  assert.deepEqual(noiseBlacklist({ ...NO_NOISE_HIDDEN, health: true }), [{ source_label: ['reserved:health'] }, { destination_label: ['reserved:health'] }]);
  assert.equal(noiseBlacklist({ host: true, kubeDns: true, health: true, workloads: [] }).length, 6);
});

test('a hidden workload: its name on either side, in its namespace only', () => {
  assert.deepEqual(noiseBlacklist({ ...NO_NOISE_HIDDEN, workloads: [{ namespace: 'default', name: 'xwing' }] }), [
    { source_workload: [{ name: 'xwing' }], source_pod: ['default/'] },
    { destination_workload: [{ name: 'xwing' }], destination_pod: ['default/'] },
  ]);
});

test('the text filter keeps its lists; noise is added to its blacklist', () => {
  const text = { whitelist: [{ destination_pod: ['default/deathstar'] }], blacklist: [{ verdict: ['FORWARDED' as const] }] };
  const r = requestFilters(text, { ...NO_NOISE_HIDDEN, host: true });
  assert.deepEqual(r.whitelist, text.whitelist);
  assert.deepEqual(r.blacklist, [{ verdict: ['FORWARDED'] }, { source_label: ['reserved:host'] }, { destination_label: ['reserved:host'] }]);
});

test('hiding a workload twice lists it once; showing it removes it', () => {
  const w = { namespace: 'default', name: 'xwing' };
  const once = hideWorkload(NO_NOISE_HIDDEN, w);
  assert.equal(hideWorkload(once, { ...w }), once);
  assert.deepEqual(showWorkload(once, w).workloads, []);
  assert.deepEqual(NO_NOISE_HIDDEN.workloads, []);
});
