/**
 * A keep-alive HTTP load client for the mesh lab test, run INSIDE a lab pod
 * (`beeline exec -n NS POD -- node dist/test/lib/pod-mesh-client.js '<json>'`):
 * `concurrency` keep-alive connections send GETs to `url`, either `count`
 * requests in all or for `seconds`; prints one JSON line at the end:
 * `{ bodies: {<body>: n}, failures, errors: [first few], log?: [[ms since epoch, status, body]] }`
 * (`log` when `record` is set). A failure is any answer other than 200 or a
 * transport error. Refuses to run in the machine's root network namespace.
 */
import { Agent, request } from 'node:http';
import { assertNotRootNetns } from '../../src/lab/safety.js';

export interface MeshClientArgs {
  url: string;
  concurrency: number;
  count?: number;
  seconds?: number;
  record?: boolean;
}

export interface MeshClientResult {
  bodies: Record<string, number>;
  failures: number;
  errors: string[];
  log?: [number, number, string][];
}

function get(agent: Agent, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export async function runMeshClient(a: MeshClientArgs): Promise<MeshClientResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: a.concurrency });
  const out: MeshClientResult = { bodies: {}, failures: 0, errors: [], ...(a.record ? { log: [] } : {}) };
  let left = a.count ?? Infinity;
  const end = a.seconds !== undefined ? Date.now() + a.seconds * 1000 : Infinity;
  const worker = async () => {
    while (left > 0 && Date.now() < end) {
      left--;
      try {
        const r = await get(agent, a.url);
        if (r.status === 200) out.bodies[r.body] = (out.bodies[r.body] ?? 0) + 1;
        else {
          out.failures++;
          if (out.errors.length < 5) out.errors.push(`${r.status} ${r.body.slice(0, 100)}`);
        }
        out.log?.push([Date.now(), r.status, r.body]);
      } catch (e) {
        out.failures++;
        if (out.errors.length < 5) out.errors.push((e as Error).message);
        out.log?.push([Date.now(), 0, (e as Error).message]);
      }
    }
  };
  await Promise.all(Array.from({ length: a.concurrency }, worker));
  agent.destroy();
  return out;
}

if (process.argv[1]?.endsWith('pod-mesh-client.js')) {
  assertNotRootNetns('the mesh test client');
  runMeshClient(JSON.parse(process.argv[2]!) as MeshClientArgs).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e: Error) => {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    },
  );
}
