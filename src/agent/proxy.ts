/**
 * The agent's side of the node's L7 proxy (HAProxy, docs/l7-engine.md): the
 * proxy is its own supervised process per node (the lab's `lab supervise
 * --proxy`, a DaemonSet container on a real cluster), so an agent restart
 * does not cut the connections it holds. The agent owns its configuration:
 * it renders it (src/l7/http/haproxy.ts) from the policy engine's L7
 * redirects and the ipcache into the proxy's state directory, and asks the
 * proxy's master process for a seamless reload when the text changed (new
 * connections get the new rules; the old worker finishes the ones it holds).
 */
import { createConnection } from 'node:net';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../common/log.js';
import { renderHaproxy, type ProxyRuleSet } from '../l7/http/haproxy.js';
import type { L7Redirect } from '../policy/index.js';
import type { NodeProxyConfig } from './types.js';

export type { NodeProxyConfig };


/** Largest port range one redirect is expanded to (one rule set per port in the proxy). */
const MAX_RANGE_PORTS = 1024;

/** Path of the main configuration file in the state directory. */
export const proxyConfigFile = (stateDir: string) => join(stateDir, 'haproxy.cfg');

/** One local endpoint's redirects, with its address. */
export interface EndpointRedirects {
  ipv4: string;
  l7: readonly L7Redirect[];
}

/**
 * The proxy's rule set: every local endpoint's HTTP redirects, by direction,
 * endpoint address, port and peer identity (ranges expanded to their ports).
 * Egress ones only with an egress listener.
 */
export function proxyRuleSet(cfg: NodeProxyConfig, endpoints: readonly EndpointRedirects[], identities: ProxyRuleSet['identities'], log?: Logger): ProxyRuleSet {
  const redirects: ProxyRuleSet['redirects'] = [];
  for (const ep of endpoints) {
    for (const r of ep.l7) {
      if (r.parser !== 'http' || (r.direction === 'egress' && cfg.egressPort === undefined)) continue;
      const count = 1 << (16 - r.portPrefixLen);
      if (count > MAX_RANGE_PORTS) {
        log?.warn('L7 redirect of a port range too large for the proxy: its requests are denied', { endpoint: ep.ipv4, port: r.port, portPrefixLen: r.portPrefixLen });
        continue;
      }
      for (let p = r.port; p < r.port + count; p++) redirects.push({ direction: r.direction, endpointIp: ep.ipv4, port: p, identity: r.identity, http: r.http });
    }
  }
  return {
    listeners: [{ direction: 'ingress', port: cfg.ingressPort }, ...(cfg.egressPort !== undefined ? [{ direction: 'egress' as const, port: cfg.egressPort }] : [])],
    redirects,
    identities,
    logTarget: `127.0.0.1:${cfg.accessLogPort}`,
    stateDir: cfg.stateDir,
  };
}

/**
 * Writes the rendered configuration and its files; returns whether anything
 * changed (each file is replaced by a rename, so the proxy never reads half a file).
 */
export function writeProxyFiles(cfg: NodeProxyConfig, rs: ProxyRuleSet): boolean {
  const out = renderHaproxy(rs);
  let changed = false;
  const put = (path: string, content: string) => {
    if (existsSync(path) && readFileSync(path, 'utf8') === content) return;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, content, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    changed = true;
  };
  for (const f of out.files) put(f.path, f.content);
  put(proxyConfigFile(cfg.stateDir), out.config);
  return changed;
}

/** Asks the proxy's master process to reload (a new worker with the new configuration; the old one drains). */
export function reloadProxy(masterSocket: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection(masterSocket);
    let answer = '';
    const timer = setTimeout(() => s.destroy(new Error(`node proxy: no answer to reload from ${masterSocket} in ${timeoutMs} ms`)), timeoutMs);
    s.on('connect', () => s.end('reload\n'));
    s.on('data', (d) => (answer += d.toString()));
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(answer.trim());
    });
  });
}

/**
 * Keeps the proxy's configuration equal to what policy and the ipcache say:
 * `update()` is cheap to call often; rendering, writing and the reload run
 * at most once per `debounceMs`, and only when the text changed.
 */
export class NodeProxy {
  private pending: { endpoints: readonly EndpointRedirects[]; identities: ProxyRuleSet['identities'] } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private reloadDue = false;
  /** Reloads asked of the proxy, and the last error (rendering, files, reload). */
  readonly stats = { renders: 0, reloads: 0, lastError: undefined as string | undefined, lastReload: undefined as string | undefined };

  constructor(
    readonly config: NodeProxyConfig,
    private readonly log: Logger,
    private readonly debounceMs = 100,
  ) {}

  update(endpoints: readonly EndpointRedirects[], identities: ProxyRuleSet['identities']): void {
    this.pending = { endpoints, identities };
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.debounceMs);
  }

  /** Renders what is pending and reloads if needed; resolves when done. */
  async flush(): Promise<void> {
    this.timer = undefined;
    await this.running;
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    this.running = (async () => {
      try {
        this.stats.renders++;
        // A reload that failed is due until one succeeds, although the files no longer change.
        if (writeProxyFiles(this.config, proxyRuleSet(this.config, p.endpoints, p.identities, this.log))) this.reloadDue = true;
        if (!this.reloadDue) return;
        await reloadProxy(this.config.masterSocket);
        this.reloadDue = false;
        this.stats.reloads++;
        this.stats.lastReload = new Date().toISOString();
        this.stats.lastError = undefined;
      } catch (e) {
        this.stats.lastError = (e as Error).message;
        this.log.warn('node proxy not updated; retrying in 1 s', { error: this.stats.lastError });
        // Rendered files may be newer than what the proxy runs: try the whole update again.
        this.pending ??= p;
        if (!this.timer) this.timer = setTimeout(() => void this.flush(), 1000);
      }
    })();
    await this.running;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
