/**
 * The Kubernetes manifests of deploy/kubernetes/ as objects, and the checks
 * that can run without an API server: `kubectl kustomize` renders them (kubectl
 * has no offline `apply --dry-run`: client-side dry runs still ask the server
 * for its API groups), a structural check of the built-in kinds (references
 * between objects: volumes, ConfigMap keys, role bindings, selectors), and
 * the fields and types of built-in kinds against Kubernetes' own OpenAPI
 * models (as @kubernetes/client-node generates them: every field name, its
 * type, nested to the leaves, so a misspelt or misplaced field fails as
 * kubectl's strict validation would fail it), and validation of custom
 * objects against a CRD's own openAPIV3Schema, the way
 * the API server would (types, required, enums, formats, anyOf/oneOf, unknown
 * fields refused unless the schema preserves them, as kubectl's strict field
 * validation does).
 */
import { accessSync, constants } from 'node:fs';
import * as k8sModels from '@kubernetes/client-node';
import { delimiter, join } from 'node:path';
import { isRecord } from '../common/json.js';
import { run } from '../common/exec.js';
import { repoRoot } from '../common/version.js';
import { parseManifest } from '../k8s/parse.js';
import { parseCidr } from '../ipam/cidr.js';

/** The kustomization `kubectl apply -k` takes. */
export const KUSTOMIZE_DIR = join(repoRoot, 'deploy', 'kubernetes');

export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } & Record<string, unknown> };

/** kubectl's path on PATH, or undefined. */
export function findKubectl(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'kubectl');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** `kubectl kustomize dir`, parsed. Throws CommandError when kubectl fails. */
export function renderKustomization(kubectl: string, dir = KUSTOMIZE_DIR): K8sObject[] {
  const out = run(kubectl, ['kustomize', dir], { operation: `kubectl kustomize ${dir}` });
  return parseManifest(out.stdout, 'kustomize').map((d) => d.object as K8sObject);
}

/** The object of `kind` named `name` (undefined when absent). */
export function findObject(objects: readonly K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata?.name === name);
}

// ---- built-in kinds: fields the API server requires, references between objects ----

const CLUSTER_SCOPED = new Set(['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'Namespace', 'PriorityClass']);

const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});
const arr = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isRecord) : []);

/**
 * Problems of a rendered set of objects, as `Kind/name: message`: identity
 * fields, namespaces, workloads (selector matching the template, containers
 * with a name and an image, every volumeMount naming a volume, every
 * ConfigMap key an env var or volume reads present in a rendered ConfigMap,
 * the service account rendered), bindings (role and subjects rendered).
 */
export function checkObjects(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata?.name}`;
    const p = (m: string) => problems.push(`${id}: ${m}`);
    if (typeof o.apiVersion !== 'string' || !o.apiVersion) p('no apiVersion');
    if (typeof o.kind !== 'string' || !o.kind) p('no kind');
    if (!isRecord(o.metadata) || typeof o.metadata.name !== 'string' || !o.metadata.name) p('no metadata.name');
    const key = `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
    if (seen.has(key)) p('rendered twice');
    seen.add(key);
    for (const e of validateBuiltin(o)) p(e);
    if (CLUSTER_SCOPED.has(o.kind) && o.metadata?.namespace) p(`cluster-scoped, yet has namespace ${o.metadata.namespace}`);
    if (!CLUSTER_SCOPED.has(o.kind) && !o.metadata?.namespace) p('namespaced, yet has no namespace');
    if (o.kind === 'DaemonSet' || o.kind === 'Deployment') checkWorkload(o, objects, p);
    if (o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') checkBinding(o, objects, p);
    if (o.kind === 'CustomResourceDefinition') checkCrd(o, p);
    if (o.kind === 'ConfigMap' && !isRecord(o.data)) p('no data');
  }
  return problems;
}

// ---- built-in kinds against Kubernetes' OpenAPI models ----

interface AttributeType {
  baseName: string;
  type: string;
}
type Model = { getAttributeTypeMap(): AttributeType[] };

function model(name: string): Model | undefined {
  const m = (k8sModels as unknown as Record<string, unknown>)[name];
  const c = m as Partial<Model> | undefined;
  return typeof m === 'function' && typeof c?.getAttributeTypeMap === 'function' ? (c as Model) : undefined;
}

/** The generated model of a built-in kind at a `v1` apiVersion (`apps/v1` DaemonSet → V1DaemonSet). */
export function builtinModel(apiVersion: string, kind: string): Model | undefined {
  return apiVersion === 'v1' || apiVersion.endsWith('/v1') ? model(`V1${kind}`) : undefined;
}

/**
 * Field names and types of a built-in object, against its model: unknown
 * fields, wrong types, nested all the way down. Kinds without a model (custom
 * resources) are validateCustomObject's.
 */
