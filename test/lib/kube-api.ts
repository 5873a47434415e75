/**
 * A Kubernetes API test double: an in-memory API server over HTTP on
 * 127.0.0.1 that follows the API conventions closely enough for real clients
 * (kubectl, @kubernetes/client-node) to behave against it as against a cluster.
 *
 * No API server can run on these machines; where test/lib/fake-apiserver.ts
 * replays scripted answers, this keeps state:
 *   - discovery (/version, /api, /apis, /api/v1, /apis/<group>/<version>), the
 *     legacy (not aggregated) form, which clients fall back to; OpenAPI v3
 *     documents with only what kubectl's validation looks for (it then sends
 *     fieldValidation=Strict, which is not enforced); /openapi/v2 404;
 *     categories for `kubectl get all`;
 *   - objects of every kind in src/k8s/kinds.ts, one global resourceVersion counter, uid,
 *     creationTimestamp, generation (bumped when anything but metadata/status
 *     changes);
 *   - list: resourceVersion in the list metadata, labelSelector, fieldSelector
 *     (metadata.name, metadata.namespace, and per kind the API's field labels
 *     such as spec.nodeName for pods; others are refused as by the API),
 *     limit + continue tokens served from a consistent snapshot, an expired
 *     continue → 410; resourceVersionMatch=Exact reads a past state;
 *   - watch: replay after a resourceVersion then stream; no resourceVersion →
 *     synthetic ADDED for the current state; allowWatchBookmarks → periodic
 *     BOOKMARKs; a compacted resourceVersion → ERROR event with a 410 Expired
 *     Status (what the watch cache sends); sendInitialEvents (streaming
 *     lists: ADDED for the state, then a k8s.io/initial-events-end BOOKMARK);
 *     selector changes turn MODIFIED into
 *     ADDED/DELETED as the API server does; timeoutSeconds ends the stream;
 *   - create (name or generateName), update (stale resourceVersion → 409),
 *     patch (merge, strategic merge for the basics, JSON patch, server-side
 *     apply), delete (preconditions, namespace cascade), deletecollection,
 *     the status subresource;
 *   - errors as Status objects (NotFound, AlreadyExists, Conflict, Expired,
 *     Invalid, BadRequest, MethodNotAllowed, UnsupportedMediaType);
 *   - Table output when asked (kubectl get's default printer).
 * Not modelled: authentication, admission, validation (fieldValidation is
 * ignored), protobuf bodies (415: kubectl's typed generators such as
 * `kubectl create namespace` send protobuf; `create -f`/`apply` send JSON),
 * aggregated discovery, OpenAPI schemas (no `kubectl explain`), server-side
 * apply conflicts between managers (the latest applier wins; lists are
 * atomic), finalizers and graceful deletion, defaulting (no clusterIP, no
 * pod phase), a resourceVersion newer than the server's.
 *
 * Test hooks: compact() drops the watch history (→ 410 for older versions and
 * continue tokens), endWatches() ends open streams (a server-side timeout),
 * seed()/get() reach the storage directly, requests records what was asked.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeTestKubeconfig } from './kubeconfig.js';
import { parse as parseYaml } from 'yaml';
import { ALL_KINDS } from '../../src/k8s/kinds.js';

/** One served resource (a kind in a group/version). */
export interface KubeResource {
  group: string;
  version: string;
  /** Plural, the path segment. */
  name: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Has a status subresource: PUT/PATCH on the object keeps status, .../status changes only status. */
  status?: boolean;
  /** A custom resource: no strategic merge patch, an update must carry metadata.resourceVersion. */
  custom?: boolean;
  /** Discovery categories (`kubectl get all`). */
  categories?: string[];
}

/** Kinds served with a status subresource (the others keep status in the object). */
const WITH_STATUS = new Set(['Namespace', 'Node', 'Pod', 'Service', 'Deployment', 'CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy', 'HTTPRoute', 'BeelineNode', 'BeelineCertificateRequest']);

const CATEGORIES: Record<string, string[]> = {
  Pod: ['all'],
  Service: ['all'],
  Deployment: ['all'],
  CiliumNetworkPolicy: ['cilium', 'ciliumpolicy'],
  CiliumClusterwideNetworkPolicy: ['cilium', 'ciliumpolicy'],
};

/**
 * What is served: every kind of the one registry (src/k8s/kinds.ts), at its
 * canonical apiVersion. Groups other than core, apps, discovery and
 * networking are custom resources (CRDs in a cluster).
 */
export const KUBE_RESOURCES: readonly KubeResource[] = ALL_KINDS.map((k) => ({
  group: k.group,
  version: k.version,
  name: k.plural,
  singular: k.singular,
  kind: k.kind,
  namespaced: k.namespaced,
  ...(k.shortNames.length ? { shortNames: k.shortNames } : {}),
  status: WITH_STATUS.has(k.kind),
  custom: !['', 'apps', 'discovery.k8s.io', 'networking.k8s.io', 'coordination.k8s.io'].includes(k.group),
  ...(CATEGORIES[k.kind] ? { categories: CATEGORIES[k.kind] } : {}),
}));

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Meta {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generateName?: string;
  managedFields?: Obj[];
  [k: string]: unknown;
}

