/**
 * kubectl's resource verbs against the lab's cluster store (its etcd):
 * `apply -f`, `delete -f` / `delete KIND NAME…`, `get KIND [NAME…]`, `describe`.
 * Apply is atomic per file: the file is validated as a whole and written with
 * one `applyBatch` (one etcd transaction, whatever its size: docs/store.md,
 * "Big files"), so a file with one invalid object changes nothing.
 */
import { renderHaproxy } from '../l7/http/haproxy.js';
import type { HttpRuleSpec } from '../l7/http/rules.js';
import type { OriginKind } from '../policy/types.js';
import { HttpRuleError } from '../common/errors.js';
import { Command, Option } from 'commander';
import {
  BeelineError,
  LabNotFoundError,
  StoreNotFoundError,
  UnknownKindError,
  UsageError,
  ValidationError,
  asBeelineError,
  formatValidationIssue,
  warningLines,
  type ValidationIssue,
} from '../common/errors.js';
import { compilePolicy } from '../policy/rules.js';
import { parseProxyVisibility, visibilityAnnotationOf } from '../policy/visibility.js';
import { readState, resolveLabName } from '../lab/state.js';
import { openEtcdStore } from '../store/etcd.js';
import { deleteObject } from '../store/graceful.js';
import type { ObjectInput, Store, StoreObject } from '../store/store.js';
import { kindOf, loadManifests, requireKind, sourceLabel, unknownKindMessage, validateBatch, type KindInfo, type ManifestDoc } from '../k8s/index.js';
import { labOption } from './options.js';
import { age, parseOutput, printError, table, toJSON, toYAML } from './output.js';
import { displayStatus } from '../lab/podstatus.js';
import { admit, type ClusterView } from '../k8s/admission.js';
import { canonicalJSON } from '../common/canonical.js';
import { isRecord } from '../common/json.js';

/** Opens the lab's kvstore; the caller closes it. */
function labStore(lab: string | undefined): Store {
  const name = resolveLabName(lab);
  const state = readState(name);
  if (!state?.etcd) throw new LabNotFoundError(`lab ${name}: has no etcd`, "is the lab up? see 'beeline lab status'");
  return openEtcdStore({ endpoint: `unix://${state.etcd.socket}` });
}

