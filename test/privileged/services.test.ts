/**
 * Services load-balanced without kube-proxy, end to end on a 2-node lab, once
 * with the socket hooks and once with the packet-level path: ClusterIP by address and by DNS name from pods on both
 * nodes, spread over every ready backend; ClientIP affinity; a Service without
 * endpoints refusing at once (TCP and UDP, and a NodePort from the outside world); UDP with the reply coming back from the service
 * address; scaling 3 → 5 → 1 reprogramming within a second while long-lived
 * connections to surviving backends carry on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beeline, beelineOk } from '../lib/cli.js';
import { repoRoot } from '../../src/common/version.js';
import { agentGet } from '../../src/agent/client.js';
import { readState } from '../../src/lab/state.js';
import type { ServiceRow } from '../../src/agent/services.js';
import type { AgentReply } from '../../src/agent/replies.js';
import { until } from '../lib/wait.js';

let LAB = 'svctest';
const env: Record<string, string> = { BEELINE_LAB: LAB };
const ok = (args: string[]) => beelineOk(args, env);
const run = (args: string[]) => beeline(args, env);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bin = join(repoRoot, 'bin', 'beeline');

function apply(yaml: string): void {
  const r = spawnSync(bin, ['apply', '-f', '-'], { input: yaml, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
}


const readyPods = (ns: string, app: string): any[] =>
  (JSON.parse(ok(['get', 'pods', '-n', ns, '-l', `app=${app}`, '-o', 'json']).stdout).items as any[]).filter(
    (p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && (p.status.containerStatuses ?? []).every((c: any) => c.ready),
  );

/** Each node's frontend for ns/name (ClusterIP, TCP port `port`), straight from the agents. */
async function frontends(service: string, port: number): Promise<ServiceRow[]> {
  const state = readState(LAB)!;
  return Promise.all(
    Object.values(state.agents).map(async (a) => {
      const r = await agentGet<AgentReply<'ListServices'>>(a.socket, '/v1/services');
      return r.services.find((s) => s.service === service && s.type === 'ClusterIP' && s.frontend.endsWith(`:${port}/TCP`))!;
    }),
  );
}

const MANIFEST = (replicas: number) => `apiVersion: v1
kind: Namespace
metadata: {name: svc}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: svc}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.47
        args: ["netexec", "--http-port=8080", "--udp-port=8081"]
        readinessProbe:
          tcpSocket: {port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: svc}
spec:
  selector: {app: echo}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: udp, port: 81, targetPort: 8081, protocol: UDP}
---
apiVersion: v1
kind: Service
metadata: {name: sticky, namespace: svc}
spec:
  selector: {app: echo}
  sessionAffinity: ClientIP
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: svc}
spec:
  selector: {app: nothing-has-this}
  ports:
  - {name: http, port: 80}
  - {name: dns, port: 53, protocol: UDP}
---
apiVersion: v1
kind: Pod
metadata: {name: client-a, namespace: svc, labels: {app: client}}
spec:
  nodeName: node1
  containers: [{name: c, image: busybox, command: ["sleep", "infinity"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client-b, namespace: svc, labels: {app: client}}
spec:
  nodeName: node2
  containers: [{name: c, image: busybox, command: ["sleep", "infinity"]}]
`;

/** Runs N requests inside a pod and counts the answers (`/hostname`: which backend answered). */
function hostnames(pod: string, url: string, n: number): Map<string, number> {
  const out = ok(['exec', '-n', 'svc', pod, '--', 'sh', '-c', `for i in $(seq ${n}); do curl -s --max-time 3 ${url}; echo; done`]).stdout;
  const counts = new Map<string, number>();
  for (const l of out.split('\n').filter(Boolean)) counts.set(l, (counts.get(l) ?? 0) + 1);
  return counts;
}

/**
 * The same acceptance for both translation points: the socket hooks (the
 * default), and the packet-level path at the pod's tc hook (--no-socket-lb).
 */