interface KubeObject extends Obj {
  apiVersion: string;
  kind: string;
  metadata: Meta;
}

/** One change, kept in the history for watches and past reads. */
interface Change {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: KubeResource;
  /** The object after the change (for DELETED: as it was, with the deletion's resourceVersion). */
  object: KubeObject;
  /** The object before the change (MODIFIED, DELETED). */
  old?: KubeObject;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string;
  accept: string;
}

export interface KubeApiOptions {
  /** Period of BOOKMARK events on watches that allow them, ms (default 1000; the API server's is about a minute). */
  bookmarkMs?: number;
  /** gitVersion reported by /version (default v1.32.0). */
  gitVersion?: string;
}

export interface KubeApi {
  url: string;
  /** A kubeconfig naming this server (temp file, removed by close). */
  kubeconfig: string;
  /** Every request seen, in order. */
  requests: SeenRequest[];
  /** The current (global) resourceVersion. */
  resourceVersion(): string;
  /** Stores an object as a create would (fills uid, resourceVersion, ...), without HTTP. Returns it. */
  seed(object: Obj): Obj;
  /** The stored object, or undefined. `resource` is the plural (pods) or `plural.group`. */
  get(resource: string, namespace: string | undefined, name: string): Obj | undefined;
  /**
   * Forgets the history up to and including `rv` (default: all of it): a
   * watch, continue token or exact list from a resourceVersion older than
   * `rv` then gets 410 Expired.
   */
  compact(rv?: string): void;
  /** Ends every open watch stream (as the API server does at its timeout). */
  endWatches(): void;
  /** Number of open watch streams. */
  openWatches(): number;
  close(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Obj,
  ) {
    super(message);
  }
}

function status(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

const resourceId = (r: KubeResource) => (r.group ? `${r.name}.${r.group}` : r.name);
const groupVersion = (r: KubeResource) => (r.group ? `${r.group}/${r.version}` : r.version);
const clone = <T>(o: T): T => structuredClone(o);
const isMap = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const keyOf = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;

function notFound(r: KubeResource, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${resourceId(r)} "${name}" not found`, { name, group: r.group, kind: r.name });
}
function conflict(r: KubeResource, name: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${resourceId(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: r.group, kind: r.name },
  );
}
function invalid(r: KubeResource, name: string, field: string, message: string): ApiError {
  return new ApiError(422, 'Invalid', `${r.kind} "${name}" is invalid: ${field}: ${message}`, {
    name,
    group: r.group,
    kind: r.kind,
    causes: [{ reason: 'FieldValueInvalid', message, field }],
  });
}
const expired = (message: string) => new ApiError(410, 'Expired', message);
const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);

// ---- selectors ---------------------------------------------------------------

type Requirement = { key: string; op: 'in' | 'notin' | 'exists' | '!exists'; values: string[] };

/** Parses a label selector (=, ==, !=, in, notin, key, !key). */
export function parseLabelSelector(s: string): Requirement[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  const out: Requirement[] = [];
  for (const raw of parts.map((p) => p.trim()).filter(Boolean)) {
    let m: RegExpMatchArray | null;
    if ((m = raw.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      out.push({ key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((v) => v.trim()) });
    } else if ((m = raw.match(/^([^!=\s]+)\s*!=\s*(\S*)$/))) {
      out.push({ key: m[1], op: 'notin', values: [m[2]] });
    } else if ((m = raw.match(/^([^!=\s]+)\s*==?\s*(\S*)$/))) {
      out.push({ key: m[1], op: 'in', values: [m[2]] });
    } else if ((m = raw.match(/^!\s*(\S+)$/))) {
      out.push({ key: m[1], op: '!exists', values: [] });
    } else if ((m = raw.match(/^(\S+)$/))) {
      out.push({ key: m[1], op: 'exists', values: [] });
    } else throw badRequest(`unable to parse requirement: ${raw}`);
  }
  return out;
}

function labelsMatch(reqs: Requirement[], labels: Record<string, string> = {}): boolean {
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case 'in':
        return has && r.values.includes(labels[r.key]);
      case 'notin':
        return !has || !r.values.includes(labels[r.key]);
    }
  });
}

type FieldReq = { path: string; equal: boolean; value: string };

/** Field labels each kind can be selected by besides metadata.name and metadata.namespace (the API refuses others). */
const FIELD_LABELS: Record<string, string[]> = {
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Node: ['spec.unschedulable'],
  Namespace: ['status.phase'],
  Service: ['spec.clusterIP', 'spec.type'],
};

function parseFieldSelector(r: KubeResource, s: string): FieldReq[] {
  const reqs = s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const m = p.match(/^([^!=]+)(==|=|!=)(.*)$/);
      if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${p}'`);
      return { path: m[1].trim(), equal: m[2] !== '!=', value: m[3].trim() };
    });
  for (const f of reqs)
    if (f.path !== 'metadata.name' && f.path !== 'metadata.namespace' && !FIELD_LABELS[r.kind]?.includes(f.path))
      throw badRequest(`field label not supported: ${f.path}`);
  return reqs;
}

function fieldValue(o: Obj, path: string): string {
  let v: unknown = o;
  for (const seg of path.split('.')) v = isMap(v) ? v[seg] : undefined;
  return v === undefined || v === null ? '' : String(v);
}