/** Runs `fn` with the lab's kvstore open, and closes it. */
export async function withStore<T>(lab: string | undefined, fn: (s: Store) => Promise<T>): Promise<T> {
  const store = labStore(lab);
  try {
    return await fn(store);
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** `service`, `deployment.apps`, `ciliumnetworkpolicy.cilium.io`: how kubectl names a kind in its output. */
export function resourceName(k: KindInfo): string {
  return k.group ? `${k.singular}.${k.group}` : k.singular;
}

/** What apply replaces: every top-level field but metadata and status, plus labels and annotations. */
function appliedPart(o: { metadata?: unknown; [k: string]: unknown }): string {
  const { metadata, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  const m = isRecord(metadata) ? metadata : {};
  return canonicalJSON({ rest, labels: m.labels ?? {}, annotations: m.annotations ?? {} });
}

type ApplyResult = 'created' | 'configured' | 'unchanged';

/** What admission reads of the cluster (src/k8s/admission.ts). */
async function clusterView(store: Store, serviceCIDR: string): Promise<ClusterView> {
  const [ns, nodes, svcs] = await Promise.all([store.list('Namespace'), store.list('Node'), store.list('Service')]);
  return {
    namespaces: ns.items.map((o) => o.metadata.name),
    nodes: nodes.items.map((o) => o.metadata.name),
    services: svcs.items.map((o) => ({
      namespace: o.metadata.namespace ?? 'default',
      name: o.metadata.name,
      clusterIP: (o.spec as any)?.clusterIP,
      nodePorts: (((o.spec as any)?.ports ?? []) as { nodePort?: number }[]).map((p) => p.nodePort).filter((p): p is number => typeof p === 'number'),
    })),
    serviceCIDR,
  };
}

/**
 * Applies one validated file as one batch, after admission (namespaces exist,
 * cluster IPs allocated, nodes exist); answers what happened to each object,
 * in file order. Admission problems throw ValidationError and write nothing.
 */
export async function applyObjects(store: Store, objects: ObjectInput[], sources: string[], serviceCIDR: string): Promise<ApplyResult[]> {
  const current = await store.getMany(objects.map((o) => ({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name })));
  const issues = admit(objects as any[], sources, await clusterView(store, serviceCIDR), current);
  if (issues.length) throw new ValidationError(issues);
  const results: ApplyResult[] = objects.map((o, i) => {
    const cur = current[i];
    if (!cur) return 'created';
    return appliedPart(cur) === appliedPart(o) ? 'unchanged' : 'configured';
  });
  // Unchanged objects are not rewritten (their resourceVersion stays), unless the manifest pins a version to check.
  const batch = objects.filter((o, i) => results[i] !== 'unchanged' || o.metadata.resourceVersion);
  await store.applyBatch(batch);
  return results;
}

/** Prints a ValidationError kubectl-style: a summary error line, then one line per problem. */
function printValidation(file: string, e: ValidationError): void {
  const n = new Set(e.issues.map((i) => `${i.kind}/${i.namespace}/${i.name}/${i.source}`)).size;
  process.stderr.write(`Error [${e.code}]: apply ${file}: ${n} invalid object${n === 1 ? '' : 's'}, nothing from this file was applied\n`);
  for (const i of e.issues) process.stderr.write(`  ${formatValidationIssue(i)}\n`);
}

const POLICY_KINDS = new Set(['NetworkPolicy', 'CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy']);

/**
 * What the policy engine (the agents' own, src/policy) says of a file's
 * policies before anything is written: errors, which every agent would
 * reject (the file is refused), and what it cannot enforce as written
 * (L7 rules enforced at L4 only, IPv6, toFQDNs, host policies), which apply
 * prints as warnings so that nothing is silently narrowed or widened. A
 * proxy-visibility annotation (on a Pod, a Deployment's pod template or a
 * Namespace) that is invalid or asks for what the node proxy cannot do
 * (egress, DNS, Kafka, UDP) is a warning too: the object is applied, the
 * agents honour what they can of it (src/policy/visibility.ts).
 */
export function policyIssues(objects: readonly { kind: string; metadata: { namespace?: string; name: string } }[], sources: readonly string[]): { errors: ValidationIssue[]; warnings: ValidationIssue[] } {
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  objects.forEach((o, i) => {
    const at = { source: sources[i] ?? '', kind: o.kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name };
    for (const p of visibilityIssues(o)) warnings.push({ ...at, ...p });
    if (!POLICY_KINDS.has(o.kind)) return;
    // As every agent compiles it: HTTP rules go to the node proxy, DNS and Kafka rules to the agent's proxies.
    for (const p of compilePolicy(o, { httpProxy: { ingress: true, egress: true }, dnsProxy: true, kafkaProxy: { ingress: true, egress: true } }).problems) (p.severity === 'error' ? errors : warnings).push({ ...at, path: p.path, message: p.message });
    for (const p of proxyRuleIssues(o)) (p.warning ? warnings : errors).push({ ...at, path: p.path, message: p.message });
  });
  return { errors, warnings };
}

/** The proxy-visibility annotation's problems on a Pod, a Deployment's pod template or a Namespace, with field paths. */
function visibilityIssues(o: { kind: string; metadata: { namespace?: string; name: string } }): { path: string; message: string }[] {
  let holder: { metadata?: { annotations?: Record<string, string> } } | undefined;
  let prefix = '';
  if (o.kind === 'Pod' || o.kind === 'Namespace') holder = o as typeof holder;
  else if (o.kind === 'Deployment') {
    holder = (o as { spec?: { template?: typeof holder } }).spec?.template;
    prefix = 'spec.template.';
  }
  const a = visibilityAnnotationOf(holder);
  if (!a) return [];
  return parseProxyVisibility(a.value, '', a.name).problems.map((p) => ({ path: `${prefix}${p.path}`, message: p.message }));
}

/**
 * `rules.http` the node proxy cannot enforce as written (src/l7/http/haproxy.ts refuses
 * them: a LOG mismatch action, a header value with a comma, …): errors at apply, as the agents'
 * proxies would refuse them.
 */
function proxyRuleIssues(o: { kind: string; metadata: { namespace?: string; name: string } } & Record<string, unknown>): { path: string; message: string; warning?: boolean }[] {
  const out: { path: string; message: string; warning?: boolean }[] = [];
  const origin = { kind: o.kind as OriginKind, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata.name };
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const specs = Array.isArray(o.specs) ? (o.specs as Record<string, unknown>[]).map((s, i) => [s, `specs[${i}]`] as const) : [[spec, 'spec'] as const];
  for (const [s, sp] of specs) for (const dir of ['ingress', 'egress'] as const) {
    const rules = Array.isArray(s?.[dir]) ? (s[dir] as { toPorts?: unknown }[]) : [];
    rules.forEach((rule, i) => {
      const toPorts = Array.isArray(rule?.toPorts) ? (rule.toPorts as { rules?: { http?: unknown } }[]) : [];
      toPorts.forEach((tp, j) => {
        const http = tp?.rules?.http;
        if (!Array.isArray(http) || http.length === 0) return;
        // The node's own connections to its pods cannot be handed to the proxy (docs/l7.md): rules for the host pass at L3/L4.
        const entities = (rule as { fromEntities?: unknown }).fromEntities;
        if (dir === 'ingress' && Array.isArray(entities) && entities.some((e) => e === 'host' || e === 'all')) {
          out.push({ path: `${sp}.${dir}[${i}].fromEntities`, message: 'the node\'s own connections (entity host) to a local endpoint are not handed to the node proxy: its HTTP rules do not apply to them, they pass on the L3/L4 verdict', warning: true });
        }
        try {
          renderHaproxy({
            listeners: [{ direction: dir, port: 1 }],
            redirects: [{ direction: dir, endpointIp: '10.0.0.1', port: 80, identity: 0, http: [{ rules: http as HttpRuleSpec[], origin }] }],
            identities: [],
            logTarget: '127.0.0.1:1',
            stateDir: '/nonexistent',
          });
        } catch (e) {
          if (!(e instanceof HttpRuleError)) throw e;
          // The error names the policy first; the line names it already.
          const why = e.message.replace(/^[^:]+\/[^:]+: /, '');
          out.push({ path: `${sp}.${dir}[${i}].toPorts[${j}].rules.http`, message: `Unsupported value: the node proxy cannot enforce it: ${why}` });
        }
      });
    });
  }
  return out;
}

/**
 * kubectl apply -n: namespaced objects without a namespace get `ns`; one
 * that names another namespace is refused (kubectl's "the namespace from the
 * provided object … does not match"), before anything is written.
 */
export function applyNamespace(docs: readonly ManifestDoc[], ns: string): void {
  for (const d of docs) {
    const o = d.object;
    if (!kindOf(String(o.apiVersion ?? ''), String(o.kind ?? ''))?.namespaced) continue;
    const meta = (isRecord(o.metadata) ? o.metadata : (o.metadata = {})) as Record<string, unknown>;
    if (meta.namespace === undefined || meta.namespace === '') meta.namespace = ns;
    else if (meta.namespace !== ns) {
      throw new UsageError(`${sourceLabel(d.source)}: the namespace from the provided object "${String(meta.namespace)}" does not match the namespace "${ns}"`, `pass --namespace=${String(meta.namespace)}, or leave the namespace out of the manifest`);
    }
  }
}

function docKind(o: Record<string, unknown>): KindInfo {
  const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion : '';
  const kind = typeof o.kind === 'string' ? o.kind : '';
  const k = kindOf(apiVersion, kind);
  if (!k) throw new UnknownKindError(unknownKindMessage(apiVersion, kind));
  return k;
}

function notFound(k: KindInfo, ns: string | undefined, name: string): StoreNotFoundError {
  return new StoreNotFoundError(`(NotFound) ${k.plural}${k.group ? `.${k.group}` : ''} ${JSON.stringify(name)} not found${k.namespaced && ns ? ` in namespace ${ns}` : ''}`);
}

/** The object, or StoreNotFoundError as kubectl words it: `(NotFound) pods "web" not found in namespace default`. */
export async function requireObject(store: Store, k: KindInfo, ns: string | undefined, name: string): Promise<StoreObject> {
  const obj = await store.get(k.kind, ns, name);
  if (!obj) throw notFound(k, ns, name);
  return obj;
}

interface DeleteFlags {
  ignoreNotFound: boolean;
  gracePeriod?: number;
  /** Wait until the object is gone (kubectl's --wait, default true). */
  wait: boolean;
}

async function deleteOne(store: Store, k: KindInfo, ns: string | undefined, name: string, f: DeleteFlags): Promise<void> {
  const namespace = k.namespaced ? ns || 'default' : undefined;
  const gone = await deleteObject(store, k.kind, namespace, name, { ignoreNotFound: true, gracePeriodSeconds: f.gracePeriod });
  if (!gone) {
    if (!f.ignoreNotFound) throw notFound(k, namespace, name);
    return;
  }
  // A pod its kubelet is stopping: as kubectl does, wait until it is gone (grace period + a margin).
  if (f.wait && gone.metadata.deletionTimestamp) {
    const deadline = Date.now() + ((gone.metadata.deletionGracePeriodSeconds ?? 30) + 30) * 1000;
    while (Date.now() < deadline) {
      const cur = await store.get(k.kind, namespace, name);
      if (!cur || cur.metadata.uid !== gone.metadata.uid) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  process.stdout.write(`${resourceName(k)} ${JSON.stringify(name)} deleted\n`);
}

// ---------------------------------------------------------------------------
// get: columns per kind

type Obj = StoreObject & { spec?: any; status?: any };

function ageOf(o: Obj): string {
  const t = Date.parse(o.metadata.creationTimestamp);
  return Number.isFinite(t) ? age(Math.max(0, Math.round((Date.now() - t) / 1000))) : '<unknown>';
}

const none = (v: unknown): string => (v === undefined || v === null || v === '' ? '<none>' : String(v));
const labelString = (m: Record<string, string> | undefined): string =>
  m && Object.keys(m).length ? Object.entries(m).map(([k, v]) => `${k}=${v}`).join(',') : '<none>';

function selectorString(s: any): string {
  if (!isRecord(s)) return '<none>';
  const parts = Object.entries((s.matchLabels as Record<string, string>) ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of (s.matchExpressions as any[]) ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return parts.length ? parts.join(',') : '<none>';
}

interface Columns {
  headers: string[];
  wide?: string[];
  row(o: Obj): string[];
  wideRow?(o: Obj): string[];
  /** Columns after AGE that every format shows. */
  afterAge?: string[];
  afterAgeRow?(o: Obj): string[];
}

const COLUMNS: Record<string, Columns> = {
  Pod: {
    headers: ['READY', 'STATUS', 'RESTARTS'],
    wide: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    row: (o) => {
      const containers = (o.spec?.containers as unknown[] | undefined)?.length ?? 0;
      const cs = (o.status?.containerStatuses as any[] | undefined) ?? [];
      const ready = cs.filter((c) => c.ready).length;
      const restarts = cs.reduce((n, c) => n + (Number(c.restartCount) || 0), 0);
      return [`${ready}/${containers}`, displayStatus(o), String(restarts)];
    },
    wideRow: (o) => [none(o.status?.podIP), none(o.spec?.nodeName), '<none>', '<none>'],
  },
  Service: {
    headers: ['TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)'],
    wide: ['SELECTOR'],
    row: (o) => {
      const type = String(o.spec?.type ?? 'ClusterIP');
      const lb = ((o.status?.loadBalancer?.ingress as any[] | undefined) ?? []).map((i) => i.ip ?? i.hostname);
      const ext = [...((o.spec?.externalIPs as string[] | undefined) ?? []), ...lb];
      const ports = ((o.spec?.ports as any[] | undefined) ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`);
      return [type, none(o.spec?.clusterIP), ext.length ? ext.join(',') : type === 'LoadBalancer' ? '<pending>' : '<none>', ports.length ? ports.join(',') : '<none>'];
    },
    wideRow: (o) => [labelString(o.spec?.selector)],
  },
  Deployment: {
    headers: ['READY', 'UP-TO-DATE', 'AVAILABLE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: (o) => [`${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`, String(o.status?.updatedReplicas ?? 0), String(o.status?.availableReplicas ?? 0)],
    wideRow: (o) => {
      const cs = (o.spec?.template?.spec?.containers as any[] | undefined) ?? [];
      return [cs.map((c) => c.name).join(',') || '<none>', cs.map((c) => c.image).join(',') || '<none>', selectorString(o.spec?.selector)];
    },
  },
  Namespace: { headers: ['STATUS'], row: (o) => [String(o.status?.phase ?? 'Active')] },
  NetworkPolicy: { headers: ['POD-SELECTOR'], row: (o) => [selectorString(o.spec?.podSelector)] },
  Node: {
    headers: ['STATUS', 'ROLES'],
    row: (o) => {
      const ready = ((o.status?.conditions as any[] | undefined) ?? []).find((c) => c.type === 'Ready');
      const roles = Object.keys(o.metadata.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice(24));
      return [(ready?.status === 'True' ? 'Ready' : 'NotReady') + (o.spec?.unschedulable ? ',SchedulingDisabled' : ''), roles.join(',') || '<none>'];
    },
    // kubectl puts VERSION after AGE, in every format.
    afterAge: ['VERSION'],
    afterAgeRow: (o) => [none(o.status?.nodeInfo?.kubeletVersion)],
    wide: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
    wideRow: (o) => {
      const addr = (t: string) => none(((o.status?.addresses as any[] | undefined) ?? []).find((a) => a.type === t)?.address);
      const info = o.status?.nodeInfo ?? {};
      return [addr('InternalIP'), addr('ExternalIP'), none(info.osImage), none(info.kernelVersion), none(info.containerRuntimeVersion)];
    },
  },
  EndpointSlice: {
    headers: ['ADDRESSTYPE', 'PORTS', 'ENDPOINTS'],
    row: (o) => {
      const ports = ((o.ports as any[] | undefined) ?? []).map((p) => String(p.port));
      const addrs = ((o.endpoints as any[] | undefined) ?? []).flatMap((e) => e.addresses ?? []);
      const shown = addrs.slice(0, 3).join(',') + (addrs.length > 3 ? ` + ${addrs.length - 3} more...` : '');
      return [String(o.addressType ?? ''), ports.length ? ports.join(',') : '<unset>', shown || '<unset>'];
    },
  },
};

/** Where AGE goes: kubectl puts it after the kind's own columns and before the wide ones. */
export function renderTable(k: KindInfo, items: Obj[], opts: { wide: boolean; allNamespaces: boolean }): string {
  const c = COLUMNS[k.kind] ?? { headers: [], row: () => [] };
  const nsCol = opts.allNamespaces && k.namespaced;
  const headers = [...(nsCol ? ['NAMESPACE'] : []), 'NAME', ...c.headers, 'AGE', ...(c.afterAge ?? []), ...(opts.wide ? (c.wide ?? []) : [])];
  const rows = items.map((o) => [
    ...(nsCol ? [o.metadata.namespace ?? ''] : []),
    o.metadata.name,
    ...c.row(o),
    ageOf(o),
    ...(c.afterAgeRow ? c.afterAgeRow(o) : []),
    ...(opts.wide && c.wideRow ? c.wideRow(o) : []),
  ]);
  return table(headers, rows);
}

// ---------------------------------------------------------------------------
// describe

function flatten(v: unknown, prefix: string, out: [string, string][]): void {
  if (Array.isArray(v)) {
    if (v.length === 0) out.push([prefix, '[]']);
    v.forEach((x, i) => flatten(x, `${prefix}[${i}]`, out));
  } else if (isRecord(v)) {
    const keys = Object.keys(v);
    if (keys.length === 0) out.push([prefix, '{}']);
    for (const key of keys) flatten(v[key], prefix ? `${prefix}.${key}` : key, out);
  } else out.push([prefix, v === null ? '<none>' : String(v)]);
}

function section(title: string, v: unknown): string {
  if (v === undefined) return '';
  const rows: [string, string][] = [];
  flatten(v, '', rows);
  if (rows.length === 0) return `${title}:  <none>\n`;
  const w = Math.max(...rows.map(([k]) => k.length)) + 1;
  return `${title}:\n${rows.map(([k, val]) => `  ${`${k}:`.padEnd(w)}  ${val}`).join('\n')}\n`;
}

function mapLines(title: string, m: Record<string, string> | undefined): string {
  const pad = (s: string) => `${s}:`.padEnd(19);
  const entries = Object.entries(m ?? {});
  if (entries.length === 0) return `${pad(title)}<none>\n`;
  return entries.map(([k, v], i) => `${i === 0 ? pad(title) : ' '.repeat(19)}${k}=${v}`).join('\n') + '\n';
}

export function describeObject(o: Obj): string {
  const pad = (s: string) => `${s}:`.padEnd(19);
  let out = `${pad('Name')}${o.metadata.name}\n`;
  if (o.metadata.namespace) out += `${pad('Namespace')}${o.metadata.namespace}\n`;
  out += `${pad('Kind')}${o.kind} (${o.apiVersion})\n`;
  out += mapLines('Labels', o.metadata.labels);
  out += mapLines('Annotations', o.metadata.annotations);
  out += `${pad('CreationTimestamp')}${o.metadata.creationTimestamp}\n`;
  out += `${pad('UID')}${o.metadata.uid}\n`;
  out += `${pad('ResourceVersion')}${o.metadata.resourceVersion}\n`;
  const { apiVersion: _a, kind: _k, metadata: _m, status, ...rest } = o;
  for (const [key, v] of Object.entries(rest)) out += section(key[0]!.toUpperCase() + key.slice(1), v);
  if (o.kind === 'HTTPRoute' && isRecord(status) && Array.isArray(status.parents)) out += routeParents(status.parents);
  else out += status === undefined ? `${pad('Status')}<none>\n` : section('Status', status);
  out += `${pad('Events')}<none>\n`;
  return out;
}

/** An HTTPRoute's status.parents as kubectl describes a Gateway API route: per parent, its controller and conditions. */
function routeParents(parents: unknown[]): string {
  if (parents.length === 0) return 'Status:\n  Parents:  <none>\n';
  let out = 'Status:\n  Parents:\n';
  for (const p of parents.filter(isRecord)) {
    const ref = isRecord(p.parentRef) ? p.parentRef : {};
    const port = ref.port !== undefined ? `:${String(ref.port)}` : '';
    out += `    ${String(ref.kind ?? 'Gateway')} ${ref.namespace ? `${String(ref.namespace)}/` : ''}${String(ref.name ?? '')}${port}  (controller ${String(p.controllerName ?? '')})\n`;
    const rows = (Array.isArray(p.conditions) ? p.conditions : []).filter(isRecord).map((c) => [String(c.type ?? ''), String(c.status ?? ''), String(c.reason ?? ''), String(c.lastTransitionTime ?? ''), String(c.message ?? '')]);
    if (rows.length) out += table(['TYPE', 'STATUS', 'REASON', 'SINCE', 'MESSAGE'], rows).trimEnd().split('\n').map((l) => `      ${l}\n`).join('');
  }
  return out;
}

// ---------------------------------------------------------------------------

const outputOption = () => new Option('-o, --output <format>', 'wide|json|yaml|name');

export function registerResources(program: Command): void {
  program
    .command('apply')
    .description("create or update resources in the lab's store from manifests (kubectl apply); atomic per file")
    .requiredOption('-f, --filename <path>', 'a manifest file, a directory of them, or - for standard input')
    .option('-R, --recursive', 'read directories recursively')
    .option('-n, --namespace <ns>', 'namespace for namespaced objects that name none (one that names another is refused, as kubectl does)')
    .addOption(labOption())
    .action(async (o: { filename: string; recursive?: boolean; namespace?: string; lab?: string }) => {
      const files = loadManifests(o.filename, { recursive: !!o.recursive });
      if (o.namespace !== undefined) for (const f of files) applyNamespace(f.docs, o.namespace);
      const serviceCIDR = readState(resolveLabName(o.lab))!.plan.serviceCIDR;
      await withStore(o.lab, async (store) => {
        let failed = false;
        for (const f of files) {
          let batch;
          try {
            batch = validateBatch(f.docs);
          } catch (e) {
            if (e instanceof ValidationError) printValidation(f.file, e);
            else printError(asBeelineError(e));
            failed = true;
            continue;
          }
          const objects = batch.objects as unknown as ObjectInput[];
          const policy = policyIssues(objects, batch.sources);
          if (policy.errors.length) {
            printValidation(f.file, new ValidationError(policy.errors));
            failed = true;
            continue;
          }
          for (const line of warningLines([...batch.warnings, ...policy.warnings])) process.stderr.write(`${line}\n`);
          try {
            const results = await applyObjects(store, objects, batch.sources, serviceCIDR);
            objects.forEach((obj, i) => process.stdout.write(`${resourceName(kindOf(obj.apiVersion, obj.kind)!)}/${obj.metadata.name} ${results[i]}\n`));
          } catch (e) {
            if (e instanceof ValidationError) {
              printValidation(f.file, e);
              failed = true;
              continue;
            }
            const err = asBeelineError(e);
            if (err.code === 'BL_ERR_INTERNAL' || err.code === 'BL_ERR_STORE_UNAVAILABLE') throw err;
            // Name the file, as validation errors do: `apply app.yaml: etcd refused …`.
            printError(err.message.startsWith('apply: ') ? new BeelineError(err.code, `apply ${f.file}: ${err.message.slice('apply: '.length)}`, { hint: err.hint }) : err);
            failed = true;
          }
        }
        if (failed) process.exitCode = 1;
      });
    });

  program
    .command('delete')
    .description("delete resources from the lab's store, by manifest (-f) or by kind and names (kubectl delete)")
    .argument('[kind]', 'kind or short name (po, svc, deploy, ns, netpol, cnp, ccnp, httproute, …)')
    .argument('[names...]', 'names of the objects')
    .option('-f, --filename <path>', 'delete what these manifests describe (file, directory or -)')
    .option('-R, --recursive', 'read directories recursively')
    .option('-n, --namespace <ns>', 'namespace of namespaced kinds', 'default')
    .option('--ignore-not-found', 'a missing object is not an error')
    .option('--grace-period <seconds>', "seconds a pod's containers get to stop (default: the pod's terminationGracePeriodSeconds)")
    .option('--force', 'delete at once, without waiting for the kubelet (grace period 0)')
    .option('--wait <bool>', 'wait until deleted pods are gone', 'true')
    .addOption(labOption())
    .action(async (kind: string | undefined, names: string[], o: { filename?: string; recursive?: boolean; namespace: string; ignoreNotFound?: boolean; gracePeriod?: string; force?: boolean; wait: string; lab?: string }) => {
      if (o.gracePeriod !== undefined && !/^\d+$/.test(o.gracePeriod)) throw new UsageError(`--grace-period ${o.gracePeriod}: must be a whole number of seconds`);
      if (!['true', 'false'].includes(o.wait)) throw new UsageError(`--wait ${o.wait}: must be true or false`);
      const flags: DeleteFlags = { ignoreNotFound: !!o.ignoreNotFound, gracePeriod: o.force ? 0 : o.gracePeriod === undefined ? undefined : Number(o.gracePeriod), wait: o.wait === 'true' };
      const targets: { k: KindInfo; ns: string | undefined; name: string }[] = [];
      if (o.filename) {
        if (kind) throw new UsageError('delete: give either -f or KIND NAME…, not both');
        for (const f of loadManifests(o.filename, { recursive: !!o.recursive })) {
          for (const d of f.docs) {
            const k = docKind(d.object);
            const meta = isRecord(d.object.metadata) ? d.object.metadata : {};
            if (typeof meta.name !== 'string' || !meta.name) throw new UsageError(`delete: ${sourceLabel(d.source)}: metadata.name: Required value`);
            targets.push({ k, ns: typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : o.namespace, name: meta.name });
          }
        }
      } else {
        if (!kind) throw new UsageError('delete: give -f FILE or KIND NAME…', "see 'beeline delete --help'");
        const k = requireKind(kind);
        if (names.length === 0) throw new UsageError(`delete ${kind}: at least one name is required`);
        for (const name of names) targets.push({ k, ns: o.namespace, name });
      }
      await withStore(o.lab, async (store) => {
        let failed = false;
        for (const t of targets) {
          try {
            await deleteOne(store, t.k, t.ns, t.name, flags);
          } catch (e) {
            const err = asBeelineError(e);
            if (err.code !== 'BL_ERR_STORE_NOT_FOUND') throw err;
            printError(err);
            failed = true;
          }
        }
        if (failed) process.exitCode = 1;
      });
    });

  program
    .command('get')
    .description("list resources in the lab's store (kubectl get)")
    .argument('<kind>', 'kind or short name (po, svc, deploy, ns, netpol, cnp, ccnp, httproute, no, eps, …)')
    .argument('[names...]', 'only these objects')
    .option('-n, --namespace <ns>', 'namespace of namespaced kinds', 'default')
    .option('-A, --all-namespaces', 'every namespace')
    .option('-l, --selector <selector>', 'label selector (app=web,tier!=db,env in (a,b))')
    .addOption(outputOption())
    .addOption(labOption())
    .action(async (kind: string, names: string[], o: { namespace: string; allNamespaces?: boolean; selector?: string; output?: string; lab?: string }) => {
      const fmt = o.output === 'name' ? 'name' : parseOutput(o.output);
      const k = requireKind(kind);
      const ns = k.namespaced && !o.allNamespaces ? o.namespace : undefined;
      await withStore(o.lab, async (store) => {
        let items: Obj[];
        if (names.length) {
          items = [];
          for (const n of names) items.push(await requireObject(store, k, k.namespaced ? o.namespace : undefined, n));
        } else {
          items = (await store.list(k.kind, { namespace: ns, labelSelector: o.selector })).items;
          items.sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
        }
        if (fmt === 'name') {
          for (const i of items) process.stdout.write(`${resourceName(k)}/${i.metadata.name}\n`);
          return;
        }
        if (fmt === 'json' || fmt === 'yaml') {
          const doc = names.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
          process.stdout.write(fmt === 'json' ? toJSON(doc) + '\n' : toYAML(doc));
          return;
        }
        if (items.length === 0) {
          process.stderr.write(ns ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
          return;
        }
        process.stdout.write(renderTable(k, items, { wide: fmt === 'wide', allNamespaces: !!o.allNamespaces }));
      });
    });

  program
    .command('describe')
    .description("show one resource in the lab's store in detail (kubectl describe)")
    .argument('<kind>', 'kind or short name')
    .argument('<name>', 'object name')
    .option('-n, --namespace <ns>', 'namespace of namespaced kinds', 'default')
    .addOption(labOption())
    .action(async (kind: string, name: string, o: { namespace: string; lab?: string }) => {
      const k = requireKind(kind);
      const ns = k.namespaced ? o.namespace : undefined;
      await withStore(o.lab, async (store) => {
        process.stdout.write(describeObject(await requireObject(store, k, ns, name)));
      });
    });
}
