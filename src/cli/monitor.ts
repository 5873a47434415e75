/**
 * `beeline monitor`: the datapath's trace and drop events as they happen, from
 * every node agent of a lab (like `cilium monitor`). Streams GET /v1/monitor
 * from each agent, decodes, filters and prints; ends on Ctrl-C, after
 * `--count` events or after `--timeout`, exiting 0.
 */
import { Command, Option } from 'commander';
import type { MonitorLine } from '../agent/types.js';
import { agentGet } from '../agent/client.js';
import type { AgentReply } from '../agent/replies.js';
import { AgentUnreachableError, BeelineError, asBeelineError } from '../common/errors.js';
import { BlLimits } from '../datapath/generated/abi.js';
import { decodeMonitorEvent, type MonitorEvent } from '../observer/event.js';
import { buildFilter, matches, parseCount, parseDuration, type MonitorFilter } from '../monitor/filter.js';
import { dropCookie, formatEvent, formatLost, type FormatMode } from '../monitor/format.js';
import { openMonitorStream, type MonitorStream } from '../monitor/stream.js';
import { labOption } from './options.js';
import { agentsOf, type AgentRef } from './nodes.js';
import { parseOutput } from './output.js';

interface MonitorOptions {
  lab?: string;
  node?: string;
  verbose: number;
  output?: string;
  json?: boolean;
  hex?: boolean;
  type?: string[];
  from?: string[];
  to?: string[];
  relatedTo?: string[];
  count?: string;
  timeout?: string;
}

/** What one run of the monitor needs, all validated. */
export interface MonitorRun {
  agents: AgentRef[];
  filter: MonitorFilter;
  mode: FormatMode;
  hex: boolean;
  count?: number;
  timeoutMs?: number;
  /** Pause before each reconnection attempt to an agent that ended its stream (default 1000 ms). */
  reconnectMs?: number;
  /** Attempts before giving up on that agent (default 10). */
  reconnectAttempts?: number;
}

/** Repeatable flags; no commander default, so the help shows none. */
const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

/** Why the monitor stopped (all of them exit 0). */
type StopReason = 'count' | 'timeout' | 'interrupt' | 'output-closed';

/**
 * Runs the monitor until it is told to stop. Resolves when every stream is
 * closed; rejects (with a BeelineError) when no agent can be read.
 */