const fieldsMatch = (reqs: FieldReq[], o: Obj) => reqs.every((r) => (fieldValue(o, r.path) === r.value) === r.equal);

// ---- patches -----------------------------------------------------------------

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return clone(patch);
  const out: Obj = isMap(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Merge keys of the lists strategic merge patch merges (by field name; the API's are per type). */
function mergeKeyOf(field: string, items: unknown[]): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'conditions':
      return 'type';
    case 'hostAliases':
      return 'ip';
    case 'ports':
      return items.some((i) => isMap(i) && 'containerPort' in i) ? 'containerPort' : 'port';
    default:
      return undefined;
  }
}

/**
 * Strategic merge patch, the basics: maps merge as in a merge patch; lists of
 * maps with a known merge key merge by key (`$patch: delete` removes an item);
 * `$patch: replace|delete` on a map; `$retainKeys`;
 * `$deleteFromPrimitiveList/<field>`; `$setElementOrder/<field>` orders the
 * merged list. Other lists are replaced.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Obj = isMap(target) ? clone(target) : {};
  const orders: [string, unknown[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$retainKeys' && Array.isArray(v)) {
      for (const key of Object.keys(out)) if (!v.includes(key) && !(key in patch)) delete out[key];
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const f = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[f]) && Array.isArray(v)) out[f] = (out[f] as unknown[]).filter((x) => !v.includes(x));
      continue;
    }
    if (k.startsWith('$setElementOrder/')) {
      if (Array.isArray(v)) orders.push([k.slice('$setElementOrder/'.length), v]);
      continue;
    }
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      const key = mergeKeyOf(k, [...v, ...(Array.isArray(out[k]) ? out[k] : [])]);
      if (key && v.every(isMap) && (!Array.isArray(out[k]) || (out[k] as unknown[]).every(isMap))) {
        const merged: Obj[] = Array.isArray(out[k]) ? clone(out[k]) : [];
        for (const item of v as Obj[]) {
          const at = merged.findIndex((m) => m[key] === item[key]);
          if (item.$patch === 'delete') {
            if (at >= 0) merged.splice(at, 1);
          } else if (at >= 0) merged[at] = strategicMergePatch(merged[at], item) as Obj;
          else merged.push(strategicMergePatch(undefined, item) as Obj);
        }
        out[k] = merged;
        continue;
      }
      out[k] = clone(v);
      continue;
    }
    const next = strategicMergePatch(out[k], v);
    if (next === undefined) delete out[k];
    else out[k] = next;
  }
  for (const [f, order] of orders) {
    const list = out[f];
    if (!Array.isArray(list)) continue;
    const key = mergeKeyOf(f, list);
    const rank = (x: unknown) => {
      const id = key && isMap(x) ? x[key] : isMap(order[0]) ? undefined : x;
      const i = order.findIndex((o) => (isMap(o) && key ? o[key] === id : o === id));
      return i < 0 ? order.length : i;
    };
    out[f] = [...list].sort((a, b) => rank(a) - rank(b));
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 JSON patch: add, remove, replace, move, copy, test. */
export function jsonPatch(target: unknown, ops: Obj[]): unknown {
  let doc = clone(target);
  const parentOf = (segs: string[]): [Obj | unknown[], string] => {
    let cur: any = doc; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const s of segs.slice(0, -1)) {
      cur = cur?.[Array.isArray(cur) ? Number(s) : s];
      if (cur === undefined) throw new ApiError(422, 'Invalid', `jsonpatch: missing path ${segs.join('/')}`);
    }
    return [cur, segs[segs.length - 1]];
  };
  const getAt = (path: string): unknown => pointer(path).reduce<any>((c, s) => c?.[Array.isArray(c) ? Number(s) : s], doc); // eslint-disable-line @typescript-eslint/no-explicit-any
  const remove = (path: string) => {
    const [p, last] = parentOf(pointer(path));
    if (Array.isArray(p)) p.splice(Number(last), 1);
    else if (isMap(p) && last in p) delete p[last];
    else throw new ApiError(422, 'Invalid', `jsonpatch remove: missing path ${path}`);
  };
  const add = (path: string, value: unknown) => {
    const segs = pointer(path);
    if (segs.length === 0) {
      doc = clone(value);
      return;
    }
    const [p, last] = parentOf(segs);
    if (Array.isArray(p)) p.splice(last === '-' ? p.length : Number(last), 0, clone(value));
    else (p as Obj)[last] = clone(value);
  };
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        add(op.path, op.value);
        break;
      case 'remove':
        remove(op.path);
        break;
      case 'replace':
        remove(op.path);
        add(op.path, op.value);
        break;
      case 'move': {
        const v = getAt(op.from);
        remove(op.from);
        add(op.path, v);
        break;
      }
      case 'copy':
        add(op.path, getAt(op.from));
        break;
      case 'test':
        if (JSON.stringify(getAt(op.path)) !== JSON.stringify(op.value)) throw new ApiError(422, 'Invalid', `jsonpatch test operation does not apply: ${op.path}`);
        break;
      default:
        throw badRequest(`jsonpatch: unknown op ${String(op.op)}`);
    }
  }
  return doc;
}