export function validateBuiltin(o: Record<string, unknown>): string[] {
  const m = builtinModel(String(o.apiVersion), String(o.kind));
  if (!m) return [];
  const errs: string[] = [];
  checkModelValue(o, `V1${String(o.kind)}`, '', errs);
  return errs;
}

function checkModelValue(v: unknown, type: string, path: string, errs: string[]): void {
  const where = path || '<root>';
  const arrayOf = /^Array<(.+)>$/.exec(type);
  const mapOf = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (type === 'any' || type === 'object') return;
  if (arrayOf) {
    if (!Array.isArray(v)) errs.push(`${where}: must be a list`);
    else v.forEach((x, i) => checkModelValue(x, arrayOf[1]!, `${path}[${i}]`, errs));
    return;
  }
  if (mapOf) {
    if (!isRecord(v)) errs.push(`${where}: must be a map`);
    else for (const [k, x] of Object.entries(v)) checkModelValue(x, mapOf[1]!, `${path}.${k}`, errs);
    return;
  }
  switch (type) {
    case 'string':
      if (typeof v !== 'string') errs.push(`${where}: must be a string`);
      return;
    case 'number':
      if (typeof v !== 'number') errs.push(`${where}: must be a number`);
      return;
    case 'boolean':
      if (typeof v !== 'boolean') errs.push(`${where}: must be a boolean`);
      return;
    case 'Date':
      if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) errs.push(`${where}: must be an RFC 3339 time`);
      return;
    case 'IntOrString':
      if (typeof v !== 'string' && !Number.isInteger(v)) errs.push(`${where}: must be an integer or a string`);
      return;
  }
  const m = model(type);
  if (!m) {
    errs.push(`${where}: no model ${type}`);
    return;
  }
  if (!isRecord(v)) {
    errs.push(`${where}: must be an object`);
    return;
  }
  const fields = new Map(m.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, x] of Object.entries(v)) {
    const t = fields.get(k);
    const at = path ? `${path}.${k}` : k;
    if (t === undefined) errs.push(`${at}: unknown field`);
    else checkModelValue(x, t, at, errs);
  }
}

function checkWorkload(o: K8sObject, objects: readonly K8sObject[], p: (m: string) => void): void {
  const spec = rec(o.spec);
  const tmpl = rec(spec.template);
  const labels = rec(rec(tmpl.metadata).labels);
  const match = rec(rec(spec.selector).matchLabels);
  if (Object.keys(match).length === 0) p('spec.selector.matchLabels is empty');
  for (const [k, v] of Object.entries(match)) if (labels[k] !== v) p(`spec.selector.matchLabels ${k}=${String(v)} does not match the template's labels`);
  const pod = rec(tmpl.spec);
  const ns = o.metadata.namespace;
  const sa = pod.serviceAccountName;
  if (typeof sa === 'string' && !objects.some((x) => x.kind === 'ServiceAccount' && x.metadata.name === sa && x.metadata.namespace === ns)) p(`service account ${sa} is not rendered in ${ns}`);
  const volumes = new Map(arr(pod.volumes).map((v) => [String(v.name), v]));
  for (const v of volumes.values()) {
    const cm = rec(v.configMap).name;
    if (typeof cm === 'string' && !findObject(objects, 'ConfigMap', cm)) p(`volume ${String(v.name)}: ConfigMap ${cm} is not rendered`);
  }
  const containers = [...arr(pod.initContainers), ...arr(pod.containers)];
  if (arr(pod.containers).length === 0) p('no containers');
  for (const c of containers) {
    const cn = String(c.name ?? '?');
    if (typeof c.name !== 'string' || !c.name) p('a container has no name');
    if (typeof c.image !== 'string' || !c.image) p(`container ${cn}: no image`);
    for (const m of arr(c.volumeMounts)) {
      if (!volumes.has(String(m.name))) p(`container ${cn}: volumeMount ${String(m.name)} names no volume`);
      if (typeof m.mountPath !== 'string' || !m.mountPath.startsWith('/')) p(`container ${cn}: volumeMount ${String(m.name)}: mountPath must be absolute`);
    }
    for (const e of arr(c.env)) {
      const ref = rec(rec(e.valueFrom).configMapKeyRef);
      if (typeof ref.name !== 'string') continue;
      const cm = findObject(objects, 'ConfigMap', ref.name);
      if (!cm) p(`container ${cn}: env ${String(e.name)}: ConfigMap ${ref.name} is not rendered`);
      else if (!(String(ref.key) in rec(cm.data))) p(`container ${cn}: env ${String(e.name)}: ConfigMap ${ref.name} has no key ${String(ref.key)}`);
    }
  }
}

