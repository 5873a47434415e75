/**
 * The agent's side of the node's L7 proxy (HAProxy, docs/l7-engine.md): the
 * proxy is its own supervised process per node (the lab's `lab supervise
 * --proxy`, a DaemonSet container on a real cluster), so an agent restart
 * does not cut the connections it holds. The agent owns its configuration:
 * it renders it (src/l7/http/haproxy.ts) from the policy engine's L7
 * redirects and the ipcache into the proxy's state directory, and asks the
 * proxy's master process for a seamless reload when the text changed (new
 * connections get the new rules; the old worker finishes the ones it holds).
 *
 * A reload counts as done when the master has re-executed and a new worker
 * is up (`show proc`): HAProxy 2.6's master answers `reload` with nothing, so
 * that is what can be observed; a reload that failed (the master counts it,
 * the old worker stays) is an error and the configuration is tried again. Only
 * then is the policy engine told the generation it applied (the redirect
 * entries wait for that, src/agent/policy.ts). A change of the identities
 * alone (the ipcache) is applied through the worker's runtime API instead
 * (`prepare map`, `add map`, `commit map`: one atomic swap), and a reload is
 * the fallback when that fails.
 */
import { createHash } from 'node:crypto';
import { createConnection } from 'node:net';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../common/log.js';
import { HAPROXY_FILES, renderHaproxy, type ProxyRuleSet, type RenderOptions } from '../l7/http/haproxy.js';
import { toNodeProxy, type L7Redirect } from '../policy/index.js';
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
      if (!toNodeProxy(r) || (r.direction === 'egress' && cfg.egressPort === undefined)) continue;
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

/** Path of the identities map (the ipcache) in the state directory: the name the runtime API knows it by. */
export const proxyIdentitiesFile = (stateDir: string) => join(stateDir.replace(/\/+$/, ''), HAPROXY_FILES.identities);

/** Path of the worker's stats socket (the runtime API) in the state directory. */
export const proxyStatsSocket = (stateDir: string) => join(stateDir, HAPROXY_FILES.socket);

/**
 * Where the agent notes the digest of the files the running proxy has
 * loaded (after each reload or in-place update that took): a restarted agent
 * that renders the same files has nothing to reload (a reload would close the
 * old worker's idle keep-alive connections).
 */
export const proxyAppliedFile = (stateDir: string) => join(stateDir, 'applied.sha256');

/**
 * A part of the node proxy's configuration that is not the policy's (the
 * mesh routes, the mTLS listeners): its text is appended to the policy
 * configuration (sections sorted by name), its files are written with the
 * others (absolute paths under the proxy's state directory).
 */
export interface ProxySection {
  config: string;
  files: { path: string; content: string }[];
  /**
   * A change of these files alone (paths of `files`) is applied to the running
   * worker by `apply` (the runtime API: map swaps, `set ssl cert`) instead of a
   * reload; `apply` rejecting means a reload.
   */
  runtime?: { files: readonly string[]; apply: () => Promise<void> };
  /** Called after an update that took with this section in it (a reload or the runtime apply). */
  applied?: () => void;
}

/** Whether a section set again is the one the proxy has (text, files and hooks). */
function sameSection(a: ProxySection, b: ProxySection): boolean {
  return a.config === b.config && a.runtime === b.runtime && a.applied === b.applied && JSON.stringify(a.files) === JSON.stringify(b.files);
}

/**
 * Writes the rendered configuration and its files, with the sections' after
 * the policy's; returns the paths that changed (each file is replaced by a
 * rename, so the proxy never reads half a file) and a digest of all of them.
 */
