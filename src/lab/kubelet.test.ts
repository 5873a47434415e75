import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { containerEnv, containerLogPath, expandVars, runProbe } from './kubelet.js';
import type { StoreObject } from '../store/store.js';

test('$(VAR) references expand from the container environment; $$ escapes; unknown ones stay', () => {
  assert.equal(expandVars('--name=$(POD_NAME) $$(X) $(NOPE)', { POD_NAME: 'web-1' }), '--name=web-1 $(X) $(NOPE)');
});

test('environment: HOSTNAME, values, and the fieldRefs pods use', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', uid: 'u1', labels: { app: 'web' } }, spec: {} } as unknown as StoreObject;
  const env = containerEnv(pod, {
    name: 'c', image: 'x',
    env: [
      { name: 'A', value: 'a' },
      { name: 'B', value: 'b-$(A)' },
      { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
    ],
  }, '10.0.1.5', 'node1');
  assert.equal(env.HOSTNAME, 'web-1');
  assert.deepEqual([env.A, env.B, env.NS, env.IP, env.NODE, env.APP], ['a', 'b-a', 'shop', '10.0.1.5', 'node1', 'web']);
});

test('log files follow /var/log/pods: <ns>_<name>_<uid>/<container>/<restart>.log', () => {
  assert.match(containerLogPath('lab', 'node1', { namespace: 'shop', name: 'web-1', uid: 'u1' }, 'c', 2), /\/labs\/lab\/nodes\/node1\/kubelet\/logs\/shop_web-1_u1\/c\/2\.log$/);
});

test('probes: httpGet by named port (2xx/3xx succeed), tcpSocket, exec by exit status', async () => {
  let status = 200;
  const seen: string[] = [];
  const srv = createServer((req, res) => {
    seen.push(`${req.url} ${req.headers['user-agent']} ${req.headers['x-probe']}`);
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  const c = { name: 'c', image: 'x', ports: [{ name: 'http', containerPort: port }] };
  const noExec = async () => 1;
  try {
    const http = { httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X-Probe', value: '1' }] } };
    assert.equal(await runProbe(http, c, '127.0.0.1', noExec), true);
    assert.match(seen[0]!, /^\/healthz kube-probe\/\S+ 1$/);
    status = 302;
    assert.equal(await runProbe(http, c, '127.0.0.1', noExec), true);
    status = 500;
    assert.equal(await runProbe(http, c, '127.0.0.1', noExec), false);
    assert.equal(await runProbe({ httpGet: { port: 'nope' } }, c, '127.0.0.1', noExec), false, 'an unknown named port fails');
    assert.equal(await runProbe({ tcpSocket: { port } }, c, '127.0.0.1', noExec), true);
  } finally {
    srv.close();
  }
  assert.equal(await runProbe({ tcpSocket: { port } }, c, '127.0.0.1', noExec), false, 'closed port');
  assert.equal(await runProbe({ exec: { command: ['true'] } }, c, '127.0.0.1', async (cmd) => (cmd[0] === 'true' ? 0 : 1)), true);
  assert.equal(await runProbe({ exec: { command: ['false'] } }, c, '127.0.0.1', async (cmd) => (cmd[0] === 'true' ? 0 : 1)), false);
});
