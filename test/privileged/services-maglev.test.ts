/**
 * Maglev from the outside world, end to end on a 2-node natively routed lab:
 * a NodePort Service with service.cilium.io/lb-algorithm: maglev and three
 * agnhost backends spread over the nodes. A client in the world namespace
 * connects from a fixed source port to the NodePort on node1's address and
 * then on node2's: each node hashes the flow on its own, with its own backend
 * ids, yet both must send it to the same backend (agnhost /hostname names
 * it). With random selection the 8 ports would agree through both nodes by
 * chance once in 3^8.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beeline, beelineOk } from '../lib/cli.js';
import { repoRoot } from '../../src/common/version.js';
import { agentGet } from '../../src/agent/client.js';
import { readState } from '../../src/lab/state.js';
import type { AgentReply } from '../../src/agent/replies.js';
import { until } from '../lib/wait.js';

const LAB = 'magtest';
const env: Record<string, string> = { BEELINE_LAB: LAB };
const ok = (args: string[]) => beelineOk(args, env);
const NODE_IPS = ['172.18.0.11', '172.18.0.12'];

function apply(yaml: string): void {
  const r = spawnSync(join(repoRoot, 'bin', 'beeline'), ['apply', '-f', '-'], { input: yaml, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
}


const readyPods = (): any[] =>
  (JSON.parse(ok(['get', 'pods', '-n', 'mag', '-l', 'app=echo', '-o', 'json']).stdout).items as any[]).filter(
    (p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && (p.status.containerStatuses ?? []).every((c: any) => c.ready),
  );

const MANIFEST = `apiVersion: v1
kind: Namespace
metadata: {name: mag}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: mag}
spec:
  replicas: 3
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.47
        args: ["netexec", "--http-port=8080"]
        readinessProbe:
          tcpSocket: {port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: np
  namespace: mag
  annotations: {service.cilium.io/lb-algorithm: maglev}
spec:
  type: NodePort
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
`;

before(async () => {
  beeline(['lab', 'down', '--name', LAB, '-q']);
  ok(['lab', 'up', '--name', LAB, '--nodes', '2', '--routing', 'native', '-q']);
  apply(MANIFEST);
  await until('3 echo pods ready', () => readyPods().length === 3, 90_000);
  await until('both nodes program the NodePort with 3 backends', async () => {
    const state = readState(LAB)!;
    const all = await Promise.all(Object.values(state.agents).map((a) => agentGet<AgentReply<'ListServices'>>(a.socket, '/v1/services')));
    return all.length === 2 && all.every((r) => r.services.some((x) => x.service === 'mag/np' && x.type === 'NodePort' && x.backends.length === 3));
  });
});

after(() => {
  beeline(['lab', 'down', '--name', LAB, '-q']);
});

test('a Maglev NodePort: the same client port reaches the same backend through either node', async () => {
  const nodePort = JSON.parse(ok(['get', 'svc', '-n', 'mag', 'np', '-o', 'json']).stdout).spec.ports[0].nodePort as number;
  const backends = new Set(readyPods().map((p) => p.metadata.name as string));
  const ports = [40101, 40213, 40337, 40459, 40561, 40673, 40787, 40891];
  // One client in the world, in Node: libuv binds with SO_REUSEADDR, so the
  // port can be reused towards node2 while its connection to node1 sits in
  // TIME_WAIT (curl --local-port cannot bind then). One answer per line, "-" for none.
  const client = `
    const net = require('node:net');
    const get = (host, localPort) => new Promise((resolve) => {
      let data = '';
      const s = net.connect({ host, port: ${nodePort}, localPort }, () => s.end('GET /hostname HTTP/1.0\\r\\nHost: np\\r\\n\\r\\n'));
      s.setTimeout(3000, () => s.destroy());
      s.on('data', (d) => (data += d));
      s.on('error', () => {});
      s.on('close', () => resolve(data.split('\\r\\n\\r\\n')[1] || '-'));
    });
    (async () => { for (const p of ${JSON.stringify(ports)}) for (const ip of ${JSON.stringify(NODE_IPS)}) console.log((await get(ip, p)).trim() || '-'); })();`;
  await until('the NodePort answers through both nodes', () => NODE_IPS.every((ip) => ok(['lab', 'exec', 'world', '--', 'sh', '-c', `curl -s --max-time 3 http://${ip}:${nodePort}/hostname`]).stdout.length > 0), 20_000);
  const lines = ok(['lab', 'exec', 'world', '--', process.execPath, '-e', client]).stdout.split('\n').slice(0, ports.length * 2);
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const [via1, via2] = [lines[2 * i]!, lines[2 * i + 1]!];
    assert.ok(backends.has(via1), `port ${p} via node1 answered by a backend: '${via1}'`);
    assert.equal(via2, via1, `port ${p}: node2 chose ${via2}, node1 ${via1}`);
    seen.add(via1);
  });
  // 8 flows over 3 backends all on one: once in 3^7 (the hash would be broken).
  assert.ok(seen.size >= 2, `8 source ports spread over the backends: ${[...seen].join(', ')}`);

  // Each node's master entry of the NodePort frontend carries the flag.
  const list = ok(['bpf', 'lb', 'list']).stdout;
  for (const ip of NODE_IPS) assert.match(list, new RegExp(`${ip.replace(/\./g, '\\.')}:${nodePort}/TCP \\(0\\).*\\[NodePort, Maglev\\]`), list);
});