export function writeProxyFiles(cfg: NodeProxyConfig, rs: ProxyRuleSet, options: RenderOptions = {}, sections: ReadonlyMap<string, ProxySection> = new Map()): { changed: string[]; digest: string } {
  const out = renderHaproxy(rs, options);
  for (const [name, sec] of [...sections].sort(([a], [b]) => a.localeCompare(b))) {
    out.config += `\n# ---- section ${name} ----\n${sec.config}`;
    out.files.push(...sec.files);
  }
  const hash = createHash('sha256').update(out.config);
  for (const f of out.files) hash.update(`\0${f.path}\0${f.content}`);
  const changed: string[] = [];
  const put = (path: string, content: string) => {
    if (existsSync(path) && readFileSync(path, 'utf8') === content) return;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, content, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    changed.push(path);
  };
  for (const f of out.files) put(f.path, f.content);
  put(proxyConfigFile(cfg.stateDir), out.config);
  return { changed, digest: hash.digest('hex') };
}

/** One command to a HAProxy CLI socket (master or stats); resolves with the answer when the proxy closes. */
export function haproxyCommand(socket: string, command: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection(socket);
    let answer = '';
    const timer = setTimeout(() => s.destroy(new Error(`node proxy: no answer to ${command.split(/\s/, 1)[0]} from ${socket} in ${timeoutMs} ms`)), timeoutMs);
    s.on('connect', () => s.end(`${command}\n`));
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
 * Replaces a certificate the running worker holds (a `crt` or crt-list file)
 * without a reload: `set ssl cert <file>` with the PEM (leaf and key), then
 * `commit ssl cert <file>`; new handshakes use it, open connections keep theirs.
 */
export async function setProxySslCert(statsSocket: string, file: string, pem: string, timeoutMs = 3000): Promise<void> {
  const set = await haproxyCommand(statsSocket, `set ssl cert ${file} <<\n${pem.trimEnd()}\n`, timeoutMs);
  if (!/^Transaction (created|updated)/.test(set)) throw new Error(`node proxy: set ssl cert ${file}: ${set || 'no answer'}`);
  const commit = await haproxyCommand(statsSocket, `commit ssl cert ${file}`, timeoutMs);
  if (!/Success!/.test(commit)) throw new Error(`node proxy: commit ssl cert ${file}: ${commit || 'no answer'}`);
}

/** The master's `show proc`: its reload count, failed reloads since the last success, the current workers. */
export interface MasterProcesses {
  reloads: number;
  failed: number;
  workers: number[];
}

/** Parses HAProxy 2.6's `show proc` (the master line `<pid> master <reloads> [failed: <n>] ...`, then `# workers`). */
export function parseShowProc(text: string): MasterProcesses {
  const master = /^\d+\s+master\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?/m.exec(text);
  if (!master) throw new Error(`node proxy: unexpected answer to show proc: ${JSON.stringify(text.slice(0, 200))}`);
  const workers: number[] = [];
  let section = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      section = line.startsWith('# workers') ? 'workers' : line.startsWith('#<PID>') ? '' : 'other';
      continue;
    }
    const m = /^(\d+)\s+worker\b/.exec(line);
    if (m && section === 'workers') workers.push(Number(m[1]));
  }
  return { reloads: Number(master[1]), failed: Number(master[2] ?? 0), workers };
}

/** Asks the proxy's master process to reload (a new worker with the new configuration; the old one drains). */
export function reloadProxy(masterSocket: string, timeoutMs = 3000): Promise<string> {
  return haproxyCommand(masterSocket, 'reload', timeoutMs);
}

/**
 * Reloads and waits until it took: the master has re-executed (its reload
 * count moved) and a worker that was not there before is up. Rejects when the
 * master counts the reload as failed (the configuration did not load: the old
 * worker keeps serving with the old one) or nothing of that within timeoutMs.
 */