export async function runMonitor(run: MonitorRun): Promise<StopReason> {
  const showNode = run.agents.length > 1;
  const streams = new Map<string, MonitorStream>();
  const warnedVersion = new Set<string>();
  let printed = 0;
  let stopped: StopReason | undefined;
  let resolveStop!: (r: StopReason) => void;
  const stopPromise = new Promise<StopReason>((r) => (resolveStop = r));
  const timers: NodeJS.Timeout[] = [];

  const stop = (why: StopReason) => {
    if (stopped) return;
    stopped = why;
    for (const s of streams.values()) s.close();
    resolveStop(why);
  };

  const write = (s: string) => {
    if (!stopped) process.stdout.write(s);
  };

  // Policy cookies → policy names, per node (each agent numbers its own). An
  // event with a cookie this monitor has not seen waits for the node's answer,
  // so lines of one node stay in order.
  const cookieNames = new Map<string, Map<number, string[]>>();
  const chains = new Map<string, Promise<void>>();
  const resolveCookie = async (agent: AgentRef, cookie: number) => {
    const known = cookieNames.get(agent.node) ?? new Map<number, string[]>();
    cookieNames.set(agent.node, known);
    if (!cookie || known.has(cookie)) return;
    try {
      const names = await agentGet<AgentReply<'GetPolicyCookies'>>(agent.socket, `/v1/policy/cookies?cookies=${cookie}`, 2000);
      known.set(cookie, names[cookie] ?? []);
    } catch {
      known.set(cookie, []); // an agent without policy: the number alone
    }
  };
  const cookieOf = (ev: MonitorEvent) => (ev.kind === 'drop' ? dropCookie(ev) : ev.kind === 'policy-verdict' ? ev.verdict.cookie : 0);

  const onLine = (agent: AgentRef, line: MonitorLine) => {
    if (stopped) return;
    const ev = line.data === undefined ? undefined : decodeMonitorEvent(Buffer.from(line.data, 'base64'));
    const cookie = ev ? cookieOf(ev) : 0;
    const prev = chains.get(agent.node);
    if (!prev && !(cookie && !cookieNames.get(agent.node)?.has(cookie))) return printLine(agent, line, ev);
    const next = (prev ?? Promise.resolve()).then(() => resolveCookie(agent, cookie)).then(() => printLine(agent, line, ev));
    chains.set(agent.node, next);
    void next.finally(() => {
      if (chains.get(agent.node) === next) chains.delete(agent.node);
    });
  };

  const printLine = (agent: AgentRef, line: MonitorLine, ev: MonitorEvent | undefined) => {
    if (stopped) return;
    // The node is the agent we asked, whatever the line claims: it is printed, so it must not come from the stream.
    const names = cookieNames.get(agent.node);
    const ctx = { node: agent.node, showNode, time: new Date(), hex: run.hex, policyNames: (c: number) => names?.get(c) };
    if (ev === undefined) {
      write(formatLost(line.lost ?? 0, run.mode, ctx));
      return;
    }
    if (ev.error && ev.kind !== 'other' && !warnedVersion.has(ctx.node)) {
      warnedVersion.add(ctx.node);
      process.stderr.write(`Warning: [${ctx.node}] ${ev.error}\n`);
    }
    if (!matches(run.filter, ev)) return;
    write(formatEvent(ev, run.mode, ctx));
    printed++;
    if (run.count !== undefined && printed >= run.count) stop('count');
  };

  const handlers = (agent: AgentRef) => ({
    line: (l: MonitorLine) => onLine(agent, l),
    badLine: (text: string, why: string) => process.stderr.write(`Warning: [${agent.node}] skipped a monitor line (${why}): ${text.slice(0, 80)}\n`),
  });

  /** Waits for p, or for the monitor to stop (then undefined), whichever is first. */
  const untilStopped = <T>(p: Promise<T>): Promise<T | undefined> => Promise.race([p, stopPromise.then(() => undefined)]);

  /**
   * Opens one agent's stream and registers it at once, so that stop() closes
   * it even while other agents are still connecting; one that opens after the
   * monitor stopped is closed right away.
   */
  const open = (agent: AgentRef): Promise<{ stream: MonitorStream } | { error: BeelineError }> =>
    openMonitorStream(agent, handlers(agent)).then(
      (stream) => {
        if (stopped) stream.close();
        else streams.set(agent.node, stream);
        return { stream };
      },
      (e: unknown) => ({ error: asBeelineError(e) }),
    );

  /**
   * Keeps one agent's stream open. When the agent ends it (a restart), tries
   * to reconnect for a while, as cilium monitor does on EOF. Returns why it
   * gave up on the node, or undefined when the monitor was stopped.
   */
  const follow = async (agent: AgentRef, s: MonitorStream): Promise<string | undefined> => {
    for (;;) {
      const end = await s.ended;
      streams.delete(agent.node);
      if (stopped || end.by === 'client') return undefined;
      const why = end.error ? end.error.message : 'the agent ended the monitor stream';
      if (end.fatal) {
        process.stderr.write(`Warning: [${agent.node}] ${why}; no more events from this node\n`);
        return why;
      }
      process.stderr.write(`Warning: [${agent.node}] ${why}; reconnecting\n`);
      let next: MonitorStream | undefined;
      let lastError = why;
      for (let attempt = 0; attempt < (run.reconnectAttempts ?? 10) && !next; attempt++) {
        await untilStopped(new Promise((r) => timers.push(setTimeout(r, run.reconnectMs ?? 1000))));
        if (stopped) return undefined;
        const r = await untilStopped(open(agent));
        if (stopped || r === undefined) return undefined;
        if ('error' in r) lastError = r.error.message;
        else next = r.stream;
      }
      if (!next) {
        process.stderr.write(`Warning: [${agent.node}] ${lastError}; no more events from this node\n`);
        return lastError;
      }
      s = next;
    }
  };

  const onSignal = () => {
    // A second Ctrl-C while disconnecting: leave now.
    if (stopped) process.exit(130);
    process.stderr.write('\nReceived an interrupt, disconnecting from monitor...\n\n');
    stop('interrupt');
  };
  const onStdoutError = () => stop('output-closed');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.stdout.on('error', onStdoutError);
  if (run.timeoutMs !== undefined) timers.push(setTimeout(() => stop('timeout'), run.timeoutMs));

  try {
    const opened = await untilStopped(Promise.all(run.agents.map(open)));
    if (stopped || opened === undefined) return stopped ?? 'interrupt';
    const live: Promise<string | undefined>[] = [];
    const failures: BeelineError[] = [];
    opened.forEach((r, i) => {
      if ('stream' in r) live.push(follow(run.agents[i]!, r.stream));
      else failures.push(r.error);
    });
    if (live.length === 0) {
      const first = failures[0] ?? new AgentUnreachableError('monitor: no agent to read');
      throw failures.length > 1 ? new AgentUnreachableError(failures.map((f) => f.message).join('; '), first.hint) : first;
    }
    for (const f of failures) process.stderr.write(`Warning: ${f.describe()}; listening to the other nodes\n`);
    const pages = BlLimits.BL_EVENTS_RINGBUF_SIZE / 4096;
    process.stderr.write(`Listening for events on ${live.length} node${live.length === 1 ? '' : 's'} with ${pages}x4096 of shared memory\nPress Ctrl-C to quit\n`);
    // Every stream over without a stop (agents gone for good): that is a failure, not a quiet exit.
    const allGone = Promise.all(live);
    const first = await Promise.race([stopPromise, allGone]);
    if (Array.isArray(first) && !stopped) {
      const reasons = first.filter((r): r is string => r !== undefined);
      throw new AgentUnreachableError(`monitor: no agent left to read${reasons.length ? ` (${reasons.join('; ')})` : ''}`, 'is the lab still up? (beeline lab status)');
    }
    await Promise.all(live);
    return stopped ?? 'interrupt';
  } finally {
    stop(stopped ?? 'interrupt');
    timers.forEach(clearTimeout);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.stdout.off('error', onStdoutError);
  }
}

