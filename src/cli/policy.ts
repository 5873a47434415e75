/**
 * `beeline policy get` (the policies each node enforces and the endpoints
 * they select) and `beeline policy trace` (would this packet pass, and which
 * rules decide: computed by the agent with the same engine that fills its
 * policy maps), like `cilium policy get` and `cilium policy trace`; and
 * `beeline policy suggest` (a policy that allows exactly the flows observed,
 * src/policy/suggest.ts, from the Observer's flows as `observe` reads them).
 */
import { Command, Option } from 'commander';
import { Document } from 'yaml';
import { agentGet, agentPost } from '../agent/client.js';
import type { AgentReply } from '../agent/replies.js';
import type { TraceAnswer, TraceQuery, TraceQueryParty } from '../agent/policy.js';
import { UsageError } from '../common/errors.js';
import { labOption } from './options.js';
import { agentsOf } from './nodes.js';
import { parseOutput, printStructured, table } from './output.js';
import { suggestPolicy, type SuggestOptions, type SuggestResult, type TraceStep } from '../policy/index.js';
import { collectFlows, flowsRequest, parseTimeFlag, parseTimeout, resolveServer, serverOption, timeoutOption } from './observe.js';
import type { GetFlowsRequest } from '../observer/types.js';
import { FlowFilterBuilder } from './observe-filter.js';

/**
 * The one text of a direction's enforcement, for `endpoint list` and `policy
 * get` alike: Cilium's Enabled/Disabled, with `(default allow)` for a
 * direction that only its denies restrict and `(Audit)` in audit mode.
 */
export function enforcementText(enforced: boolean, defaultDeny: boolean, audit: boolean): string {
  if (!enforced) return 'Disabled';
  const notes = [defaultDeny ? '' : 'default allow', audit ? 'Audit' : ''].filter(Boolean);
  return notes.length ? `Enabled (${notes.join(', ')})` : 'Enabled';
}

/** `80/TCP`, `53/udp`, `80` (TCP) → port and protocol. */
export function parseDport(text: string): { port: number; protocol: string } {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp|icmp))?$/i.exec(text.trim());
  const port = m ? Number(m[1]) : NaN;
  const protocol = (m?.[2] ?? 'TCP').toUpperCase();
  if (!m || port > 65535 || (port < 1 && protocol !== 'ICMP')) throw new UsageError(`--dport ${text}: expected PORT[/PROTOCOL], e.g. 80/TCP, 53/UDP (port 1-65535)`);
  return { port, protocol };
}

function partyOf(kind: 'src' | 'dst', o: Record<string, string | undefined>): TraceQueryParty {
  const pod = o[`${kind}Pod`];
  const ip = o[`${kind}Ip`];
  const identity = o[`${kind}Identity`];
  const labels = o[`${kind}Labels`];
  const given = [pod, ip, identity, labels].filter((x) => x !== undefined);
  if (given.length !== 1) throw new UsageError(`policy trace: give exactly one of --${kind}-pod, --${kind}-ip, --${kind}-identity, --${kind}-labels`);
  if (labels !== undefined) return { labels: labels.split(',').map((l) => l.trim()).filter(Boolean) };
  if (pod !== undefined) return { pod: pod.includes('/') ? pod : `default/${pod}` };
  if (ip !== undefined) {
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) throw new UsageError(`--${kind}-ip ${ip}: expected an IPv4 address`);
    return { ip };
  }
  const id = Number(identity);
  if (!Number.isInteger(id) || id < 0) throw new UsageError(`--${kind}-identity ${identity}: expected a numeric identity`);
  return { identity: id };
}

/** The lines `policy trace` prints for one direction (exported for its test). */
export function describeStep(s: TraceStep | undefined, where: string): string[] {
  if (!s) return [`${where}: not a local endpoint of any node; not traced`];
  if (!s.enforced) return [`${where}: ${s.direction} not enforced (no policy selects it in this direction): allowed`];
  const verdict = s.verdict === 'allowed' ? `allowed (match ${s.match})` : `denied (${s.dropReason === 181 ? '181 Policy denied by denylist' : '133 Policy denied'})`;
  const mode = s.defaultDeny ? 'enforced, default deny' : 'enforced, default allow: only denies drop';
  const lines = [`${where}: ${s.direction} ${verdict}`, `  ${mode}`];
  if (s.entry) lines.push(`  map entry: identity ${s.entry.identity || 'any'}, ${s.entry.protocol ? `proto ${s.entry.protocol}` : 'any proto'}${s.entry.portPrefixLen ? `, port ${s.entry.port}${s.entry.portPrefixLen < 16 ? `/${s.entry.portPrefixLen}` : ''}` : ''}, ${s.entry.verdict}`);
  lines.push(`  decided by: ${s.by.length ? s.by.join(', ') : '(none)'}`);
  // As cilium policy trace: the allow sends the connection through the node proxy, which enforces the L7 rules per request.
  if (s.redirect) lines.push(`  redirected to proxy port ${s.redirect.proxyPort} (L7 ${s.redirect.parser} rules of ${s.redirect.by.length ? s.redirect.by.join(', ') : '(none)'})`);
  // Cilium prints the entry's auth type; here: what it means for the connection.
  if (s.authRequired) lines.push('  mutual authentication required: only through the node proxies\' mTLS, else dropped (189 Authentication required)');
  return lines;
}