function checkBinding(o: K8sObject, objects: readonly K8sObject[], p: (m: string) => void): void {
  const role = rec(o.roleRef);
  if (!findObject(objects, String(role.kind), String(role.name))) p(`roleRef ${String(role.kind)}/${String(role.name)} is not rendered`);
  const subjects = arr(o.subjects);
  if (subjects.length === 0) p('no subjects');
  for (const s of subjects) {
    if (s.kind !== 'ServiceAccount') continue;
    if (!objects.some((x) => x.kind === 'ServiceAccount' && x.metadata.name === s.name && x.metadata.namespace === s.namespace)) p(`subject ServiceAccount ${String(s.namespace)}/${String(s.name)} is not rendered`);
  }
}

function checkCrd(o: K8sObject, p: (m: string) => void): void {
  const spec = rec(o.spec);
  const names = rec(spec.names);
  if (o.metadata.name !== `${String(names.plural)}.${String(spec.group)}`) p(`name must be <plural>.<group>, ${String(names.plural)}.${String(spec.group)}`);
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') p(`scope ${String(spec.scope)}`);
  const versions = arr(spec.versions);
  if (versions.filter((v) => v.storage === true).length !== 1) p('exactly one version must be the storage version');
  for (const v of versions) {
    const schema = rec(v.schema).openAPIV3Schema;
    if (!isRecord(schema)) p(`version ${String(v.name)}: no openAPIV3Schema`);
    else for (const e of structuralProblems(schema, 'openAPIV3Schema')) p(`version ${String(v.name)}: ${e}`);
  }
}

