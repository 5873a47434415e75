/**
 * The agent's side of the node's Kafka proxy: transparent TCP listeners in
 * the node's namespace (config.kafkaProxy) take the connections the datapath
 * hands over for ports with Kafka rules (bpf/include/lib/proxy.h); the proxy
 * core (src/l7/kafka/proxy.ts) judges every request by the rules of the
 * endpoint's redirect (src/agent/redirects.ts) and connects upstream from
 * the client's own address (a transparent socket, as HAProxy's `usesrc
 * clientip`), so the broker and its policy see the client, not the node.
 */
import { createServer, Socket, type Server } from 'node:net';
import type { Logger } from '../common/log.js';
import { transparentTcpListenFd, transparentTcpSocketFd } from '../datapath/native/sockets.js';
import { kafkaFlowsFromRecord } from '../l7/kafka/flows.js';
import { KafkaProxy } from '../l7/kafka/proxy.js';
import { compileKafkaRules } from '../l7/kafka/rules.js';
import type { Flow, FlowEnricher } from '../observer/types.js';
import { CompiledRules, type RedirectIndex } from './redirects.js';
import type { KafkaProxyConfig } from './types.js';

/** What the Kafka side asks of the agent. */
export interface AgentKafkaDeps {
  log: Logger;
  redirects: RedirectIndex;
  identityOfIP(ip: string): number;
  ingest?: (flows: Flow[]) => void;
  enricher?: FlowEnricher;
  nodeName: string;
}

/** The node's Kafka proxy in the agent. */
export class AgentKafka {
  #servers: Server[] = [];
  readonly #matchers = new CompiledRules((r) => compileKafkaRules(r.kafka ?? []));
  #proxies: KafkaProxy[] = [];

  constructor(private readonly cfg: KafkaProxyConfig, private readonly deps: AgentKafkaDeps) {}

  /** The proxy ports Kafka redirects name, per direction. */
  get ports(): { ingress: number; egress?: number } {
    return { ingress: this.cfg.ingressPort, ...(this.cfg.egressPort !== undefined ? { egress: this.cfg.egressPort } : {}) };
  }

  async start(): Promise<void> {
    const listeners: ['ingress' | 'egress', number][] = [['ingress', this.cfg.ingressPort]];
    if (this.cfg.egressPort !== undefined) listeners.push(['egress', this.cfg.egressPort]);
    for (const [direction, port] of listeners) {
      const d = this.deps;
      const proxy = new KafkaProxy({
        log: d.log,
        rulesFor: (q) => {
          // Ingress: the broker is the local endpoint, the client its peer; egress the other way round.
          const endpointIp = direction === 'ingress' ? q.server : q.client;
          const srcIdentity = d.identityOfIP(q.client);
          const dstIdentity = d.identityOfIP(q.server);
          const redirect = d.redirects.find({ endpointIp, direction, parser: 'kafka', protocol: 6, port: q.port, peerIdentity: direction === 'ingress' ? srcIdentity : dstIdentity });
          if (!redirect) return undefined;
          return { matcher: this.#matchers.of(redirect), srcIdentity, dstIdentity };
        },
        record: (r) => {
          if (d.ingest && d.enricher) d.ingest(kafkaFlowsFromRecord(r, { enricher: d.enricher, nodeName: d.nodeName }));
        },
        direction,
      });
      this.#proxies.push(proxy);
      const server = createServer((client) => {
        const origDst = { address: client.localAddress ?? '', port: client.localPort ?? 0 };
        proxy.handleConnection(client, origDst, () => {
          // Upstream from the client's address: the broker's reply comes back to this socket (BL_CT_F_FROM_PROXY).
          const upstream = new Socket({ fd: transparentTcpSocketFd(client.remoteAddress ?? '') });
          upstream.connect(origDst.port, origDst.address);
          return upstream;
        });
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ fd: transparentTcpListenFd({ port }) }, () => resolve());
      });
      server.on('error', (e) => d.log.warn('kafka proxy: listener error', { direction, error: e.message }));
      this.#servers.push(server);
      d.log.info('kafka proxy listening', { direction, port });
    }
  }

  stop(): void {
    for (const s of this.#servers) s.close();
    for (const p of this.#proxies) p.closeAll();
  }
}
