import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, displayStatus, podPhase, podStatus, shouldRestart, type ContainerState, type PodRuntimeView } from './podstatus.js';

const c = (over: Partial<ContainerState> = {}): ContainerState => ({ name: 'c', image: 'x', state: 'running', restartCount: 0, ready: true, startedAt: 't0', ...over });
const view = (containers: ContainerState[], over: Partial<PodRuntimeView> = {}): PodRuntimeView => ({
  sandboxReady: true, podIP: '10.0.1.5', hostIP: '172.18.0.11', startTime: 't0', containers, restartPolicy: 'Always', transitions: {}, ...over,
});

test('restart policy and the back-off sequence are the kubelet’s', () => {
  assert.ok(shouldRestart('Always', 0) && shouldRestart('OnFailure', 1));
  assert.ok(!shouldRestart('OnFailure', 0) && !shouldRestart('Never', 1));
  assert.deepEqual([0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n)), [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  assert.equal(backoffDelay(2, 1000), 4000);
});

test('phase: Pending until the sandbox and every container have started; Succeeded/Failed by exit codes and policy', () => {
  assert.equal(podPhase(view([c()], { sandboxReady: false })), 'Pending');
  assert.equal(podPhase(view([c(), c({ name: 'd', state: 'waiting', reason: 'ContainerCreating' })])), 'Pending');
  assert.equal(podPhase(view([c()])), 'Running');
  // Crash-looping after having run: still Running.
  assert.equal(podPhase(view([c({ state: 'waiting', reason: 'CrashLoopBackOff', restartCount: 3 })])), 'Running');
  const done = (code: number) => c({ state: 'terminated', exitCode: code });
  assert.equal(podPhase(view([done(0)], { restartPolicy: 'Never' })), 'Succeeded');
  assert.equal(podPhase(view([done(0), done(2)], { restartPolicy: 'Never' })), 'Failed');
  assert.equal(podPhase(view([done(0)], { restartPolicy: 'OnFailure' })), 'Succeeded');
});

test('status: Ready only when every container is ready, container states and last state as Kubernetes writes them', () => {
  const s = podStatus(view([c({ pid: 42 }), c({ name: 'd', ready: false, restartCount: 2, lastTerminated: { exitCode: 1, reason: 'Error', finishedAt: 't1' } })])) as any;
  assert.equal(s.phase, 'Running');
  assert.equal(s.podIP, '10.0.1.5');
  assert.deepEqual(s.podIPs, [{ ip: '10.0.1.5' }]);
  const ready = s.conditions.find((x: any) => x.type === 'Ready');
  assert.equal(ready.status, 'False');
  assert.equal(ready.message, 'containers with unready status: [d]');
  assert.equal(s.containerStatuses[0].containerID, 'beeline://42');
  assert.deepEqual(s.containerStatuses[0].state, { running: { startedAt: 't0' } });
  assert.deepEqual(s.containerStatuses[1].lastState, { terminated: { exitCode: 1, reason: 'Error', finishedAt: 't1' } });
  const allReady = podStatus(view([c()])) as any;
  assert.equal(allReady.conditions.find((x: any) => x.type === 'Ready').status, 'True');
});

test('kubectl’s STATUS column: waiting reasons and Terminating win over the phase', () => {
  assert.equal(displayStatus({ status: { phase: 'Running', containerStatuses: [{ state: { running: {} } }] } }), 'Running');
  assert.equal(displayStatus({ status: { phase: 'Running', containerStatuses: [{ state: { waiting: { reason: 'CrashLoopBackOff' } } }] } }), 'CrashLoopBackOff');
  assert.equal(displayStatus({ status: { phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'ContainerCreating' } } }] } }), 'ContainerCreating');
  assert.equal(displayStatus({ status: { phase: 'Succeeded', containerStatuses: [{ state: { terminated: { reason: 'Completed', exitCode: 0 } } }] } }), 'Completed');
  assert.equal(displayStatus({ metadata: { deletionTimestamp: 'x' }, status: { phase: 'Running' } }), 'Terminating');
  assert.equal(displayStatus({}), 'Pending');
});
