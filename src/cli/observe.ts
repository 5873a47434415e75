/**
 * `beeline observe` (hubble observe), `beeline observe status` (hubble
 * status) and `beeline list nodes` (hubble list nodes): clients of the
 * Observer gRPC API, by default the lab's relay (src/lab/relay-paths.ts),
 * or any Observer with `--server unix:///path` or `host:port`.
 *
 * Flags, their meanings, the request they make and the output formats are
 * Hubble's (hubble/cmd/observe, hubble/pkg/printer); the filter flags are
 * built into the request by ./observe-filter.ts.
 */
import { Command, Option } from 'commander';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { stringify } from 'yaml';
import { observerClient, unixPath } from '../api/grpc.js';
import { parseTimestampJson, toProtoJson } from '../api/proto.js';
import { parseDuration } from '../common/duration.js';
import { ObserverRequestError, ObserverUnreachableError, UsageError } from '../common/errors.js';
import { relayAddress } from '../lab/relay-paths.js';
import { resolveLabName } from '../lab/state.js';
import { FLOW_OUTPUTS, FlowPrinter, TIME_FORMATS, formatNodesTable, formatServerStatus, type FlowOutput, type TimeFormat } from '../observer/printer.js';
import type { Flow, GetFlowsRequest, GetFlowsResponse, ObserverNode, ServerStatusResponse } from '../observer/types.js';
import { FILTER_FLAGS, FlowFilterBuilder, type FilterFlag } from './observe-filter.js';
import { labOption } from './options.js';

/** Hubble's default when nothing says how many: the last 20 flows (defaults.FlowPrintCount). */
export const DEFAULT_FLOW_COUNT = 20;
/** `--all`: the largest uint64, Hubble's "every flow in the ring". */
const ALL_FLOWS = '18446744073709551615';

/** Everything `observe` needs to run, all validated. */
export interface ObservePlan {
  /** The Observer's address (`unix:///…` or `host:port`). */
  server: string;
  request: GetFlowsRequest;
  output: FlowOutput;
  timeFormat: TimeFormat;
  nodeName: boolean;
  policyNames: boolean;
  ipTranslation: boolean;
  debug: boolean;
  /** `--print-raw-filters`: print the lists as YAML and do not connect. */
  printRawFilters: boolean;
  /** How long to wait for the server to answer at all. */
  timeoutMs: number;
}

interface ObserveFlags {
  server?: string;
  lab?: string;
  last?: string;
  first?: string;
  all?: boolean;
  follow?: boolean;
  since?: string;
  until?: string;
  output?: string;
  timeFormat?: string;
  printNodeName?: boolean;
  printPolicyNames?: boolean;
  numeric?: boolean;
  ipTranslation?: boolean;
  debug?: boolean;
  printRawFilters?: boolean;
  timeout?: string;
}

/** The Observer to talk to: `--server`, else the lab's relay. */
export function resolveServer(o: { server?: string; lab?: string }): string {
  if (o.server !== undefined) {
    const s = o.server.trim();
    const path = unixPath(s);
    if (path !== undefined ? path === '' : !/^[^\s/]+:\d{1,5}$/.test(s)) {
      throw new UsageError(`--server ${o.server}: not a server address`, 'unix:///path/to/observer.sock or host:port');
    }
    return s;
  }
  return relayAddress(resolveLabName(o.lab));
}

/**
 * `--since` / `--until`: a Go duration meaning that long ago (`5m`, `1h30m`),
 * or a time: RFC 3339 (fractions and offsets too), `2006-01-02`,
 * `2006-01-02T15Z`, `2006-01-02T15:04Z` (offsets allowed), RFC 1123 with a
 * numeric zone. Returns a protobuf Timestamp.
 */