export async function reloadProxyAndWait(masterSocket: string, timeoutMs = 5000): Promise<{ worker: number; ms: number }> {
  const t0 = Date.now();
  const before = parseShowProc(await haproxyCommand(masterSocket, 'show proc', timeoutMs));
  await reloadProxy(masterSocket, timeoutMs);
  for (;;) {
    const left = timeoutMs - (Date.now() - t0);
    // The master is re-executing: its socket may refuse for a moment.
    const now = await haproxyCommand(masterSocket, 'show proc', Math.max(left, 100)).then(parseShowProc, () => undefined);
    if (now && now.reloads > before.reloads) {
      const fresh = now.workers.find((w) => !before.workers.includes(w));
      if (fresh !== undefined) return { worker: fresh, ms: Date.now() - t0 };
      if (now.failed > 0) throw new Error(`node proxy: the reload failed (the configuration did not load; the previous one keeps serving; see the proxy's log)`);
    }
    if (left <= 0) throw new Error(`node proxy: no new worker within ${timeoutMs} ms of the reload`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The largest payload of one `add map` (the CLI reads a command and its payload into one buffer: tune.bufsize 32 KiB). */
const MAP_PAYLOAD_BYTES = 16 * 1024;

/**
 * Replaces a map of the running worker in one atomic swap through its
 * runtime API: `prepare map` a new version, `add map @<ver>` the entries
 * (payloads of at most 16 KiB), `commit map @<ver>`. Requests see the old
 * map or the new one, never a mix. Rejects on any answer that is not success.
 */
export async function replaceProxyMap(statsSocket: string, mapFile: string, lines: readonly string[], timeoutMs = 3000): Promise<void> {
  const prep = await haproxyCommand(statsSocket, `prepare map ${mapFile}`, timeoutMs);
  const ver = /^New version created: (\d+)$/.exec(prep)?.[1];
  if (!ver) throw new Error(`node proxy: prepare map ${mapFile}: ${prep || 'no answer'}`);
  for (let i = 0; i < lines.length; ) {
    let payload = '';
    while (i < lines.length && (payload === '' || payload.length + lines[i]!.length + 1 <= MAP_PAYLOAD_BYTES)) payload += `${lines[i++]}\n`;
    const a = await haproxyCommand(statsSocket, `add map @${ver} ${mapFile} <<\n${payload}`, timeoutMs);
    if (a !== '') throw new Error(`node proxy: add map @${ver} ${mapFile}: ${a}`);
  }
  const c = await haproxyCommand(statsSocket, `commit map @${ver} ${mapFile}`, timeoutMs);
  if (c !== '') throw new Error(`node proxy: commit map @${ver} ${mapFile}: ${c}`);
}

/**
 * Keeps the proxy's configuration equal to what policy and the ipcache say:
 * `update()` is cheap to call often; rendering, writing and the reload (or
 * the identities' runtime update) run at most once per `debounceMs`, and only
 * when the text changed. `onApplied` hears the generation of redirects the
 * proxy runs after each update that took (and after one with nothing to do).
 */
export class NodeProxy {
  private pending: { endpoints: readonly EndpointRedirects[]; identities: ProxyRuleSet['identities']; generation: number } | undefined;
  /** The last policy input handed to update(): a section change renders with it. */
  private last: { endpoints: readonly EndpointRedirects[]; identities: ProxyRuleSet['identities']; generation: number } | undefined;
  private readonly sections = new Map<string, ProxySection>();
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /**
   * A reload is due although the files may not change: a reload failed.
   * Undefined before this agent's first update: due unless the files are
   * those the proxy last loaded (proxyAppliedFile; an earlier agent may have
   * written files and died before the reload).
   */
  private reloadDue: boolean | undefined;
  /** Called with the generation of redirects the running proxy holds, after every update that took. */
  onApplied: ((generation: number) => void) | undefined;
  /** Reloads asked of the proxy, identities updated in place, and the last error (rendering, files, reload). */
  readonly stats = { renders: 0, reloads: 0, mapUpdates: 0, lastError: undefined as string | undefined, lastReload: undefined as string | undefined };

  constructor(
    readonly config: NodeProxyConfig,
    private readonly log: Logger,
    private readonly debounceMs = 100,
    private readonly reloadTimeoutMs = 5000,
    /** How the configuration is rendered (tests: not transparent, on loopback). */
    private readonly render: RenderOptions = {},
  ) {}

  update(endpoints: readonly EndpointRedirects[], identities: ProxyRuleSet['identities'], generation = 0): void {
    this.pending = this.last = { endpoints, identities, generation };
    if (!this.timer && !this.stopped) this.timer = setTimeout(() => void this.flush(), this.debounceMs);
  }

  /**
   * Sets (or, undefined, removes) a named section of the configuration; a
   * change renders and applies as update() does. Before the first update()
   * (the policy's first answer) it waits: a configuration without the policy's
   * rules would be a reload the running proxy does not need.
   */
  setSection(name: string, section: ProxySection | undefined): void {
    const prev = this.sections.get(name);
    if (section === undefined ? prev === undefined : prev !== undefined && sameSection(prev, section)) return;
    if (section) this.sections.set(name, section);
    else this.sections.delete(name);
    if (!this.last) return;
    this.pending ??= this.last;
    if (!this.timer && !this.stopped) this.timer = setTimeout(() => void this.flush(), this.debounceMs);
  }

  /** The section of that name, as last set. */
  section(name: string): ProxySection | undefined {
    return this.sections.get(name);
  }

  /**
   * Reloads although the files may not have changed (a certificate file was
   * replaced that the running worker could not take in place); debounced.
   * Before the first update it waits for it.
   */
  requestReload(): void {
    this.reloadDue = true;
    if (!this.last) return;
    this.pending ??= this.last;
    if (!this.timer && !this.stopped) this.timer = setTimeout(() => void this.flush(), this.debounceMs);
  }

  /** Renders what is pending and reloads (or updates the identities in place) if needed; resolves when done. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    this.running = (async () => {
      try {
        this.stats.renders++;
        const rs = proxyRuleSet(this.config, p.endpoints, p.identities, this.log);
        const sections = new Map(this.sections);
        const { changed, digest } = writeProxyFiles(this.config, rs, this.render, sections);
        const appliedFile = proxyAppliedFile(this.config.stateDir);
        this.reloadDue ??= !existsSync(appliedFile) || readFileSync(appliedFile, 'utf8').trim() !== digest;
        const idsFile = proxyIdentitiesFile(this.config.stateDir);
        // Files the running worker takes without a reload: the identities map, and the sections' runtime files.
        const runtime = [...sections.values()].filter((sec) => sec.runtime && changed.some((f) => sec.runtime!.files.includes(f)));
        const inPlace = (f: string) => f === idsFile || runtime.some((sec) => sec.runtime!.files.includes(f));
        if (changed.length && !this.reloadDue && changed.every(inPlace)) {
          // The ipcache (or a section's runtime files) alone changed: swap in place, no new worker.
          try {
            if (changed.includes(idsFile)) {
              await replaceProxyMap(proxyStatsSocket(this.config.stateDir), idsFile, rs.identities.map((e) => `${e.prefix} ${e.identity}`));
              this.log.info('node proxy identities updated in place', { entries: rs.identities.length, generation: p.generation });
            }
            for (const sec of runtime) await sec.runtime!.apply();
            this.stats.mapUpdates++;
          } catch (e) {
            this.log.warn('node proxy: not updated in place; reloading', { error: (e as Error).message });
            this.reloadDue = true;
          }
        } else if (changed.length) this.reloadDue = true;
        if (this.reloadDue) {
          const r = await reloadProxyAndWait(this.config.masterSocket, this.reloadTimeoutMs);
          this.reloadDue = false;
          this.stats.reloads++;
          this.stats.lastReload = new Date().toISOString();
          this.log.info('node proxy reloaded', { worker: r.worker, ms: r.ms, generation: p.generation, redirects: rs.redirects.length });
        }
        writeFileSync(appliedFile, `${digest}\n`, { mode: 0o600 });
        this.stats.lastError = undefined;
        for (const sec of sections.values()) sec.applied?.();
        this.onApplied?.(p.generation);
      } catch (e) {
        this.stats.lastError = (e as Error).message;
        this.log.warn('node proxy not updated; new HTTP redirects wait, retrying in 1 s', { error: this.stats.lastError });
        // Rendered files may be newer than what the proxy runs: try the whole update again.
        this.reloadDue = true;
        this.pending ??= p;
        if (!this.timer && !this.stopped) this.timer = setTimeout(() => void this.flush(), 1000);
      }
    })();
    await this.running;
  }

  /** No more renders: a pending one is dropped, a failing one not tried again. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