/** The flags of `policy suggest`, as commander gives them. */
export interface SuggestFlags {
  namespace?: string;
  pod?: string[];
  label?: string[];
  kind?: string;
  l7?: boolean;
}

/** The flags into the engine's options; a UsageError names the flag at fault. */
export function suggestOptions(o: SuggestFlags): SuggestOptions {
  const namespace = o.namespace?.trim();
  if (!namespace) throw new UsageError('policy suggest: --namespace is required', 'the namespace of the workload, e.g. -n default');
  const pods = o.pod ?? [];
  const labels = o.label ?? [];
  if (!pods.length === !labels.length) throw new UsageError('policy suggest: give --pod NAME (repeatable) or --label KEY=VALUE (repeatable), not both', 'the workload the policy is for, e.g. --label app=web');
  const kind = (o.kind ?? 'cnp').toLowerCase();
  if (kind !== 'cnp' && kind !== 'knp') throw new UsageError(`--kind ${o.kind}: unknown policy kind`, 'cnp (CiliumNetworkPolicy) or knp (Kubernetes NetworkPolicy)');
  const out: SuggestOptions = { namespace, kind, l7: !!o.l7 };
  if (pods.length) {
    for (const p of pods) if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(p)) throw new UsageError(`--pod ${p}: not a pod name`, 'a pod name of the --namespace, e.g. --pod web-0');
    out.pods = pods;
  } else {
    const sel: Record<string, string> = {};
    for (const l of labels) {
      const i = l.indexOf('=');
      if (i <= 0) throw new UsageError(`--label ${l}: expected KEY=VALUE`, 'e.g. --label app=web');
      sel[l.slice(0, i)] = l.slice(i + 1);
    }
    out.labels = sel;
  }
  return out;
}

/**
 * The suggestion from the Observer's flows of the workload's namespace since
 * a time (`policy suggest`, and the UI's SuggestPolicy).
 */
export async function suggestFromObserver(server: string, opts: SuggestOptions, since: GetFlowsRequest['since'], timeoutMs: number, what: string): Promise<{ result: SuggestResult; flows: number }> {
  const filter = new FlowFilterBuilder();
  filter.set('namespace', opts.namespace);
  const request = { ...flowsRequest({}, filter.build()), number: '0', since };
  const flows = await collectFlows(server, request, timeoutMs, what);
  return { result: suggestPolicy(flows, opts), flows: flows.length };
}

/**
 * The suggestion as YAML documents, one per policy; each rule is preceded by
 * a comment with the flows that produced it, the warnings head the first
 * document.
 */