export function parseTimeFlag(flag: string, raw: string, nowMs = Date.now()): { seconds: number; nanos: number } {
  const v = raw.trim();
  const fail = () => new UsageError(`${flag} ${raw}: not a duration or a time`, 'a Go duration meaning that long ago (5m, 1h30m), or a time like 2026-12-06T08:00:00Z or 2026-12-06');
  if (/^[\d.]/.test(v) && !/^\d{4}-/.test(v)) {
    let ms: number;
    try {
      ms = parseDuration(v, flag);
    } catch {
      throw fail();
    }
    const t = nowMs - ms;
    const seconds = Math.floor(t / 1000);
    return { seconds, nanos: Math.min(999_999_999, Math.floor((t - seconds * 1000) * 1e6)) };
  }
  const rfc = parseTimestampJson(v.replace(/z$/, 'Z'));
  if (rfc) return rfc;
  let m = /^(\d{4}-\d\d-\d\d)$/.exec(v);
  let iso: string | undefined;
  if (m) iso = `${m[1]}T00:00:00Z`;
  m = /^(\d{4}-\d\d-\d\d)T(\d\d)(Z|[+-]\d\d:\d\d)$/.exec(v);
  if (m) iso = `${m[1]}T${m[2]}:00:00${m[3]}`;
  m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(Z|[+-]\d\d:\d\d)$/.exec(v);
  if (m) iso = `${m[1]}T${m[2]}:00${m[3]}`;
  if (/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$/.test(v)) {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return { seconds: Math.floor(ms / 1000), nanos: 0 };
  }
  if (iso) {
    const t = parseTimestampJson(iso);
    if (t) return t;
  }
  throw fail();
}

function parseCount(flag: string, v: string | undefined): bigint {
  if (v === undefined) return 0n;
  if (!/^\d+$/.test(v.trim()) || BigInt(v.trim()) > 18446744073709551615n) throw new UsageError(`--${flag} ${v}: not a number of flows`, 'a whole number, e.g. 100');
  return BigInt(v.trim());
}

/** The selectors and lists into a GetFlowsRequest, with Hubble's rules (getFlowsRequest). */
export function flowsRequest(o: ObserveFlags, lists: { whitelist: GetFlowsRequest['whitelist']; blacklist: GetFlowsRequest['blacklist'] }, nowMs = Date.now()): GetFlowsRequest {
  const firstN = parseCount('first', o.first);
  const lastN = parseCount('last', o.last);
  const first = firstN > 0n;
  const last = lastN > 0n;
  if (first && last) throw new UsageError('--first and --last cannot be combined', 'ask for the oldest or the newest flows, not both');
  if (first && o.all) throw new UsageError('--first and --all cannot be combined');
  if (first && o.follow) throw new UsageError('--first and --follow cannot be combined', '--first reads from the oldest flow and stops; --follow needs --last or --since');
  if (last && o.all) throw new UsageError('--last and --all cannot be combined');
  const since = o.since !== undefined ? parseTimeFlag('--since', o.since, nowMs) : undefined;
  // Following never ends, so an end time has no meaning there (Hubble ignores it too).
  const until = o.until !== undefined && !o.follow ? parseTimeFlag('--until', o.until, nowMs) : undefined;
  if (o.until !== undefined && o.follow) parseTimeFlag('--until', o.until, nowMs); // still a usage error when malformed
  let number = (first ? firstN : lastN).toString();
  if (!since && !until && !first) {
    if (o.all) number = ALL_FLOWS;
    else if (!last && !o.follow) number = String(DEFAULT_FLOW_COUNT);
  }
  const req: GetFlowsRequest = { number, first, follow: !!o.follow, whitelist: lists.whitelist ?? [], blacklist: lists.blacklist ?? [] };
  if (since) req.since = since;
  if (until) req.until = until;
  return req;
}

/** A failed call as the error the user sees. */
export function callError(e: ServiceError, server: string, what: string): Error {
  const code = GrpcStatus[e.code] ?? String(e.code);
  if (e.code === GrpcStatus.UNAVAILABLE || e.code === GrpcStatus.DEADLINE_EXCEEDED) {
    return new ObserverUnreachableError(`${what}: Observer at ${server} unreachable: ${e.details || code}`, {
      hint: unixPath(server) ? 'is the relay running? see beeline lab status, or pass --server' : 'is the server up? check --server',
      cause: e,
    });
  }
  if (e.code === GrpcStatus.INVALID_ARGUMENT) return new ObserverRequestError(`${what}: the server rejected the request: ${e.details}`, code, { hint: 'check the filter flags', cause: e });
  return new ObserverRequestError(`${what}: ${code}: ${e.details}`, code, { cause: e });
}

