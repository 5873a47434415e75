/**
 * The agent's side of the node's DNS proxy (Cilium's in-agent DNS proxy):
 * it runs in the agent process, in the node's namespace, on the port the
 * policy engine's DNS redirects name (config.dnsProxy.port):
 *   - a transparent UDP socket and a transparent TCP listener take the
 *     queries the datapath hands over (bpf/include/lib/proxy.h), with their
 *     original destination (the kube-dns pod the pod's resolver asked);
 *   - the proxy core (src/l7/dns/proxy.ts) judges each query by the DNS rules
 *     of the endpoint's redirect for that server (src/agent/redirects.ts),
 *     answers REFUSED or forwards it to the original destination;
 *   - an allowed answer's addresses go into the FQDN cache (src/l7/dns/cache.ts),
 *     and from there to the policy engine (toFQDNs) and the ipcache: the
 *     answer is released to the pod only after both are written, so the
 *     pod's first connection to a learned address is never dropped;
 *   - expired names leave the cache when no connection uses their address
 *     any more (connection-aware garbage collection, the conntrack table).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { DnsProxyStatus__Output } from '../api/generated/agent/DnsProxyStatus.js';
import type { FqdnCacheRow__Output } from '../api/generated/agent/FqdnCacheRow.js';
import type { Reply } from '../api/conform.js';
import type { Logger } from '../common/log.js';
import { transparentTcpListenFd, TransparentUdpSocket } from '../datapath/native/sockets.js';
import { FqdnCache } from '../l7/dns/cache.js';
import { dnsFlowFromRecord } from '../l7/dns/flows.js';
import { DnsProxy } from '../l7/dns/proxy.js';
import { compileDnsRules } from '../l7/dns/rules.js';
import type { Flow, FlowEnricher } from '../observer/types.js';
import { CompiledRules, type RedirectIndex } from './redirects.js';
import type { DnsProxyConfig } from './types.js';

/** Learning times kept for status percentiles. */
const LEARN_SAMPLES = 4096;

/** What the DNS side asks of the agent. */
export interface AgentDnsDeps {
  log: Logger;
  redirects: RedirectIndex;
  /** The ipcache's identity of an address (world when unknown). */
  identityOfIP(ip: string): number;
  /** The local endpoint with this address. */
  endpointByIP(ip: string): { id: number; identity: number } | undefined;
  /**
   * The cache's names changed: hand them to the policy engine (toFQDNs) and
   * write the policy maps and the ipcache now. Returns once the datapath has them.
   */
  namesChanged(names: ReadonlyMap<string, readonly string[]>): void;
  /** The ids of this node's endpoints (a deleted endpoint's names leave the cache). */
  liveEndpoints(): ReadonlySet<number>;
  /** Destination addresses of the conntrack table's connections (the garbage collector keeps what they use). */
  connectionDestinations(): ReadonlySet<string>;
  /** L7 flows of DNS records (the observer's pipeline); absent: none. */
  ingest?: (flows: Flow[]) => void;
  enricher?: FlowEnricher;
  nodeName: string;
  /**
   * Where the cache is kept across agent restarts (as Cilium restores its
   * endpoints' DNS history): a restarted agent must not forget addresses its
   * pods already connect to. Absent: not kept.
   */
  stateFile?: string;
  /** Each learning time (ms: answer in → policy maps and ipcache written), for the metrics. */
  observeLearn?: (ms: number) => void;
}

/** One cache entry as the state file keeps it. */
interface SavedEntry {
  endpoint: number;
  name: string;
  ip: string;
  expiresMs: number;
}

/** The node's DNS proxy in the agent: sockets, rules, FQDN cache. */
export class AgentDns {
  readonly cache: FqdnCache;
  #udp: TransparentUdpSocket | undefined;
  #tcp: Server | undefined;
  #proxy: DnsProxy | undefined;
  #gcTimer: NodeJS.Timeout | undefined;
  /** Compiled rule sets by redirect (a new redirect object is a new set). */
  readonly #matchers = new CompiledRules((r) => compileDnsRules(r.dns ?? []));
  /** Address → names (without the trailing dot, as Hubble's flows show them), rebuilt when the names change. */
  #namesByIp = new Map<string, string[]>();
  /** The names #namesByIp was built from; rebuilt on the next lookup after they change (off the answer's path). */
  #namesForIndex: ReadonlyMap<string, readonly string[]> | undefined;
  /** A state-file write is scheduled: at most one a second, off the answer's path. */
  #saveTimer: NodeJS.Timeout | undefined;
  /** The newest learning times (ms), for status: a ring of LEARN_SAMPLES. */
  #learnMs: number[] = [];
  #learnNext = 0;
  #learnCount = 0;
  #learnMax = 0;