export function suggestionYaml(r: SuggestResult): string {
  const docs = r.policies.map((p, i) => {
    const doc = new Document(p);
    const name = (p.metadata as { name: string }).name;
    for (const e of r.explanations.filter((x) => x.policy === name)) {
      const node = doc.getIn(['spec', e.direction, e.index], true) as { commentBefore?: string | null } | undefined;
      if (node) node.commentBefore = ` ${e.direction} ${e.peer} on ${e.ports.join(', ')}: ${e.flows} flow(s), e.g. ${e.example}`;
    }
    if (i === 0 && r.warnings.length) doc.commentBefore = r.warnings.map((w) => ` Warning: ${w}`).join('\n');
    return doc.toString({ lineWidth: 0 });
  });
  if (!docs.length) return r.warnings.map((w) => `# Warning: ${w}\n`).join('');
  return docs.join('---\n');
}

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('network policy as the nodes enforce it (like cilium policy)');
  policy
    .command('get')
    .description('the policies in force on each node and the endpoints each selects')
    .addOption(labOption())
    .option('--node <node>', 'only this node (default: every node)')
    .addOption(new Option('-o, --output <format>', 'json|yaml'))
    .action(async (o: { lab?: string; node?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const all = await Promise.all(agentsOf(o).map(async (a) => ({ node: a.node, ...(await agentGet<AgentReply<'GetPolicy'>>(a.socket, '/v1/policy')) })));
      if (printStructured(fmt, all)) return;
      const rows: string[][] = [];
      for (const n of all) {
        for (const p of n.policies) {
          const sel = p.selects.length ? p.selects.map((s) => `${s.id} ${s.pod} (${[s.ingress ? 'ingress' : '', s.egress ? 'egress' : ''].filter(Boolean).join(', ')})`) : ['(no local endpoint)'];
          const rules = ruleSummary(p.spec);
          const lines = Math.max(sel.length, rules.length);
          for (let i = 0; i < lines; i++) rows.push([i === 0 ? n.node : '', i === 0 ? p.key : '', rules[i] ?? '', sel[i] ?? '']);
        }
      }
      process.stdout.write(table(['NODE', 'POLICY', 'RULES', 'SELECTS ENDPOINT'], rows));
      const eps: string[][] = [];
      for (const n of all) {
        for (const e of n.endpoints) {
          eps.push([n.node, String(e.id), e.pod, String(e.identity), enforcementText(e.ingressEnforced, e.ingressDefaultDeny, e.audit), enforcementText(e.egressEnforced, e.egressDefaultDeny, e.audit), String(e.entries), e.error ?? '']);
        }
      }
      process.stdout.write('\n' + table(['NODE', 'ENDPOINT', 'POD', 'IDENTITY', 'INGRESS ENFORCEMENT', 'EGRESS ENFORCEMENT', 'MAP ENTRIES', 'ERROR'], eps));
      for (const n of all) for (const p of n.policies) for (const pr of p.problems) process.stderr.write(`${pr.severity === 'note' ? 'Note' : 'Warning'}: ${n.node}: ${pr.policy}: ${pr.path}: ${pr.message}\n`);
      // Problems applying policy to one endpoint (a named port it lacks, its proxy-visibility annotation not honoured as written).
      for (const n of all) for (const e of n.endpoints) for (const pr of e.problems) process.stderr.write(`${pr.severity === 'note' ? 'Note' : 'Warning'}: ${n.node}: endpoint ${e.id} ${e.pod}: ${pr.policy}: ${pr.path}: ${pr.message}\n`);
    });

  policy
    .command('trace')
    .description('would a packet pass: egress at its source and ingress at its destination, with the rules that decide (like cilium policy trace)')
    .addOption(labOption())
    .option('--src-pod <ns/pod>', 'source pod')
    .option('--src-ip <ip>', 'source address (a pod, a node, or the world)')
    .option('--src-identity <id>', 'source security identity')
    .option('--src-labels <labels>', 'source as a pod with these labels: k8s:app=web,k8s:io.kubernetes.pod.namespace=shop (no source: k8s)')
    .option('--dst-pod <ns/pod>', 'destination pod')
    .option('--dst-ip <ip>', 'destination address')
    .option('--dst-identity <id>', 'destination security identity')
    .option('--dst-labels <labels>', 'destination as a pod with these labels')
    .requiredOption('--dport <port/proto>', 'destination port and protocol, e.g. 80/TCP')
    .option('--node <node>', 'the node whose agent answers (default: the first; every agent knows the whole cluster)')
    .addOption(new Option('-o, --output <format>', 'json|yaml'))
    .action(async (o: Record<string, string | undefined>) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const { port, protocol } = parseDport(o.dport!);
      const query: TraceQuery = { src: partyOf('src', o), dst: partyOf('dst', o), port, protocol };
      const agent = agentsOf({ ...(o.lab ? { lab: o.lab } : {}), ...(o.node ? { node: o.node } : {}) })[0]!;
      const [answer] = await agentPost<AgentReply<'TracePolicy'>>(agent.socket, '/v1/policy/trace', { queries: [query] });
      if (printStructured(fmt, answer)) return;
      const a = answer!;
      const name = (p: TraceAnswer['src']) => `${p.pod ?? 'identity'} (identity ${p.identity}${p.endpoint ? `, endpoint ${p.endpoint}` : ''})`;
      const lines = [
        `Tracing ${name(a.src)} -> ${name(a.dst)} ${port}/${protocol}`,
        ...describeStep(a.egress, `source ${a.src.pod ?? a.src.identity}`),
        ...describeStep(a.ingress, `destination ${a.dst.pod ?? a.dst.identity}`),
        `Final verdict: ${a.allowed ? 'ALLOWED' : 'DENIED'}`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });

  const collect = (v: string, prev: string[] = []) => [...prev, v];
  policy
    .command('suggest')
    .description('a policy that allows exactly the flows observed for a workload (ingress and egress), each rule explained by its flows')
    .addOption(labOption())
    .addOption(serverOption())
    .option('-n, --namespace <ns>', 'the namespace of the workload')
    .option('--pod <name>', 'the workload by pod name (repeatable)', collect)
    .option('-l, --label <key=value>', 'the workload by label: every observed pod with all these labels (repeatable)', collect)
    .option('--since <time>', 'flows since a time: a duration ago (5m, 1h) or RFC 3339', '1h')
    .option('--kind <kind>', 'cnp (CiliumNetworkPolicy) or knp (Kubernetes NetworkPolicy)', 'cnp')
    .option('--l7', 'observed HTTP requests become rules.http (method, exact path); CNP only')
    .addOption(new Option('-o, --output <format>', 'yaml (rules explained in comments, warnings on stderr too) or json ({policies, explanations, warnings})'))
    .addOption(timeoutOption())
    .action(async (o: SuggestFlags & { lab?: string; server?: string; since: string; output?: string; timeout?: string }) => {
      const fmt = parseOutput(o.output ?? 'yaml', ['json', 'yaml']);
      const { result: r } = await suggestFromObserver(resolveServer(o), suggestOptions(o), parseTimeFlag('--since', o.since), parseTimeout(o.timeout), 'policy suggest');
      if (fmt === 'json') {
        process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      process.stdout.write(suggestionYaml(r));
      for (const w of r.warnings) process.stderr.write(`Warning: ${w}\n`);
    });
}

/** One short line per rule section: `ingress: fromEndpoints {org=empire} → 80/TCP`. The full specs are in -o json|yaml. */
function ruleSummary(spec: unknown): string[] {
  const specs = (Array.isArray(spec) ? spec : [spec]).filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
  const out: string[] = [];
  const sel = (v: unknown) => {
    const s = v as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined;
    const labels = Object.entries(s?.matchLabels ?? {}).map(([k, x]) => `${k}=${x}`);
    if (s?.matchExpressions?.length) labels.push(`${s.matchExpressions.length} expression(s)`);
    return `{${labels.join(',')}}`;
  };
  const ports = (r: Record<string, unknown>) => {
    const list = ((r.toPorts ?? r.ports) as { ports?: { port?: unknown; endPort?: unknown; protocol?: string }[]; port?: unknown; endPort?: unknown; protocol?: string }[] | undefined) ?? [];
    const flat = list.flatMap((p) => (p.ports ? p.ports : [p]));
    return flat.length ? ` → ${flat.map((p) => `${p.port ?? 'all'}${p.endPort ? `-${String(p.endPort)}` : ''}/${p.protocol ?? 'TCP'}`).join(',')}` : '';
  };
  for (const sp of specs) {
    const subject = sp.endpointSelector ?? sp.podSelector ?? sp.nodeSelector;
    out.push(`selects ${sel(subject)}`);
    const edd = (sp.enableDefaultDeny ?? {}) as { ingress?: boolean; egress?: boolean };
    const off = (['ingress', 'egress'] as const).filter((d) => edd[d] === false);
    if (off.length) out.push(`enableDefaultDeny false: ${off.join(', ')} (only its denies drop unless another policy enforces)`);
    for (const dir of ['ingress', 'ingressDeny', 'egress', 'egressDeny'] as const) {
      const rules = sp[dir];
      if (!Array.isArray(rules)) continue;
      if (rules.length === 0) out.push(`${dir}: (none allowed)`);
      for (const r of rules as Record<string, unknown>[]) {
        const peer = (x: unknown): string => {
          if (typeof x === 'string') return x;
          const o = x as Record<string, unknown>;
          if (typeof o.cidr === 'string') return `${o.cidr}${Array.isArray(o.except) && o.except.length ? ` except ${o.except.join(',')}` : ''}`;
          if (o.ipBlock) return peer(o.ipBlock);
          if (o.podSelector || o.namespaceSelector) return [o.podSelector ? `pods ${sel(o.podSelector)}` : 'all pods', o.namespaceSelector ? `in namespaces ${sel(o.namespaceSelector)}` : ''].filter(Boolean).join(' ');
          if (o.k8sService) return `service ${JSON.stringify(o.k8sService)}`;
          return sel(o);
        };
        const peers = Object.entries(r)
          .filter(([k]) => /^(from|to)(Endpoints|CIDR|CIDRSet|Entities|Services|FQDNs)?$/.test(k))
          .map(([k, v]) => `${k} ${Array.isArray(v) ? v.map(peer).join(' | ') : ''}`);
        out.push(`${dir}: ${peers.length ? peers.join('; ') : 'any peer'}${ports(r)}`);
      }
    }
  }
  return out;
}