/** `--print-raw-filters`: the lists as hubble prints them (YAML of JSON-encoded FlowFilters). */
export function rawFiltersYaml(req: GetFlowsRequest): string {
  const enc = (fs: GetFlowsRequest['whitelist']) => (fs ?? []).map((f) => JSON.stringify(toProtoJson('flow.FlowFilter', f)));
  const doc: Record<string, string[]> = {};
  const allow = enc(req.whitelist);
  const deny = enc(req.blacklist);
  if (allow.length) doc.allowlist = allow;
  if (deny.length) doc.denylist = deny;
  return Object.keys(doc).length ? stringify(doc) : '{}\n';
}

/** Streams flows from the server and prints them; resolves when the stream ends or is interrupted. */
export async function runObserve(plan: ObservePlan, io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => void process.stdout.write(s), err: (s) => void process.stderr.write(s) }): Promise<void> {
  if (plan.printRawFilters) {
    io.out(rawFiltersYaml(plan.request));
    return;
  }
  const printer = new FlowPrinter({ output: plan.output, timeFormat: plan.timeFormat, nodeName: plan.nodeName, policyNames: plan.policyNames, ipTranslation: plan.ipTranslation, debug: plan.debug, out: io.out, err: io.err });
  const client = observerClient(plan.server);
  try {
    await new Promise<void>((resolve, reject) => {
      client.waitForReady(Date.now() + plan.timeoutMs, (e) => {
        if (e) reject(new ObserverUnreachableError(`observe: Observer at ${plan.server} unreachable: ${e.message}`, { hint: unixPath(plan.server) ? 'is the relay running? see beeline lab status, or pass --server' : 'is the server up? check --server', cause: e }));
        else resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      const call = client.GetFlows(plan.request, new Metadata());
      let interrupted = false;
      const onSignal = () => {
        interrupted = true;
        call.cancel();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      // A closed stdout (`| head`) ends the stream quietly.
      const onPipe = (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') onSignal();
      };
      process.stdout.on('error', onPipe);
      const done = (e?: Error) => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.stdout.off('error', onPipe);
        printer.close();
        if (e) reject(e);
        else resolve();
      };
      call.on('data', (res: GetFlowsResponse) => printer.write(res));
      call.on('error', (e: ServiceError) => (interrupted || e.code === GrpcStatus.CANCELLED ? done() : done(callError(e, plan.server, 'observe'))));
      call.on('end', () => done());
    });
  } finally {
    client.close();
  }
}

/**
 * Every flow a request returns, collected (the request must end: not
 * --follow). For commands that compute over flows (`policy suggest`).
 */
export async function collectFlows(server: string, request: GetFlowsRequest, timeoutMs: number, what: string): Promise<Flow[]> {
  const client = observerClient(server);
  try {
    await new Promise<void>((resolve, reject) => {
      client.waitForReady(Date.now() + timeoutMs, (e) => {
        if (e) reject(new ObserverUnreachableError(`${what}: Observer at ${server} unreachable: ${e.message}`, { hint: unixPath(server) ? 'is the relay running? see beeline lab status, or pass --server' : 'is the server up? check --server', cause: e }));
        else resolve();
      });
    });
    return await new Promise<Flow[]>((resolve, reject) => {
      const flows: Flow[] = [];
      const call = client.GetFlows(request, new Metadata());
      call.on('data', (res: GetFlowsResponse) => {
        if (res.flow) flows.push(res.flow);
      });
      call.on('error', (e: ServiceError) => reject(callError(e, server, what)));
      call.on('end', () => resolve(flows));
    });
  } finally {
    client.close();
  }
}

/** gRPC health check of the Observer service (grpc.health.v1), encoded by hand: the service name in, a status out. */
async function healthCheck(server: string, timeoutMs: number): Promise<{ status: string } | { unimplemented: true }> {
  const client = observerClient(server);
  try {
    return await new Promise((resolve, reject) => {
      const service = Buffer.from('observer.Observer');
      const req = Buffer.concat([Buffer.from([0x0a, service.length]), service]);
      client.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (b: Buffer) => b,
        (b: Buffer) => b,
        req,
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (e, res) => {
          if (e) {
            if (e.code === GrpcStatus.UNIMPLEMENTED) resolve({ unimplemented: true });
            else reject(callError(e, server, 'observe status'));
            return;
          }
          // HealthCheckResponse { ServingStatus status = 1; }: absent means UNKNOWN.
          const n = res && res.length >= 2 && res[0] === 0x08 ? res[1]! : 0;
          resolve({ status: ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][n] ?? String(n) });
        },
      );
    });
  } finally {
    client.close();
  }
}