/** The leaf paths an applied configuration sets (maps recurse; lists and scalars are leaves). */
function fieldPaths(o: unknown, prefix = ''): string[] {
  if (!isMap(o)) return [prefix];
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) out.push(...fieldPaths(v, prefix ? `${prefix}.${k}` : k));
  return out.length ? out : [prefix];
}

function deletePath(o: Obj, path: string): void {
  const segs = path.split('.');
  const stack: Obj[] = [o];
  for (const s of segs.slice(0, -1)) {
    const next = stack[stack.length - 1][s];
    if (!isMap(next)) return;
    stack.push(next);
  }
  delete stack[stack.length - 1][segs[segs.length - 1]];
  // Drop maps the removal left empty.
  for (let i = stack.length - 1; i > 0; i--) if (Object.keys(stack[i]).length === 0) delete stack[i - 1][segs[i - 1]];
}

/** Merges an applied configuration: maps merge, lists and scalars are replaced (atomic). */
function applyMerge(target: unknown, applied: unknown): unknown {
  if (!isMap(applied) || !isMap(target)) return clone(applied);
  const out = clone(target);
  for (const [k, v] of Object.entries(applied)) out[k] = applyMerge(out[k], v);
  return out;
}

// ---- the server ----------------------------------------------------------------

interface Watcher {
  resource: KubeResource;
  namespace?: string;
  labels: Requirement[];
  fields: FieldReq[];
  send(ev: { type: string; object: Obj }): void;
  end(): void;
}