/** Keys a value-validation branch (allOf/anyOf/oneOf/not) may not carry in a structural schema. */
const BRANCH_FORBIDDEN = ['type', 'additionalProperties', 'description', 'default', 'nullable', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource'];

/**
 * Where a CRD schema is not structural (the API server refuses such a CRD):
 * a field without a type (unless it preserves unknown fields or is
 * int-or-string), a root that is not an object, a logical branch that
 * declares types or defaults instead of only constraining.
 */
export function structuralProblems(schema: Record<string, unknown>, path: string, root = true): string[] {
  const out: string[] = [];
  if (root && schema.type !== 'object') out.push(`${path}: the root must be type: object`);
  const typeless = schema['x-kubernetes-preserve-unknown-fields'] === true || schema['x-kubernetes-int-or-string'] === true;
  if (!root && !typeless && typeof schema.type !== 'string') out.push(`${path}: no type`);
  for (const [k, sub] of Object.entries(rec(schema.properties))) if (isRecord(sub) && !(root && k === 'metadata' && sub.type === 'object')) out.push(...structuralProblems(sub, `${path}.properties.${k}`, false));
  if (isRecord(schema.items)) out.push(...structuralProblems(schema.items, `${path}.items`, false));
  if (isRecord(schema.additionalProperties)) out.push(...structuralProblems(schema.additionalProperties, `${path}.additionalProperties`, false));
  for (const logic of ['allOf', 'anyOf', 'oneOf'] as const) {
    arr(schema[logic]).forEach((b, i) => {
      for (const f of BRANCH_FORBIDDEN) if (f in b) out.push(`${path}.${logic}[${i}]: ${f} is not allowed in a ${logic} branch`);
    });
  }
  return out;
}

// ---- custom objects against a CRD's openAPIV3Schema ----

/** The openAPIV3Schema of `version` of a CRD object (undefined when it has none). */
export function crdSchema(crd: K8sObject, version: string): Record<string, unknown> | undefined {
  const v = arr(rec(crd.spec).versions).find((x) => x.name === version);
  const s = rec(v?.schema).openAPIV3Schema;
  return isRecord(s) ? s : undefined;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function formatError(format: string, v: string): string | undefined {
  if (format === 'ipv4') return IPV4.test(v) ? undefined : 'not an IPv4 address';
  if (format === 'cidr') {
    if (v.includes(':')) return /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(v) ? undefined : 'not a CIDR';
    try {
      parseCidr(v);
      return undefined;
    } catch {
      return 'not a CIDR';
    }
  }
  if (format === 'date-time') return Number.isNaN(Date.parse(v)) ? 'not an RFC 3339 date-time' : undefined;
  return undefined;
}

function typeError(type: unknown, v: unknown, intOrString: boolean): string | undefined {
  if (intOrString) return Number.isInteger(v) || typeof v === 'string' ? undefined : 'must be an integer or a string';
  switch (type) {
    case undefined:
      return undefined;
    case 'object':
      return isRecord(v) ? undefined : 'must be an object';
    case 'array':
      return Array.isArray(v) ? undefined : 'must be an array';
    case 'string':
      return typeof v === 'string' ? undefined : 'must be a string';
    case 'integer':
      return Number.isInteger(v) ? undefined : 'must be an integer';
    case 'number':
      return typeof v === 'number' ? undefined : 'must be a number';
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'must be a boolean';
    default:
      return `schema type ${String(type)} is not known here`;
  }
}

/**
 * Validates `value` against an OpenAPI v3 schema as a CRD uses it. `strict`:
 * fields the schema does not name are errors (kubectl's default
 * --validate=strict) unless x-kubernetes-preserve-unknown-fields; anyOf/oneOf
 * branches are checked without it (they may only constrain, not declare).
 */
export function validateAgainstSchema(value: unknown, schema: Record<string, unknown>, path = '', strict = true): string[] {
  const errs: string[] = [];
  const at = (f: string | number) => (typeof f === 'number' ? `${path}[${f}]` : path ? `${path}.${f}` : f);
  const where = path || '<root>';
  const te = typeError(schema.type, value, schema['x-kubernetes-int-or-string'] === true);
  if (te) return [`${where}: ${te}`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errs.push(`${where}: must be one of ${schema.enum.map(String).join(', ')}`);
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) errs.push(`${where}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) errs.push(`${where}: longer than ${schema.maxLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) errs.push(`${where}: does not match ${schema.pattern}`);
    const fe = typeof schema.format === 'string' ? formatError(schema.format, value) : undefined;
    if (fe) errs.push(`${where}: ${fe}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errs.push(`${where}: less than ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errs.push(`${where}: more than ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) errs.push(`${where}: fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) errs.push(`${where}: more than ${schema.maxItems} items`);
    if (isRecord(schema.items)) value.forEach((x, i) => errs.push(...validateAgainstSchema(x, schema.items as Record<string, unknown>, at(i), strict)));
  }
  if (isRecord(value)) {
    const props = rec(schema.properties);
    for (const r of Array.isArray(schema.required) ? schema.required : []) if (!(String(r) in value)) errs.push(`${at(String(r))}: required`);
    for (const [k, v] of Object.entries(value)) {
      if (isRecord(props[k])) errs.push(...validateAgainstSchema(v, props[k], at(k), strict));
      else if (isRecord(schema.additionalProperties)) errs.push(...validateAgainstSchema(v, schema.additionalProperties, at(k), strict));
      else if (strict && schema['x-kubernetes-preserve-unknown-fields'] !== true && schema.additionalProperties !== true) errs.push(`${at(k)}: unknown field`);
    }
  }
  const branch = (s: unknown) => (isRecord(s) ? validateAgainstSchema(value, s, path, false).length === 0 : false);
  if (Array.isArray(schema.allOf)) for (const s of schema.allOf) if (isRecord(s)) errs.push(...validateAgainstSchema(value, s, path, false));
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some(branch)) errs.push(`${where}: matches none of anyOf (${branchNames(schema.anyOf)})`);
  if (Array.isArray(schema.oneOf)) {
    const n = schema.oneOf.filter(branch).length;
    if (n !== 1) errs.push(`${where}: must match exactly one of oneOf (${branchNames(schema.oneOf)}), matches ${n}`);
  }
  return errs;
}

/** `required: ingress | required: egress` for messages. */
function branchNames(branches: unknown[]): string {
  return branches.map((b) => (isRecord(b) && Array.isArray(b.required) ? `required: ${b.required.join(',')}` : '…')).join(' | ');
}

/**
 * Validates a custom object against the rendered CRD that serves its kind
 * and apiVersion: the CRD must exist, the version be served, the scope match
 * (a namespace on a namespaced kind only), and the object pass the schema.
 * `metadata` is the API server's, not the schema's: only its name is checked.
 */
export function validateCustomObject(o: Record<string, unknown>, crds: readonly K8sObject[]): string[] {
  const [group, version] = String(o.apiVersion).split('/');
  const crd = crds.find((c) => c.kind === 'CustomResourceDefinition' && rec(c.spec).group === group && rec(rec(c.spec).names).kind === o.kind);
  const id = `${String(o.kind)}/${String(rec(o.metadata).name)}`;
  if (!crd) return [`${id}: no CRD serves ${String(o.apiVersion)} ${String(o.kind)}`];
  const v = arr(rec(crd.spec).versions).find((x) => x.name === version);
  if (!v || v.served !== true) return [`${id}: ${crd.metadata.name} does not serve version ${String(version)}`];
  const errs: string[] = [];
  const meta = rec(o.metadata);
  if (typeof meta.name !== 'string' || !meta.name) errs.push('metadata.name: required');
  if (rec(crd.spec).scope === 'Cluster' && meta.namespace) errs.push(`metadata.namespace: ${String(o.kind)} is cluster-scoped`);
  const schema = crdSchema(crd, String(version))!;
  const { metadata: _m, ...rest } = o;
  const { metadata: _s, ...props } = rec(schema.properties);
  errs.push(...validateAgainstSchema(rest, { ...schema, properties: props, required: (Array.isArray(schema.required) ? schema.required : []).filter((r) => r !== 'metadata') }));
  return errs.map((e) => `${id}: ${e}`);
}