function unary<T>(server: string, timeoutMs: number, what: string, call: (c: ReturnType<typeof observerClient>, deadline: Date, cb: (e: ServiceError | null, r?: T) => void) => void): Promise<T> {
  const client = observerClient(server);
  return new Promise<T>((resolve, reject) => {
    call(client, new Date(Date.now() + timeoutMs), (e, r) => {
      client.close();
      if (e) reject(callError(e, server, what));
      else resolve(r as T);
    });
  });
}

/** The Observer's ServerStatus. */
export function serverStatus(server: string, timeoutMs = 5000): Promise<ServerStatusResponse> {
  return unary(server, timeoutMs, 'observe status', (c, deadline, cb) => c.ServerStatus({}, { deadline }, (e, r) => cb(e, r as ServerStatusResponse)));
}

/** The Observer's nodes (GetNodes; the relay knows them, an agent only itself). */
export function observerNodes(server: string, timeoutMs = 5000): Promise<ObserverNode[]> {
  return unary(server, timeoutMs, 'list nodes', (c, deadline, cb) => c.GetNodes({}, { deadline }, (e, r) => cb(e, (r?.nodes ?? []) as ObserverNode[])));
}

export function parseTimeout(v: string | undefined): number {
  return v === undefined ? 5000 : parseDuration(v, '--timeout');
}

export const serverOption = () => new Option('--server <address>', "the Observer's address: unix:///path/to.sock or host:port (default: the lab's relay)");
export const timeoutOption = () => new Option('--timeout <duration>', 'how long to wait for the server (default 5s)');

export const FILTER_HELP: Readonly<Partial<Record<FilterFlag | 'not', [string, string]>>> = {
  not: ['--not', 'reverses the next filter flag into the blacklist, e.g. --not --from-ip 2.2.2.2'],
  uuid: ['--uuid <uuid>', 'only the flow with this id'],
  'node-name': ['--node-name <pattern>', 'flows observed on these nodes (globs: node-*)'],
  protocol: ['--protocol <proto>', 'L4/L7 protocol: tcp, udp, icmp, icmpv4, icmpv6, sctp, http, dns, kafka'],
  'tcp-flags': ['--tcp-flags <flags>', 'flows with these TCP flags, comma-separated (syn, ack, fin, rst, …)'],
  type: ['-t, --type <type>', 'event type TYPE[:SUBTYPE]: trace (trace:to-endpoint, trace:from-network, …), drop, l7, policy-verdict, capture, trace-sock'],
  verdict: ['--verdict <verdict>', 'FORWARDED, DROPPED, AUDIT, REDIRECTED, ERROR, TRACED, TRANSLATED'],
  'drop-reason-desc': ['--drop-reason-desc <reason>', 'drop reason name (POLICY_DENIED, …)'],
  'http-status': ['--http-status <code>', 'HTTP status code or class prefix (404, 5+)'],
  'http-method': ['--http-method <method>', 'HTTP method (get, post, …)'],
  'http-path': ['--http-path <regex>', 'HTTP path regular expression (/page/\\d+)'],
  'http-url': ['--http-url <regex>', 'HTTP URL regular expression'],
  'trace-id': ['--trace-id <id>', 'trace id of the L7 request'],
  'from-fqdn': ['--from-fqdn <name>', 'flows from this DNS name (*.example.com)'],
  fqdn: ['--fqdn <name>', 'flows from or to this DNS name'],
  'to-fqdn': ['--to-fqdn <name>', 'flows to this DNS name'],
  'from-ip': ['--from-ip <ip>', 'flows from this address or CIDR'],
  ip: ['--ip <ip>', 'flows from or to this address or CIDR'],
  'to-ip': ['--to-ip <ip>', 'flows to this address or CIDR'],
  ipv4: ['-4, --ipv4', 'IPv4 flows only'],
  ipv6: ['-6, --ipv6', 'IPv6 flows only'],
  'ip-version': ['--ip-version <v>', 'none, v4 or v6'],
  'from-pod': ['--from-pod <pod>', 'flows from pods with this name prefix ([namespace/]pod)'],
  pod: ['--pod <pod>', 'flows from or to pods with this name prefix ([namespace/]pod)'],
  'to-pod': ['--to-pod <pod>', 'flows to pods with this name prefix ([namespace/]pod)'],
  'from-namespace': ['--from-namespace <ns>', 'flows from this namespace'],
  namespace: ['-n, --namespace <ns>', 'flows from or to this namespace (qualifies --pod)'],
  'to-namespace': ['--to-namespace <ns>', 'flows to this namespace'],
  'from-all-namespaces': ['--from-all-namespaces', 'flows from any namespace'],
  'all-namespaces': ['-A, --all-namespaces', 'flows in any namespace'],
  'to-all-namespaces': ['--to-all-namespaces', 'flows to any namespace'],
  'from-label': ['--from-label <selector>', 'flows from endpoints with these labels (app=web, reserved:world)'],
  label: ['-l, --label <selector>', 'flows from or to endpoints with these labels'],
  'to-label': ['--to-label <selector>', 'flows to endpoints with these labels'],
  'from-service': ['--from-service <svc>', 'flows from this Service ([namespace/]name prefix)'],
  service: ['--service <svc>', 'flows from or to this Service'],
  'to-service': ['--to-service <svc>', 'flows to this Service'],
  'from-port': ['--from-port <port>', 'flows from this port'],
  port: ['--port <port>', 'flows from or to this port'],
  'to-port': ['--to-port <port>', 'flows to this port'],
  'from-workload': ['--from-workload <workload>', 'flows from this workload ([Kind/]name)'],
  workload: ['--workload <workload>', 'flows from or to this workload'],
  'to-workload': ['--to-workload <workload>', 'flows to this workload'],
  'from-identity': ['--from-identity <id>', 'flows from this security identity (number or reserved name)'],
  identity: ['--identity <id>', 'flows from or to this security identity'],
  'to-identity': ['--to-identity <id>', 'flows to this security identity'],
  'traffic-direction': ['--traffic-direction <dir>', 'ingress or egress'],
};