export async function startKubeApi(options: KubeApiOptions = {}): Promise<KubeApi> {
  const bookmarkMs = options.bookmarkMs ?? 1000;
  const stores = new Map<KubeResource, Map<string, KubeObject>>(KUBE_RESOURCES.map((r) => [r, new Map()]));
  const history: Change[] = [];
  /** Versions at or below this are compacted away. */
  let compacted = 0;
  let rv = 0;
  const watchers = new Set<Watcher>();
  const requests: SeenRequest[] = [];
  let url = '';

  const findResource = (id: string): KubeResource | undefined => KUBE_RESOURCES.find((r) => r.name === id || resourceId(r) === id);

  const record = (c: Change) => {
    history.push(c);
    for (const w of watchers) {
      if (w.resource !== c.resource) continue;
      const ev = eventFor(w, c);
      if (ev) w.send(ev);
    }
  };

  const matches = (w: Pick<Watcher, 'namespace' | 'labels' | 'fields'>, o: KubeObject | undefined) =>
    !!o && (w.namespace === undefined || o.metadata.namespace === w.namespace) && labelsMatch(w.labels, o.metadata.labels) && fieldsMatch(w.fields, o);

  /** The event a watcher sees for a change: selector changes turn MODIFIED into ADDED or DELETED. */
  const eventFor = (w: Watcher, c: Change): { type: string; object: Obj } | undefined => {
    const now = matches(w, c.object);
    if (c.type !== 'MODIFIED') return now ? { type: c.type, object: clone(c.object) } : undefined;
    const before = matches(w, c.old);
    if (now && before) return { type: 'MODIFIED', object: clone(c.object) };
    if (now) return { type: 'ADDED', object: clone(c.object) };
    if (before) return { type: 'DELETED', object: clone(c.object) };
    return undefined;
  };

  /** The objects of a resource as they were at `at` (undoing later changes from the history). */
  const stateAt = (r: KubeResource, at: number): Map<string, KubeObject> => {
    const state = new Map(stores.get(r)!);
    for (let i = history.length - 1; i >= 0 && history[i].rv > at; i--) {
      const c = history[i];
      if (c.resource !== r) continue;
      const k = keyOf(c.object.metadata.namespace, c.object.metadata.name);
      if (c.type === 'ADDED') state.delete(k);
      else state.set(k, c.old!);
    }
    return state;
  };

  const namespaces = KUBE_RESOURCES.find((r) => r.kind === 'Namespace')!;
  const namespaceExists = (ns: string) => stores.get(namespaces)!.has(keyOf(undefined, ns));

  const specChanged = (a: KubeObject, b: KubeObject) => {
    const strip = ({ metadata: _m, status: _s, ...rest }: Obj) => JSON.stringify(rest);
    return strip(a) !== strip(b);
  };

  const create = (r: KubeResource, ns: string | undefined, body: Obj, dryRun = false): KubeObject => {
    if (!isMap(body) || !isMap(body.metadata)) throw badRequest('the object has no metadata');
    const o = clone(body) as KubeObject;
    o.apiVersion = groupVersion(r);
    o.kind = r.kind;
    if (r.namespaced) {
      if (o.metadata.namespace && ns && o.metadata.namespace !== ns)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      o.metadata.namespace = ns ?? o.metadata.namespace;
      if (!o.metadata.namespace) throw badRequest('the server could not find the requested resource: a namespace is needed');
      if (!namespaceExists(o.metadata.namespace))
        throw new ApiError(404, 'NotFound', `namespaces "${o.metadata.namespace}" not found`, { name: o.metadata.namespace, kind: 'namespaces' });
    } else delete o.metadata.namespace;
    if (!o.metadata.name && o.metadata.generateName) o.metadata.name = o.metadata.generateName + randomUUID().slice(0, 5);
    if (!o.metadata.name) throw invalid(r, '', 'metadata.name', 'Required value: name or generateName is required');
    const store = stores.get(r)!;
    const k = keyOf(o.metadata.namespace, o.metadata.name);
    if (store.has(k)) throw new ApiError(409, 'AlreadyExists', `${resourceId(r)} "${o.metadata.name}" already exists`, { name: o.metadata.name, group: r.group, kind: r.name });
    if (o.metadata.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    o.metadata.uid = randomUUID();
    o.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    o.metadata.generation = 1;
    if (r.kind === 'Namespace') o.status = { phase: 'Active', ...(o.status ?? {}) };
    if (r.status && r.custom) delete o.status;
    if (dryRun) return { ...o, metadata: { ...o.metadata, resourceVersion: '' } };
    o.metadata.resourceVersion = String(++rv);
    store.set(k, o);
    record({ rv, type: 'ADDED', resource: r, object: clone(o) });
    return clone(o);
  };

  /** Stores `next` in place of the current object; `precondition` is the resourceVersion the writer read (empty: none). */
  const replace = (r: KubeResource, cur: KubeObject, next: KubeObject, precondition: string | undefined, dryRun = false): KubeObject => {
    const name = cur.metadata.name;
    if (precondition && precondition !== cur.metadata.resourceVersion) throw conflict(r, name);
    if (next.metadata?.name && next.metadata.name !== name) throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
    if (r.namespaced && next.metadata?.namespace && next.metadata.namespace !== cur.metadata.namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const o = clone(next);
    o.apiVersion = groupVersion(r);
    o.kind = r.kind;
    o.metadata = { ...o.metadata, name, uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp, generation: cur.metadata.generation };
    if (r.namespaced) o.metadata.namespace = cur.metadata.namespace;
    else delete o.metadata.namespace;
    if (specChanged(cur, o)) o.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    o.metadata.resourceVersion = cur.metadata.resourceVersion;
    // A write that changes nothing is not a change: same resourceVersion, no event.
    if (JSON.stringify(o) === JSON.stringify(cur) || dryRun) return clone(o);
    o.metadata.resourceVersion = String(++rv);
    stores.get(r)!.set(keyOf(o.metadata.namespace, name), o);
    record({ rv, type: 'MODIFIED', resource: r, object: clone(o), old: cur });
    return clone(o);
  };

  const remove = (r: KubeResource, cur: KubeObject, options: Obj | undefined, dryRun = false): KubeObject => {
    const pre = options?.preconditions;
    if (pre?.uid && pre.uid !== cur.metadata.uid)
      throw new ApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`);
    if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`,
      );
    if (dryRun) return clone(cur);
    if (r.kind === 'Namespace') {
      for (const [nr, store] of stores) {
        if (!nr.namespaced) continue;
        for (const o of [...store.values()]) if (o.metadata.namespace === cur.metadata.name) remove(nr, o, undefined);
      }
    }
    stores.get(r)!.delete(keyOf(cur.metadata.namespace, cur.metadata.name));
    const gone = clone(cur);
    gone.metadata.resourceVersion = String(++rv);
    record({ rv, type: 'DELETED', resource: r, object: gone, old: cur });
    return clone(gone);
  };

  // ---- discovery ----

  const groups = () => {
    const byGroup = new Map<string, Set<string>>();
    for (const r of KUBE_RESOURCES) if (r.group) byGroup.set(r.group, (byGroup.get(r.group) ?? new Set()).add(r.version));
    return [...byGroup].map(([name, versions]) => {
      const vs = [...versions].map((version) => ({ groupVersion: `${name}/${version}`, version }));
      return { name, versions: vs, preferredVersion: vs[0] };
    });
  };

  const resourceList = (gv: string) => {
    const rs = KUBE_RESOURCES.filter((r) => groupVersion(r) === gv);
    if (rs.length === 0) return undefined;
    const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: gv,
      resources: rs.flatMap((r) => [
        {
          name: r.name,
          singularName: r.singular,
          namespaced: r.namespaced,
          kind: r.kind,
          verbs,
          ...(r.shortNames ? { shortNames: r.shortNames } : {}),
          ...(r.categories ? { categories: r.categories } : {}),
        },
        ...(r.status ? [{ name: `${r.name}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }] : []),
      ]),
    };
  };

  /**
   * OpenAPI v3, only what kubectl's field validation looks for: per
   * group/version, the PATCH operation of each kind (x-kubernetes-group-version-kind)
   * with the fieldValidation parameter (kubectl reads the operation's parameters). kubectl then leaves validation to the
   * server (fieldValidation=Strict) instead of downloading schemas; no schemas
   * are served (kubectl explain does not work).
   */
  const openApiIndex = () => ({
    paths: Object.fromEntries(
      [...new Set(KUBE_RESOURCES.map((r) => (r.group ? `apis/${groupVersion(r)}` : 'api/v1')))].map((p) => [p, { serverRelativeURL: `/openapi/v3/${p}?hash=0` }]),
    ),
  });
  const openApiDoc = (gvPath: string) => {
    const rs = KUBE_RESOURCES.filter((r) => (r.group ? `apis/${groupVersion(r)}` : 'api/v1') === gvPath);
    if (rs.length === 0) return undefined;
    const param = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
    return {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: options.gitVersion ?? 'v1.32.0' },
      paths: Object.fromEntries(
        rs.map((r) => [
          `/${gvPath}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.name}/{name}`,
          {
            patch: {
              operationId: `patch${r.kind}`,
              parameters: [param('dryRun'), param('fieldManager'), param('fieldValidation')],
              'x-kubernetes-action': 'patch',
              'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
              responses: { '200': { description: 'OK' } },
            },
          },
        ]),
      ),
      components: { schemas: {} },
    };
  };

  // ---- requests ----

  const wantsTable = (accept: string) => /as=Table/.test(accept);

  const age = (ts: string | undefined) => {
    if (!ts) return '<unknown>';
    const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
    return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
  };

  const table = (items: KubeObject[], listRv: string, cont?: string): Obj => ({
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: listRv, ...(cont ? { continue: cont } : {}) },
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
      { name: 'Age', type: 'string', format: '', description: 'CreationTimestamp of the object.', priority: 0 },
    ],
    rows: items.map((o) => ({
      cells: [o.metadata.name, age(o.metadata.creationTimestamp)],
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: clone(o.metadata) },
    })),
  });

  const encodeContinue = (at: number, after: string) => Buffer.from(JSON.stringify({ v: 'kube-api/v1', rv: at, start: after })).toString('base64url');
  const decodeContinue = (token: string): { rv: number; start: string } => {
    try {
      const t = JSON.parse(Buffer.from(token, 'base64url').toString());
      if (typeof t.rv === 'number' && typeof t.start === 'string') return t;
    } catch {
      /* below */
    }
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  };

  const list = (r: KubeResource, ns: string | undefined, q: URLSearchParams, accept: string): Obj => {
    const labels = parseLabelSelector(q.get('labelSelector') ?? '');
    const fields = parseFieldSelector(r, q.get('fieldSelector') ?? '');
    const limit = Number(q.get('limit') ?? 0);
    const token = q.get('continue');
    let at = rv;
    let after = '';
    if (token) {
      const t = decodeContinue(token);
      if (t.rv < compacted)
        throw expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      at = t.rv;
      after = t.start;
    } else if (q.get('resourceVersionMatch') === 'Exact' && q.get('resourceVersion')) {
      at = Number(q.get('resourceVersion'));
      if (at < compacted) throw expired(`too old resource version: ${at} (${compacted + 1})`);
    }
    const state = at === rv ? stores.get(r)! : stateAt(r, at);
    const all = [...state.entries()]
      .filter(([k, o]) => k > after && matches({ namespace: ns, labels, fields }, o))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const page = limit > 0 ? all.slice(0, limit) : all;
    const more = limit > 0 && all.length > limit;
    const cont = more ? encodeContinue(at, page[page.length - 1][0]) : undefined;
    const items = page.map(([, o]) => clone(o));
    if (wantsTable(accept)) return table(items, String(at), cont);
    return {
      kind: `${r.kind}List`,
      apiVersion: groupVersion(r),
      metadata: { resourceVersion: String(at), ...(cont ? { continue: cont, remainingItemCount: all.length - limit } : {}) },
      items,
    };
  };

  const watch = (r: KubeResource, ns: string | undefined, q: URLSearchParams, accept: string, res: ServerResponse) => {
    const labels = parseLabelSelector(q.get('labelSelector') ?? '');
    const fields = parseFieldSelector(r, q.get('fieldSelector') ?? '');
    const from = q.get('resourceVersion') ?? '';
    const asTable = wantsTable(accept);
    const initialEvents = q.get('sendInitialEvents') === 'true';
    if (initialEvents && q.get('allowWatchBookmarks') !== 'true') throw invalid(r, '', 'allowWatchBookmarks', 'Forbidden: sendInitialEvents requires allowWatchBookmarks');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
    res.flushHeaders();
    let open = true;
    let timer: NodeJS.Timeout | undefined;
    let timeout: NodeJS.Timeout | undefined;
    const w: Watcher = {
      resource: r,
      namespace: ns,
      labels,
      fields,
      send(ev) {
        if (!open) return;
        const object = asTable && ev.type !== 'ERROR' && ev.type !== 'BOOKMARK' ? table([ev.object as KubeObject], ev.object.metadata.resourceVersion) : ev.object;
        res.write(JSON.stringify({ type: ev.type, object }) + '\n');
      },
      end() {
        if (!open) return;
        open = false;
        watchers.delete(w);
        clearInterval(timer);
        clearTimeout(timeout);
        res.end();
      },
    };
    // The response's close, not the request's: that one fires once the (empty) body is read.
    res.on('close', () => {
      open = false;
      watchers.delete(w);
      clearInterval(timer);
      clearTimeout(timeout);
    });
    const start = Number(from);
    // Events after `start` are needed; those at or below `compacted` are gone.
    if (from && from !== '0' && start < compacted) {
      w.send({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${compacted + 1})`) });
      w.end();
      return;
    }
    const bookmark = (annotations?: Record<string, string>) =>
      w.send({ type: 'BOOKMARK', object: { kind: r.kind, apiVersion: groupVersion(r), metadata: { resourceVersion: String(rv), ...(annotations ? { annotations } : {}) } } });
    // sendInitialEvents (streaming lists): the current state as ADDED events, then a bookmark marking its end.
    if (!from || from === '0' || initialEvents) {
      for (const [, o] of [...stores.get(r)!.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) if (matches(w, o)) w.send({ type: 'ADDED', object: clone(o) });
      if (initialEvents) bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      for (const c of history) if (c.rv > start && c.resource === r) {
        const ev = eventFor(w, c);
        if (ev) w.send(ev);
      }
    }
    watchers.add(w);
    if (q.get('allowWatchBookmarks') === 'true') {
      timer = setInterval(() => bookmark(), bookmarkMs);
    }
    const secs = Number(q.get('timeoutSeconds') ?? 0);
    if (secs > 0) timeout = setTimeout(() => w.end(), secs * 1000);
  };

  const parseBody = (text: string, contentType: string): unknown => {
    if (!text) return undefined;
    // kubectl's typed clients (create namespace, ...) send protobuf; only JSON and YAML are understood here.
    if (contentType.includes('protobuf'))
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
    try {
      return contentType.includes('yaml') ? parseYaml(text) : JSON.parse(text);
    } catch (e) {
      throw badRequest(`the body of the request could not be decoded: ${(e as Error).message}`);
    }
  };

  /** Server-side apply: create, or merge the applied configuration, dropping fields this manager applied before and no longer does. */
  const apply = (r: KubeResource, ns: string | undefined, name: string, cur: KubeObject | undefined, body: Obj, manager: string, dryRun: boolean): KubeObject => {
    if (!manager) throw badRequest('PATCH requests with apply content type must set fieldManager');
    if (body.metadata?.name && body.metadata.name !== name) throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    const fields = fieldPaths(body).filter((p) => !['apiVersion', 'kind', 'metadata.name', 'metadata.namespace'].includes(p));
    const entry = { manager, operation: 'Apply', apiVersion: groupVersion(r), time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), fieldsType: 'FieldsV1', fieldsV1: { paths: fields } };
    if (!cur) {
      const created = create(r, ns, { ...clone(body), metadata: { ...(body.metadata ?? {}), name, managedFields: [entry] } }, dryRun);
      return created;
    }
    const next = clone(cur);
    const prior = cur.metadata.managedFields?.find((m) => m.manager === manager && m.operation === 'Apply');
    for (const p of (prior?.fieldsV1?.paths as string[] | undefined) ?? []) if (!fields.includes(p)) deletePath(next, p);
    const { resourceVersion: pre, ...meta } = body.metadata ?? {};
    const merged = applyMerge(next, { ...body, metadata: meta }) as KubeObject;
    merged.metadata.managedFields = [...(cur.metadata.managedFields ?? []).filter((m) => !(m.manager === manager && m.operation === 'Apply')), entry];
    return replace(r, cur, merged, pre as string | undefined, dryRun);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const accept = String(req.headers.accept ?? '');
    const contentType = String(req.headers['content-type'] ?? '');
    requests.push({ method, path: u.pathname, query: Object.fromEntries(u.searchParams), contentType, accept });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = u.pathname.replace(/\/+$/, '') || '/';
    const q = u.searchParams;

    if (method === 'GET') {
      if (path === '/version')
        return send(200, {
          major: '1',
          minor: (options.gitVersion ?? 'v1.32.0').split('.')[1],
          gitVersion: options.gitVersion ?? 'v1.32.0',
          gitCommit: 'beeline-kube-api',
          gitTreeState: 'clean',
          buildDate: '2026-01-01T00:00:00Z',
          goVersion: 'go1.23',
          compiler: 'gc',
          platform: 'linux/amd64',
        });
      if (path === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: url.slice('http://'.length) }] });
      if (path === '/apis') return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: groups() });
      if (path === '/healthz' || path === '/readyz' || path === '/livez') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end('ok');
      }
      if (path === '/openapi/v3') return send(200, openApiIndex());
      const om = path.match(/^\/openapi\/v3\/(api\/v1|apis\/[^/]+\/[^/]+)$/);
      if (om) {
        const doc = openApiDoc(om[1]);
        if (doc) return send(200, doc);
      }
      const gm = path.match(/^\/apis\/([^/]+)$/);
      if (gm) {
        const g = groups().find((x) => x.name === gm[1]);
        if (g) return send(200, { kind: 'APIGroup', apiVersion: 'v1', ...g });
      }
      const lm = path.match(/^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))$/);
      if (lm) {
        const l = resourceList(lm[1] ?? lm[2]);
        if (l) return send(200, l);
      }
    }

    // /api/v1[/namespaces/<ns>]/<resource>[/<name>[/status]] and /apis/<g>/<v>/...
    const m = path.match(/^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+)(?=\/))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/);
    const r = m && KUBE_RESOURCES.find((x) => x.name === m[5] && groupVersion(x) === (m[1] ?? `${m[2]}/${m[3]}`));
    if (!m || !r) return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const ns = r.namespaced ? m[4] : undefined;
    const name = m[6] ? decodeURIComponent(m[6]) : undefined;
    const sub = m[7];
    if (sub && (sub !== 'status' || !r.status)) return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const store = stores.get(r)!;
    const dryRun = q.has('dryRun');
    const current = () => {
      const o = name ? store.get(keyOf(ns, name)) : undefined;
      if (!o) throw notFound(r, name ?? '');
      return o;
    };

    if (!name) {
      if (method === 'GET') {
        if (q.get('watch') === 'true' || q.get('watch') === '1') return watch(r, ns, q, accept, res);
        return send(200, list(r, ns, q, accept));
      }
      if (method === 'POST') {
        const o = create(r, ns, parseBody(text, contentType) as Obj, dryRun);
        return send(201, o);
      }
      if (method === 'DELETE') {
        const l = list(r, ns, q, '');
        const items = (l.items as KubeObject[]).map((o) => remove(r, store.get(keyOf(o.metadata.namespace, o.metadata.name))!, undefined, dryRun));
        return send(200, { kind: `${r.kind}List`, apiVersion: groupVersion(r), metadata: { resourceVersion: String(rv) }, items });
      }
      return send(405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
    }

    if (method === 'GET') {
      const o = current();
      return send(200, wantsTable(accept) ? table([o], o.metadata.resourceVersion!) : o);
    }
    if (method === 'PUT') {
      const cur = current();
      const body = parseBody(text, contentType) as KubeObject;
      if (!isMap(body) || !isMap(body.metadata)) throw badRequest('the object has no metadata');
      const pre = body.metadata.resourceVersion;
      if (!pre && r.custom) throw invalid(r, name, 'metadata.resourceVersion', 'Invalid value: 0x0: must be specified for an update');
      const next = sub === 'status' ? { ...clone(cur), status: body.status } : r.status ? { ...body, status: cur.status } : body;
      if (sub === 'status') next.metadata = { ...cur.metadata, resourceVersion: pre };
      return send(200, replace(r, cur, next as KubeObject, pre, dryRun));
    }
    if (method === 'PATCH') {
      const patch = parseBody(text, contentType);
      const ct = contentType.split(';')[0].trim();
      if (ct === 'application/apply-patch+yaml') {
        if (sub) throw badRequest('server-side apply of a subresource is not supported here');
        return send(store.has(keyOf(ns, name)) ? 200 : 201, apply(r, ns, name, store.get(keyOf(ns, name)), patch as Obj, q.get('fieldManager') ?? '', dryRun));
      }
      const cur = current();
      let next: unknown;
      if (ct === 'application/merge-patch+json') next = mergePatch(cur, patch);
      else if (ct === 'application/strategic-merge-patch+json') {
        if (r.custom) throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
        next = strategicMergePatch(cur, patch);
      } else if (ct === 'application/json-patch+json') {
        if (!Array.isArray(patch)) throw badRequest('json patch: the body must be an array of operations');
        next = jsonPatch(cur, patch as Obj[]);
      } else throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
      const n = next as KubeObject;
      if (!isMap(n) || !isMap(n.metadata)) throw badRequest('the patch removed the metadata');
      const pre = isMap(patch) && isMap(patch.metadata) ? (patch.metadata.resourceVersion as string | undefined) : undefined;
      if (sub === 'status') return send(200, replace(r, cur, { ...clone(cur), status: n.status }, pre, dryRun));
      if (r.status) n.status = cur.status;
      return send(200, replace(r, cur, n, pre, dryRun));
    }
    if (method === 'DELETE') {
      const cur = current();
      remove(r, cur, parseBody(text, 'application/json') as Obj | undefined, dryRun);
      return send(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: r.group, kind: r.name, uid: cur.metadata.uid } });
    }
    return send(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      const err = e instanceof ApiError ? e : new ApiError(500, 'InternalError', `an error on the server has prevented the request from succeeding: ${(e as Error).message}`);
      if (res.headersSent) return res.end();
      res.writeHead(err.code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status(err.code, err.reason, err.message, err.details)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  for (const ns of ['default', 'kube-system']) create(namespaces, undefined, { metadata: { name: ns } });

  const kubeconfig = writeTestKubeconfig(url, 'kube-api', 'test', 'default');

  return {
    url,
    kubeconfig,
    requests,
    resourceVersion: () => String(rv),
    seed(object) {
      const r = KUBE_RESOURCES.find((x) => x.kind === object.kind && (!object.apiVersion || groupVersion(x) === object.apiVersion));
      if (!r) throw new Error(`kube-api: no resource serves kind ${String(object.kind)}`);
      return create(r, r.namespaced ? (object.metadata?.namespace ?? 'default') : undefined, object);
    },
    get(resource, namespace, name) {
      const r = findResource(resource);
      if (!r) throw new Error(`kube-api: no resource ${resource}`);
      const o = stores.get(r)!.get(keyOf(r.namespaced ? namespace : undefined, name));
      return o && clone(o);
    },
    compact(upTo) {
      compacted = Math.max(compacted, upTo === undefined ? rv : Number(upTo));
      while (history.length && history[0].rv <= compacted) history.shift();
    },
    endWatches() {
      for (const w of [...watchers]) w.end();
    },
    openWatches: () => watchers.size,
    async close() {
      for (const w of [...watchers]) w.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dirname(kubeconfig), { recursive: true, force: true });
    },
  };
}