for (const [lab, socketLB] of [['svctest', true], ['svcpkt', false]] as const) {
  describe(socketLB ? 'socket-level load balancing' : 'packet-level load balancing (tc DNAT and reverse NAT)', () => {
    before(async () => {
      LAB = lab;
      env.BEELINE_LAB = lab;
      beeline(['lab', 'down', '--name', LAB, '-q']);
      ok(['lab', 'up', '--name', LAB, '--nodes', '2', '-q', ...(socketLB ? [] : ['--no-socket-lb'])]);
      apply(MANIFEST(3));
      await until('3 echo pods ready and both clients running', () => readyPods('svc', 'echo').length === 3 && readyPods('svc', 'client').length === 2, 90_000);
      await until('both nodes program echo with 3 backends', async () => (await frontends('svc/echo', 80)).every((f) => f?.backends.length === 3));
    });

    after(() => {
      beeline(['lab', 'down', '--name', LAB, '-q']);
    });

    test('a ClusterIP, by address and by DNS name, from pods on both nodes reaches every ready backend, spread close to evenly', () => {
      const ip = JSON.parse(ok(['get', 'svc', '-n', 'svc', 'echo', '-o', 'json']).stdout).spec.clusterIP as string;
      const backends = new Set(readyPods('svc', 'echo').map((p) => p.metadata.name));
      for (const [pod, url] of [
        ['client-a', `http://${ip}/hostname`],
        ['client-b', 'http://echo.svc/hostname'],
      ] as const) {
        const counts = hostnames(pod, url, 60);
        assert.deepEqual(new Set(counts.keys()), backends, `${pod} → ${url}: ${JSON.stringify([...counts])}`);
        for (const [b, c] of counts) assert.ok(c >= 8, `${pod}: backend ${b} got ${c} of 60 (expected about 20)`);
      }
      // The table users read.
      const list = ok(['service', 'list', '--node', 'node1']).stdout;
      assert.match(list, new RegExp(`\\s${ip.replace(/\./g, '\\.')}:80/TCP\\s+ClusterIP\\s+svc/echo\\s+1 => 10\\.0\\.\\d+\\.\\d+:8080/TCP \\(active\\)`));
      assert.match(ok(['bpf', 'lb', 'list', '--node', 'node2']).stdout, new RegExp(`${ip.replace(/\./g, '\\.')}:80/TCP \\(0\\)\\s+0\\.0\\.0\\.0:0 \\(\\d+\\) \\(0\\) \\[ClusterIP, non-routable\\]`));
    });

    test('one connection per request to 16 Services that share their backends: none fails (client ports reused across frontends)', async () => {
      // Sixteen frontends over the same 3 backends: a client port the kernel reuses for another
      // frontend can map onto an earlier connection's backend tuple.
      apply(
        Array.from({ length: 16 }, (_, i) => `apiVersion: v1\nkind: Service\nmetadata: {name: many-${i}, namespace: svc}\nspec:\n  selector: {app: echo}\n  ports: [{port: 80, targetPort: 8080}]\n`).join('---\n'),
      );
      await until('16 services with 3 backends on node1', async () => {
        const rows = await agentGet<AgentReply<'ListServices'>>(readState(LAB)!.agents['node1']!.socket, '/v1/services');
        return rows.services.filter((r) => r.service.startsWith('svc/many-') && r.backends.length === 3).length === 16;
      });
      const ips = Array.from({ length: 16 }, (_, i) => JSON.parse(ok(['get', 'svc', '-n', 'svc', `many-${i}`, '-o', 'json']).stdout).spec.clusterIP as string);
      const r = run(['exec', '-n', 'svc', 'client-a', '--', bin, 'loadgen', '--targets', ips.map((ip) => `${ip}:80`).join(','), '--concurrency', '16', '--duration', '3s', '-o', 'json']);
      const res = JSON.parse(r.stdout) as { requests: number; errors: number; errorKinds: Record<string, number> };
      assert.ok(res.requests > 300, `only ${res.requests} requests in 3 s`);
      assert.equal(res.errors, 0, `errors: ${JSON.stringify(res.errorKinds)} of ${res.requests}`);
    });

    test('sessionAffinity ClientIP: every request of a client reaches the same backend', () => {
      for (const pod of ['client-a', 'client-b']) {
        const counts = hostnames(pod, 'http://sticky.svc/hostname', 20);
        assert.equal(counts.size, 1, `${pod}: ${JSON.stringify([...counts])}`);
        assert.equal([...counts.values()][0], 20);
      }
    });

    // Socket level: connect() itself fails. Packet level: the pod's tc program
    // answers the SYN or datagram with an ICMP port unreachable (lib/icmp.h).
    test('a Service with no ready endpoints refuses connections at once', () => {
      const t0 = Date.now();
      const r = run(['exec', '-n', 'svc', 'client-a', '--', 'sh', '-c', 'start=$(date +%s%N); curl -s --max-time 10 http://empty.svc/; rc=$?; echo "$rc $(( ($(date +%s%N) - start) / 1000000 ))"']);
      const [rc, ms] = r.stdout.trim().split(' ').map(Number);
      assert.equal(rc, 7, `curl: connection refused (exit 7), got ${r.stdout}${r.stderr}`);
      assert.ok(ms! < 1000, `refused after ${ms} ms`);
      assert.ok(Date.now() - t0 < 10_000);

      // UDP: a connected socket learns it too (ECONNREFUSED), instead of waiting for an answer forever.
      const ip = JSON.parse(ok(['get', 'svc', '-n', 'svc', 'empty', '-o', 'json']).stdout).spec.clusterIP as string;
      const script = `
        const c = require('dgram').createSocket('udp4');
        const t0 = Date.now();
        const done = (what) => { console.log(what + ' ' + (Date.now() - t0)); process.exit(0); };
        c.on('error', (e) => done(e.code));
        c.on('message', () => done('answered'));
        c.connect(53, '${ip}', (err) => {
          if (err) return done(err.code);
          c.send('x');
          setTimeout(() => c.send('x'), 300);
        });
        setTimeout(() => done('silence'), 3000);`;
      const u = run(['exec', '-n', 'svc', 'client-a', '--', 'node', '-e', script]);
      const [code, udpMs] = u.stdout.trim().split('\n').pop()!.split(' ');
      assert.equal(code, 'ECONNREFUSED', `UDP to a Service without endpoints: ${u.stdout}${u.stderr}`);
      assert.ok(Number(udpMs) < 1000, `UDP refused after ${udpMs} ms`);
    });

    test('UDP: datagrams to the service reach a backend and the reply comes from the service address', () => {
      const ip = JSON.parse(ok(['get', 'svc', '-n', 'svc', 'echo', '-o', 'json']).stdout).spec.clusterIP as string;
      const script = `
        const d = require('dgram');
        const out = {};
        const s = d.createSocket('udp4');
        s.on('message', (m, r) => { out.unconnected = { reply: String(m), from: r.address + ':' + r.port }; s.close();
          const c = d.createSocket('udp4');
          c.connect(81, '${ip}', () => { out.peer = c.remoteAddress().address + ':' + c.remoteAddress().port; c.send('hostname'); });
          c.on('message', (m2) => { out.connected = String(m2); console.log(JSON.stringify(out)); process.exit(0); });
        });
        s.send('hostname', 81, '${ip}');
        setTimeout(() => { console.log(JSON.stringify(out)); process.exit(1); }, 5000);`;
      const r = ok(['exec', '-n', 'svc', 'client-b', '--', 'node', '-e', script]);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      const backends = new Set(readyPods('svc', 'echo').map((p) => p.metadata.name));
      assert.ok(backends.has(out.unconnected.reply), out.unconnected.reply);
      assert.equal(out.unconnected.from, `${ip}:81`, 'recvmsg shows the service, not the backend');
      assert.equal(out.peer, `${ip}:81`, 'getpeername shows the service');
      assert.ok(backends.has(out.connected), out.connected);
    });

    test('NodePort and LoadBalancer answer from the outside world through either node; with externalTrafficPolicy Local the backend sees the client', async () => {
      apply(`apiVersion: v1
kind: Service
metadata: {name: np, namespace: svc}
spec:
  type: NodePort
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: svc}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
`);
      const np = JSON.parse(ok(['get', 'svc', '-n', 'svc', 'np', '-o', 'json']).stdout);
      const nodePort = np.spec.ports[0].nodePort as number;
      assert.ok(nodePort >= 30000 && nodePort <= 32767, `nodePort ${nodePort} allocated at apply`);
      const lbIP = await until('an LB-IPAM address', () => JSON.parse(ok(['get', 'svc', '-n', 'svc', 'lb', '-o', 'json']).stdout).status?.loadBalancer?.ingress?.[0]?.ip as string | undefined);
      assert.match(lbIP, /^172\.18\.1\.\d+$/);
      assert.match(ok(['get', 'svc', '-n', 'svc', 'lb']).stdout, new RegExp(`lb\\s+LoadBalancer\\s+\\S+\\s+${lbIP.replace(/\./g, '\\.')}\\s+80:\\d+/TCP`));
      const backends = new Set(readyPods('svc', 'echo').map((p) => p.metadata.name));
      const world = (url: string, n: number) =>
        ok(['lab', 'exec', 'world', '--', 'sh', '-c', `for i in $(seq ${n}); do curl -s --max-time 3 ${url}; echo; done`]).stdout.split('\n').filter(Boolean);
      await until('both nodes program the NodePort', async () => {
        const state = readState(LAB)!;
        const all = await Promise.all(Object.values(state.agents).map((a) => agentGet<AgentReply<'ListServices'>>(a.socket, '/v1/services')));
        return all.every((r) => r.services.some((x) => x.service === 'svc/np' && x.type === 'NodePort' && x.backends.length === 3));
      });
      for (const nodeIP of ['172.18.0.11', '172.18.0.12']) {
        const got = world(`http://${nodeIP}:${nodePort}/hostname`, 9);
        assert.equal(got.length, 9, `${nodeIP}:${nodePort} answered every time: ${got.join(' ')}`);
        for (const h of got) assert.ok(backends.has(h), `${nodeIP}: ${h} is a backend`);
        assert.ok(new Set(got).size >= 2, `${nodeIP}: spread over backends on both nodes (${[...new Set(got)].join(' ')})`);
      }
      // The LoadBalancer address, routed to the nodes by the outside world; Local: the client's own address arrives.
      await until('the LB address answers', () => world(`http://${lbIP}/hostname`, 1).length === 1, 10_000);
      for (const h of world(`http://${lbIP}/hostname`, 6)) assert.ok(backends.has(h), h);
      for (const c of world(`http://${lbIP}/clientip`, 4)) assert.match(c, /^172\.18\.0\.100:\d+$/, 'the backend sees the outside client, not a node');
    });

    test('a NodePort without endpoints refuses a client in the outside world at once, through either node', async () => {
      apply(`apiVersion: v1
kind: Service
metadata: {name: np-empty, namespace: svc}
spec:
  type: NodePort
  selector: {app: nothing-has-this}
  ports: [{port: 80}]
`);
      const nodePort = JSON.parse(ok(['get', 'svc', '-n', 'svc', 'np-empty', '-o', 'json']).stdout).spec.ports[0].nodePort as number;
      await until('both nodes program the empty NodePort', async () => {
        const state = readState(LAB)!;
        const all = await Promise.all(Object.values(state.agents).map((a) => agentGet<AgentReply<'ListServices'>>(a.socket, '/v1/services')));
        return all.every((r) => r.services.some((x) => x.service === 'svc/np-empty' && x.type === 'NodePort'));
      });
      for (const nodeIP of ['172.18.0.11', '172.18.0.12']) {
        const r = run(['lab', 'exec', 'world', '--', 'sh', '-c', `start=$(date +%s%N); curl -s --max-time 10 http://${nodeIP}:${nodePort}/; rc=$?; echo "$rc $(( ($(date +%s%N) - start) / 1000000 ))"`]);
        const [rc, ms] = r.stdout.trim().split(' ').map(Number);
        assert.equal(rc, 7, `${nodeIP}:${nodePort}: connection refused (curl exit 7), got ${r.stdout}${r.stderr}`);
        assert.ok(ms! < 1000, `${nodeIP}: refused after ${ms} ms`);
      }
    });

    test('scaling 3 → 5 → 1 changes the backends within a second; connections to surviving backends are never broken', async () => {
      const ip = JSON.parse(ok(['get', 'svc', '-n', 'svc', 'echo', '-o', 'json']).stdout).spec.clusterIP as string;
      // 12 keep-alive connections through the service, each asking which backend it reached every 200 ms.
      const holder = `
        const http = require('http');
        const conns = [];
        for (let i = 0; i < 12; i++) {
          const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
          const c = { host: '', ok: 0, errors: 0, sockets: new Set() };
          conns.push(c);
          const tick = () => {
            const req = http.get({ host: '${ip}', port: 80, path: '/hostname', agent }, (res) => {
              let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => {
                if (!c.host) c.host = b; if (b === c.host) c.ok++; else c.errors++;
              });
            });
            req.on('socket', (s) => c.sockets.add(s));
            req.on('error', () => c.errors++);
          };
          tick();
          setInterval(tick, 200);
        }
        setTimeout(() => { console.log(JSON.stringify(conns.map((c) => ({ host: c.host, ok: c.ok, errors: c.errors, sockets: c.sockets.size })))); process.exit(0); }, ${22_000});`;
      const child = spawn(bin, ['exec', '-n', 'svc', 'client-a', '--', 'node', '-e', holder], { env: { ...process.env, ...env } });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      const done = new Promise<void>((r) => child.on('close', () => r()));
      await sleep(2000);

      const scaleTo = async (n: number) => {
        apply(MANIFEST(n));
        await until(`${n} echo pods ready`, () => readyPods('svc', 'echo').length === n && JSON.parse(ok(['get', 'pods', '-n', 'svc', '-l', 'app=echo', '-o', 'json']).stdout).items.length === n, 60_000, 100);
        const readyAt = Date.now();
        const fe = await until(`${n} backends on both nodes`, async () => {
          const f = await frontends('svc/echo', 80);
          return f.every((x) => x?.backends.length === n) && f;
        }, 10_000, 20);
        return { lagMs: Date.now() - readyAt, fe };
      };
      const up = await scaleTo(5);
      assert.ok(up.lagMs <= 1000, `5 backends programmed ${up.lagMs} ms after the pods were ready`);
      const down = await scaleTo(1);
      assert.ok(down.lagMs <= 1000, `1 backend programmed ${down.lagMs} ms after the others were gone`);
      const survivor = readyPods('svc', 'echo')[0].metadata.name as string;
      await done;
      const conns = JSON.parse(stdout.trim().split('\n').pop()!) as { host: string; ok: number; errors: number; sockets: number }[];
      assert.equal(conns.length, 12);
      const kept = conns.filter((c) => c.host === survivor);
      assert.ok(kept.length > 0, `some connection reached the surviving backend ${survivor}: ${JSON.stringify(conns)}`);
      for (const c of kept) {
        assert.equal(c.errors, 0, `a connection to the survivor saw errors: ${JSON.stringify(c)}`);
        assert.equal(c.sockets, 1, 'it stayed one connection the whole time');
        assert.ok(c.ok >= 80, `it kept answering (${c.ok} answers in 22 s)`);
      }
    });
  });
}