/**
 * The `observe` command. `onRun` gets the validated plan (the CLI runs it;
 * tests look at it). Filter flags are handed to a FlowFilterBuilder in
 * command-line order, which `--not` needs.
 */
export function observeCommand(onRun: (plan: ObservePlan) => Promise<void>, name = 'observe'): Command {
  let builder = new FlowFilterBuilder();
  const cmd = new Command(name)
    .description(name === 'observe' ? 'observe flows of the lab (or any Observer): like hubble observe' : 'the same as observe (hubble observe flows)')
    // `observe status --server X`: options after the subcommand are the subcommand's.
    .enablePositionalOptions()
    .addOption(labOption())
    .addOption(serverOption())
    .option('--last <n>', `the last N flows in the buffer (default ${DEFAULT_FLOW_COUNT}; through the relay, N per node)`)
    .option('--first <n>', 'the first N flows in the buffer')
    .option('--all', "every flow in the buffer")
    .option('-f, --follow', 'keep printing flows as they happen')
    .option('--since <time>', 'flows since a time: a duration ago (5m, 1h30m) or RFC 3339')
    .option('--until <time>', 'flows until a time: a duration ago or RFC 3339 (not with --follow)')
    .option('-o, --output <format>', 'compact (default), dict, json, jsonpb, table')
    .option('--time-format <format>', `${TIME_FORMATS.join(', ')} (default StampMilli)`)
    .option('--print-node-name', 'print the node name in the output')
    .option('--print-policy-names', 'print the policies that decided policy verdicts')
    .option('--numeric', 'addresses instead of pod, Service and DNS names')
    .option('--debug', 'print informational node status events too')
    .option('--print-raw-filters', 'print the whitelist/blacklist as YAML and exit without connecting')
    .addOption(timeoutOption());
  for (const flag of ['not', ...FILTER_FLAGS] as (FilterFlag | 'not')[]) {
    const [spec, desc] = FILTER_HELP[flag] ?? [`--${flag} <value>`, flag];
    const opt = new Option(spec, desc);
    if (opt.required || opt.optional) {
      // Called for each occurrence, in command-line order.
      opt.argParser((v: string) => {
        builder.set(flag, v);
        return v;
      });
      cmd.addOption(opt);
    } else {
      cmd.addOption(opt);
      cmd.on(`option:${flag}`, () => builder.set(flag));
    }
  }
  cmd.action(async (o: ObserveFlags) => {
    const lists = builder.build();
    builder = new FlowFilterBuilder();
    const output = (o.output ?? 'compact') as FlowOutput;
    if (!FLOW_OUTPUTS.includes(output)) throw new UsageError(`-o ${o.output}: unknown output format`, `one of ${FLOW_OUTPUTS.join(', ')}`);
    if (output === 'table' && o.follow) throw new UsageError('-o table cannot be combined with --follow', 'a table is aligned once every row is known; use compact or dict');
    const timeFormat = (o.timeFormat ?? 'StampMilli') as TimeFormat;
    if (!TIME_FORMATS.includes(timeFormat)) throw new UsageError(`--time-format ${o.timeFormat}: unknown time format`, `one of ${TIME_FORMATS.join(', ')}`);
    const request = flowsRequest(o, lists);
    const timeoutMs = parseTimeout(o.timeout);
    const server = o.printRawFilters ? (o.server ?? '') : resolveServer(o);
    await onRun({ server, request, output, timeFormat, nodeName: !!o.printNodeName, policyNames: !!o.printPolicyNames, ipTranslation: !o.numeric, debug: !!o.debug, printRawFilters: !!o.printRawFilters, timeoutMs });
  });
  return cmd;
}