  constructor(private readonly cfg: DnsProxyConfig, private readonly deps: AgentDnsDeps) {
    this.cache = new FqdnCache({ minTtlSec: cfg.minTtlSeconds ?? 0 });
  }

  /** The proxy port DNS redirects name. */
  get port(): number {
    return this.cfg.port;
  }

  /** Opens the sockets and starts the garbage collector. @throws when the port cannot be bound. */
  async start(): Promise<void> {
    const d = this.deps;
    this.restore();
    this.#proxy = new DnsProxy({
      log: d.log,
      upstreamTimeoutMs: this.cfg.upstreamTimeoutMs ?? 5000,
      rulesFor: (q) => {
        const endpoint = d.endpointByIP(q.client);
        if (!endpoint) return undefined;
        const serverIdentity = d.identityOfIP(q.server);
        const redirect = d.redirects.find({ endpointIp: q.client, direction: 'egress', parser: 'dns', protocol: q.protocol === 'udp' ? 17 : 6, port: q.port, peerIdentity: serverIdentity });
        if (!redirect) return undefined;
        return { matcher: this.#matchers.of(redirect), endpoint: { id: endpoint.id }, sourceIdentity: endpoint.identity, destinationIdentity: serverIdentity };
      },
      learn: (a) => this.learn(a),
      record: (r) => {
        if (d.ingest && d.enricher) d.ingest([dnsFlowFromRecord(r, { enricher: d.enricher, nodeName: d.nodeName })]);
      },
    });
    const udp = TransparentUdpSocket.open({ port: this.cfg.port });
    // An answer that cannot be sent (its reply socket cannot bind the original destination) is
    // lost as a datagram would be: the pod's resolver asks again. Logged, never fatal.
    const send = (origDst: { address: string; port: number }, to: { address: string; port: number }, answer: Buffer) => {
      try {
        udp.send(origDst, to, answer);
      } catch (e) {
        d.log.warn('dns proxy: answer not sent', { to: `${to.address}:${to.port}`, from: `${origDst.address}:${origDst.port}`, error: (e as Error).message });
      }
    };
    udp.onError((e) => d.log.warn('dns proxy: reading the UDP socket failed', { error: e.message }));
    udp.onMessage((msg, from, origDst) => this.#proxy!.handleDatagram(msg, from, origDst, (answer) => send(origDst, from, answer)));
    this.#udp = udp;
    const tcp = createServer((sock) => this.#proxy!.handleTcp(sock, { address: sock.localAddress ?? '', port: sock.localPort ?? 0 }));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ fd: transparentTcpListenFd({ port: this.cfg.port }) }, () => resolve());
    });
    tcp.on('error', (e) => d.log.warn('dns proxy: tcp listener error', { error: e.message }));
    this.#tcp = tcp;
    this.#gcTimer = setInterval(() => this.gc(), this.cfg.gcIntervalMs ?? 1000);
    this.#gcTimer.unref();
    d.log.info('dns proxy listening', { port: this.cfg.port });
  }

  /** An allowed answer's addresses, for the endpoint that asked: cached, then handed to policy and ipcache. */
  /**
   * Synchronous: the policy maps and the ipcache are written before it
   * returns, so the proxy releases the answer at once after it (no timer or
   * promise on the answer's path). A failure throws: the pod gets SERVFAIL.
   */
  private learn(a: { client: string; names: string[]; ips: string[]; ttl: number }): void {
    const ep = this.deps.endpointByIP(a.client);
    if (!ep || a.ips.length === 0) return;
    const t0 = performance.now();
    const now = Date.now();
    let added = false;
    for (const name of a.names) added = this.cache.add(ep.id, name, a.ips, a.ttl, now, 'lookup') || added;
    // Only a new address changes what policy selects; a refreshed TTL does not.
    if (added) this.publish();
    const ms = performance.now() - t0;
    if (this.#learnMs.length < LEARN_SAMPLES) this.#learnMs.push(ms);
    else this.#learnMs[this.#learnNext] = ms;
    this.#learnNext = (this.#learnNext + 1) % LEARN_SAMPLES;
    this.#learnCount++;
    if (ms > this.#learnMax) this.#learnMax = ms;
    this.deps.observeLearn?.(ms);
  }

  /** Counters for `beeline status` (the learning time: answer in → policy maps and ipcache written). */
  status(): Reply<DnsProxyStatus__Output> {
    const sorted = [...this.#learnMs].sort((x, y) => x - y);
    const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0);
    const st = this.#proxy?.stats();
    const names = this.cache.names();
    let ips = 0;
    for (const v of names.values()) ips += v.length;
    return {
      port: this.cfg.port,
      queries: st?.queries ?? 0,
      refused: st?.denied ?? 0,
      forwarded: st?.forwarded ?? 0,
      errors: st ? st.formerr + st.notimp + st.dropped + st.servfail : 0,
      learn: { count: this.#learnCount, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: this.#learnMax },
      names: names.size,
      ips,
    };
  }

  /** Hands the cache's names on when they changed (and has them kept in the state file). */
  private publish(): void {
    // The policy engine compares them with what it has (an endpoint learning a name another
    // endpoint already holds changes nothing there).
    const names = this.cache.names();
    this.#namesForIndex = names;
    this.scheduleSave();
    this.deps.namesChanged(names);
  }

  /** Saves within a second (a burst of answers is one write); stop() saves what is still due. */
  private scheduleSave(): void {
    if (!this.deps.stateFile || this.#saveTimer) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.save();
    }, 1000);
    this.#saveTimer.unref();
  }

  /** Writes the cache to the state file (atomically: a rename). */
  private save(): void {
    const file = this.deps.stateFile;
    if (!file) return;
    try {
      const entries: SavedEntry[] = this.cache.rows(Date.now()).map((r) => ({ endpoint: r.endpointId, name: r.name, ip: r.ip, expiresMs: r.expiresMs }));
      writeFileSync(`${file}.tmp`, JSON.stringify({ version: 1, entries }));
      renameSync(`${file}.tmp`, file);
    } catch (e) {
      this.deps.log.warn('fqdn cache: saving failed', { file, error: (e as Error).message });
    }
  }

  /**
   * Reads the cache an earlier agent kept: entries still within their TTL
   * come back with what is left of it; expired ones come back expired, and
   * the garbage collector keeps those a connection still uses.
   */
  private restore(): void {
    const file = this.deps.stateFile;
    if (!file || !existsSync(file)) return;
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; entries?: SavedEntry[] };
      if (saved.version !== 1 || !Array.isArray(saved.entries)) throw new Error('not a version 1 fqdn cache file');
      const now = Date.now();
      for (const e of saved.entries) this.cache.add(e.endpoint, e.name, [e.ip], Math.max(0, Math.ceil((e.expiresMs - now) / 1000)), now, 'lookup');
      this.deps.log.info('fqdn cache restored', { entries: saved.entries.length });
    } catch (e) {
      this.deps.log.warn('fqdn cache: the saved cache is unreadable; starting empty', { file, error: (e as Error).message });
    }
  }

  /** Expired names whose addresses no connection uses leave the cache (and the ipcache through the policy engine). */
  gc(now = Date.now()): void {
    try {
      const inUse = this.deps.connectionDestinations();
      const r = this.cache.gc(now, (ip) => inUse.has(ip));
      const live = this.deps.liveEndpoints();
      let gone = false;
      for (const id of this.cache.endpointIds()) if (!live.has(id)) gone = this.cache.forgetEndpoint(id) || gone;
      if (r.changed || gone) this.publish();
    } catch (e) {
      this.deps.log.warn('fqdn gc failed', { error: (e as Error).message });
    }
  }

  /** `beeline fqdn cache list`: one row per endpoint, name and source, with its addresses (as cilium's). */
  rows(now = Date.now()): FqdnCacheRow__Output[] {
    const groups = new Map<string, FqdnCacheRow__Output & { expiresMs: number }>();
    for (const r of this.cache.rows(now)) {
      const key = `${r.endpointId}|${r.name}|${r.source}`;
      const g = groups.get(key);
      if (!g) groups.set(key, { endpoint: r.endpointId, source: r.source, fqdn: r.name, ttl: r.ttlSec, expirationTime: '', ips: [r.ip], expiresMs: r.expiresMs });
      else {
        if (!g.ips.includes(r.ip)) g.ips.push(r.ip);
        if (r.expiresMs > g.expiresMs) (g.expiresMs = r.expiresMs), (g.ttl = r.ttlSec);
      }
    }
    return [...groups.values()].map(({ expiresMs, ...row }) => ({ ...row, ips: row.ips.sort(), expirationTime: new Date(expiresMs).toISOString() }));
  }

  /** Names learned for an address (flows to it show them), without the trailing dot. */
  namesForIP(ip: string): string[] {
    const names = this.#namesForIndex;
    if (names) {
      this.#namesForIndex = undefined;
      const byIp = new Map<string, string[]>();
      for (const [name, ips] of names) {
        const shown = name.endsWith('.') ? name.slice(0, -1) : name;
        for (const a of ips) {
          const list = byIp.get(a);
          if (list) list.push(shown);
          else byIp.set(a, [shown]);
        }
      }
      for (const list of byIp.values()) list.sort();
      this.#namesByIp = byIp;
    }
    return this.#namesByIp.get(ip) ?? [];
  }

  stop(): void {
    if (this.#gcTimer) clearInterval(this.#gcTimer);
    if (this.#saveTimer) {
      clearTimeout(this.#saveTimer);
      this.#saveTimer = undefined;
      this.save();
    }
    this.#udp?.close();
    this.#tcp?.close();
    void this.#proxy?.close();
  }
}
