/**
 * The node agent: one per node, running in that node's network namespace. It
 * owns the node's datapath (through the NodeDatapath interface), keeps an eye
 * on the cluster store, and serves the local API the CLI and CNI plugin use.
 */
import { Etcd3, type Lease } from 'etcd3';
import { logger, type Logger } from '../common/log.js';
import { version } from '../common/version.js';
import type { NodeDatapath } from './datapath.js';
import { ApiServer } from './server.js';
import type { AgentConfig, AgentStatus, Health } from './types.js';

/** Key under which each agent announces its node, held by a lease so a dead node's entry expires. */
export const nodeKey = (node: string) => `/beeline/v1/agents/${node}`;

export class Agent {
  private readonly log: Logger;
  private readonly api = new ApiServer();
  private readonly started = Date.now();
  private kv: { state: 'ok' | 'unreachable' | 'disabled'; message?: string } = { state: 'disabled' };
  private etcd: Etcd3 | undefined;
  private lease: Lease | undefined;
  private kvTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly config: AgentConfig,
    private readonly datapath: NodeDatapath,
    log?: Logger,
  ) {
    this.log = log ?? logger(`agent[${config.node}]`);
    this.api
      .route('GET', '/healthz', () => ({ health: this.health() }))
      .route('GET', '/v1/status', () => this.status())
      .route('GET', '/v1/metrics/datapath', () => this.datapath.metrics());
  }

  health(): Health {
    if (this.kv.state === 'unreachable') return 'degraded';
    return 'ok';
  }

  status(): AgentStatus {
    const dp = this.datapath.info();
    return {
      node: this.config.node,
      lab: this.config.lab,
      version,
      health: this.health(),
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      pid: process.pid,
      kvstore: { state: this.kv.state, endpoint: this.config.kvstore, ...(this.kv.message ? { message: this.kv.message } : {}) },
      datapath: {
        state: 'ok',
        mode: dp.mode,
        routing: this.config.routing,
        attachments: dp.attachments,
        maps: dp.maps,
        events: dp.events,
      },
      endpoints: { count: 0 },
    };
  }

  /** Starts the datapath, then the store watch, then the API. A datapath that cannot load is fatal (the caller exits). */
  async start(): Promise<void> {
    this.log.info('starting', { version, node: this.config.node, nodeIP: this.config.nodeIP, routing: this.config.routing });
    await this.datapath.start();
    this.log.info('datapath ready', { mode: this.datapath.info().mode });
    if (this.config.kvstore) this.startKvstore();
    await this.api.listen(this.config.socket);
    this.log.info('api listening', { socket: this.config.socket });
  }

  private startKvstore(): void {
    this.etcd = new Etcd3({ hosts: this.config.kvstore, dialTimeout: 2000 });
    this.kv = { state: 'unreachable', message: 'connecting' };
    const check = async () => {
      try {
        await Promise.race([
          this.etcd!.maintenance.status(),
          new Promise((_, rej) => setTimeout(() => rej(new Error('no answer within 2000 ms')), 2000)),
        ]);
        if (this.kv.state !== 'ok') this.log.info('kvstore reachable', { endpoint: this.config.kvstore });
        this.kv = { state: 'ok' };
        await this.announce();
      } catch (e) {
        if (this.kv.state === 'ok') this.log.warn('kvstore unreachable; keeping the datapath as it is', { error: (e as Error).message });
        this.kv = { state: 'unreachable', message: (e as Error).message };
      }
    };
    void check();
    this.kvTimer = setInterval(() => void check(), 2000);
  }

  /** Puts this node's record under a lease (renewed by the client) once per lease lifetime. */
  private async announce(): Promise<void> {
    if (this.lease) return;
    const lease = this.etcd!.lease(15, { autoKeepAlive: true });
    lease.on('lost', () => {
      this.log.warn('kvstore lease lost; re-announcing');
      this.lease = undefined;
    });
    this.lease = lease;
    const c = this.config;
    await lease.put(nodeKey(c.node)).value(JSON.stringify({ node: c.node, nodeIP: c.nodeIP, podCIDR: c.podCIDR, version, pid: process.pid }));
  }

  async stop(): Promise<void> {
    this.log.info('stopping');
    if (this.kvTimer) clearInterval(this.kvTimer);
    await this.api.close();
    if (this.lease) await this.lease.revoke().catch(() => undefined);
    this.etcd?.close();
    await this.datapath.close();
  }
}