/** `observe status`: health, flows in the buffer, rate, nodes (hubble status). */
function statusCommand(): Command {
  return new Command('status')
    .description("the Observer's health, flows in the buffer and connected nodes: like hubble status")
    .addOption(labOption())
    .addOption(serverOption())
    .option('-o, --output <format>', 'compact (default), json')
    .addOption(timeoutOption())
    .action(async (o: { lab?: string; server?: string; output?: string; timeout?: string }) => {
      const output = o.output ?? 'compact';
      if (!['compact', 'json', 'jsonpb'].includes(output)) throw new UsageError(`-o ${o.output}: unknown output format`, 'compact or json');
      const timeoutMs = parseTimeout(o.timeout);
      const server = resolveServer(o);
      const hc = await healthCheck(server, timeoutMs);
      const st = await serverStatus(server, timeoutMs);
      if ('status' in hc && hc.status !== 'SERVING') {
        if (output === 'compact') process.stdout.write(`Healthcheck (via ${server}): Unavailable: ${hc.status}\n`);
        throw new ObserverRequestError(`observe status: ${server} not healthy: ${hc.status}`, 'UNAVAILABLE');
      }
      if (output === 'compact') process.stdout.write(`Healthcheck (via ${server}): Ok\n${formatServerStatus(st)}`);
      else process.stdout.write(JSON.stringify(toProtoJson('observer.ServerStatusResponse', st)) + '\n');
    });
}

/** Registers `observe` (with `observe status`) and `list nodes`. */
export function registerObserve(program: Command): void {
  const observe = observeCommand((plan) => runObserve(plan));
  observe.addCommand(observeCommand((plan) => runObserve(plan), 'flows'));
  observe.addCommand(statusCommand());
  program.addCommand(observe);

  const list = program.command('list').description("list the Observer's objects: like hubble list");
  list
    .command('nodes')
    .description('the nodes the relay reads flows from: like hubble list nodes')
    .addOption(labOption())
    .addOption(serverOption())
    .option('-o, --output <format>', 'table (default), wide, json')
    .addOption(timeoutOption())
    .action(async (o: { lab?: string; server?: string; output?: string; timeout?: string }) => {
      const output = o.output ?? 'table';
      if (!['table', 'wide', 'json'].includes(output)) throw new UsageError(`-o ${o.output}: unknown output format`, 'table, wide or json');
      const nodes = await observerNodes(resolveServer(o), parseTimeout(o.timeout));
      if (output === 'json') {
        const sorted = [...nodes].sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1));
        process.stdout.write(JSON.stringify(sorted.map((n) => toProtoJson('observer.Node', n)), null, 2) + '\n');
      } else process.stdout.write(formatNodesTable(nodes, output === 'wide'));
    });
}