/** Adds `beeline monitor` to the program. */
export function registerMonitor(program: Command): void {
  program
    .command('monitor')
    .description('show datapath trace and drop events as they happen, from every node (like cilium monitor)')
    .addOption(labOption())
    .option('--node <node>', 'only this node (default: every node)')
    .option('-v, --verbose', 'verbose output: every event on several lines with its dissected packet', (_v: string, n: number) => n + 1, 0)
    .option('-o, --output <format>', 'json: one JSON object per event and line')
    .addOption(new Option('-j, --json', 'same as -o json (cilium monitor -j)').hideHelp())
    .option('--hex', 'with -v: print the captured packet in hex instead of dissecting it')
    .option('-t, --type <type>', 'only events of this type: drop, trace, … (repeatable)', collect)
    .option('--from <id>', 'only events from this endpoint id (repeatable)', collect)
    .option('--to <id>', 'only events to this endpoint id (repeatable)', collect)
    .option('--related-to <id>', 'only events from or to this endpoint id (repeatable)', collect)
    .option('-n, --count <n>', 'exit after printing this many events')
    .option('--timeout <duration>', 'exit after this long, e.g. 30s, 5m')
    .action(async (o: MonitorOptions) => {
      // As in cilium monitor, JSON output shadows -v.
      const fmt = o.json ? 'json' : parseOutput(o.output, ['table', 'json']);
      const run: MonitorRun = {
        filter: buildFilter({ type: o.type, from: o.from, to: o.to, relatedTo: o.relatedTo }),
        mode: fmt === 'json' ? 'json' : o.verbose > 0 ? 'verbose' : 'info',
        hex: !!o.hex,
        agents: [],
      };
      if (o.count !== undefined) run.count = parseCount(o.count);
      if (o.timeout !== undefined) run.timeoutMs = parseDuration(o.timeout);
      run.agents = agentsOf(o);
      const missing = run.agents.filter((a) => !a.socket);
      if (missing.length === run.agents.length) {
        throw new AgentUnreachableError(`monitor: no node of lab ${run.agents[0]?.lab} has an agent`, 'is the lab up? (beeline lab status)');
      }
      for (const a of missing) process.stderr.write(`Warning: [${a.node}] has no agent; listening to the other nodes\n`);
      run.agents = run.agents.filter((a) => a.socket);
      await runMonitor(run);
    });
}
