/**
 * A fake node agent for CNI tests: POST /v1/cni (the shim's one request, run by
 * the real in-process handler) over the five routes the plugin's logic uses (status,
 * IPAM allocate/release, endpoints put/get/delete), in memory, over HTTP on a
 * unix socket in a temporary directory. Failures can be injected per route.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BeelineError } from '../../src/common/errors.js';
import { Pool } from '../../src/ipam/pool.js';
import { agentApi } from '../../src/cni/agentapi.js';
import { IpLinks, type PodLinks } from '../../src/cni/link.js';
import { CNI_ROUTE, cniRoute } from '../../src/cni/service.js';
import type { EndpointCreateRequest, EndpointModel, IpamAllocation } from '../../src/agent/types.js';

export interface FakeAgentOptions {
  podCIDR?: string;
  /** What GET /v1/status reports as cniNetwork; undefined leaves the field out (an agent from before it existed). */
  cniNetwork?: string;
  /** The links POST /v1/cni makes (the shim's route, run as the real agent runs it); default: this process's namespace. */
  links?: PodLinks;
}

export interface InjectedFailure {
  status: number;
  code: string;
  message: string;
}

export class FakeAgent {
  readonly dir: string;
  readonly socket: string;
  readonly pool: Pool;
  readonly endpoints = new Map<string, EndpointModel>();
  /** `METHOD /path` of every request, in order. */
  readonly calls: string[] = [];
  /** Next request to `METHOD /path` fails with this (once). */
  readonly failNext = new Map<string, InjectedFailure>();
  cniNetwork: string | undefined;
  private readonly links: PodLinks;
  private server: Server | undefined;
  private nextId = 1;

  constructor(opts: FakeAgentOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'bl-test-agent-'));
    this.socket = join(this.dir, 'agent.sock');
    this.pool = new Pool(opts.podCIDR ?? '10.0.1.0/24');
    this.cniNetwork = opts.cniNetwork;
    this.links = opts.links ?? new IpLinks();
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (raw += d));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://agent');
        const key = `${req.method} ${url.pathname}`;
        this.calls.push(key);
        const send = (status: number, obj: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
        // The plugin's logic, over this agent's other routes: what bin/beeline-cni asks for.
        if (key === `POST ${CNI_ROUTE}`) return void cniRoute(agentApi(this.socket), this.links, () => undefined)(req, res, raw);
        const fail = this.failNext.get(key);
        if (fail) {
          this.failNext.delete(key);
          return send(fail.status, { error: { code: fail.code, message: fail.message } });
        }
        try {
          const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
          send(200, this.handle(key, body, url.searchParams));
        } catch (e) {
          const status = e instanceof RouteMissing ? 404 : 500;
          send(status, { error: { code: e instanceof BeelineError ? e.code : 'BL_ERR_INTERNAL', message: (e as Error).message } });
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.socket, () => resolve());
    });
    return this;
  }

  private handle(key: string, body: Record<string, unknown>, q: URLSearchParams): unknown {
    switch (key) {
      case 'GET /v1/status':
        return { node: 'node1', health: 'ok', ...(this.cniNetwork !== undefined ? { cniNetwork: this.cniNetwork } : {}) };
      case 'POST /v1/ipam/allocate': {
        // A requested address (IpamAllocateRequest.ip): exactly it, or the pool's refusal.
        const owner = String(body.owner ?? '');
        const ip = typeof body.ip === 'string' ? this.pool.allocateSpecific(body.ip, owner) : this.pool.allocate(owner);
        return { ip, podCIDR: this.pool.cidr, gateway: this.pool.router } satisfies IpamAllocation;
      }
      case 'POST /v1/ipam/release':
        return { released: this.pool.release(String(body.owner ?? '')) ?? null };
      case 'GET /v1/endpoints':
        return [...this.endpoints.values()];
      case 'PUT /v1/endpoints': {
        const r = body as unknown as EndpointCreateRequest;
        for (const f of ['containerID', 'ifname', 'netns', 'hostIfname', 'ipv4', 'mac', 'hostMac'] as const) {
          if (typeof r[f] !== 'string' || r[f] === '') throw new BeelineError('BL_ERR_ENDPOINT_INVALID', `endpoint: ${f}: required`);
        }
        const k = `${r.containerID}/${r.ifname}`;
        const old = this.endpoints.get(k);
        const ep: EndpointModel = {
          id: old?.id ?? this.nextId++,
          containerID: r.containerID,
          ifname: r.ifname,
          netns: r.netns,
          hostIfname: r.hostIfname,
          hostIfindex: 0,
          ipv4: r.ipv4,
          mac: r.mac,
          hostMac: r.hostMac,
          ...(r.pod ? { pod: r.pod } : {}),
          labels: r.labels ?? {},
          identity: 5,
          state: 'ready',
          createdAt: new Date().toISOString(),
        };
        this.endpoints.set(k, ep);
        return ep;
      }
      case 'DELETE /v1/endpoints': {
        const k = `${q.get('containerID')}/${q.get('ifname') ?? 'eth0'}`;
        const ep = this.endpoints.get(k);
        this.endpoints.delete(k);
        return ep ? { deleted: true, id: ep.id } : { deleted: false };
      }
    }
    throw new RouteMissing(`no route ${key}`);
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

class RouteMissing extends Error {}

/** Starts a fake agent and stops it when the test ends. */
export async function fakeAgent(t: { after: (fn: () => Promise<void>) => void }, opts: FakeAgentOptions = {}): Promise<FakeAgent> {
  const a = await new FakeAgent(opts).start();
  t.after(() => a.stop());
  return a;
}
