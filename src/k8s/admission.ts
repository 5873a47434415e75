/**
 * What the API server checks and fills in when objects are written, beyond
 * their schema (validate.ts), pure: the cluster as it is in, issues and
 * completed objects out. In the lab the store has no API server in front of
 * it, so `apply` runs this before its one atomic batch:
 *
 *  - every namespaced object's namespace exists, or is created in the same batch;
 *  - a Service gets a cluster IP from the service CIDR (kept across re-applies:
 *    the field is immutable), a requested one must be in range and free;
 *  - a NodePort or LoadBalancer Service's ports get node ports from
 *    30000-32767 (kept across re-applies), a requested one in range and free;
 *  - a Pod's spec.nodeName names a node that exists (the lab refuses at once
 *    what a cluster would leave Pending forever);
 *  - an existing Pod's spec does not change (it is immutable, bar what the
 *    lab does not support changing), and its binding (spec.nodeName, set by
 *    the scheduler) is kept when the manifest leaves it out, as kubectl's
 *    merge keeps it.
 */
import { canonicalJSON } from '../common/canonical.js';
import type { ValidationIssue } from '../common/errors.js';
import { formatIPv4, parseCidr, tryParseIPv4 } from '../ipam/cidr.js';

/** The objects admission reads, as stored. */
export interface ClusterView {
  namespaces: string[];
  nodes: string[];
  /** Every stored Service: namespace, name, clusterIP, the node ports it holds. */
  services: { namespace: string; name: string; clusterIP?: string; nodePorts?: number[] }[];
  serviceCIDR: string;
}

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: any;
}

const headless = (ip: unknown) => ip === 'None';


/**
 * Checks `objects` (one file) against the cluster and allocates what the API
 * server would. Mutates the objects it completes; answers the issues (empty:
 * admitted). `rand` picks among free addresses (Kubernetes allocates at random).
 */
export function admit(objects: Obj[], sources: string[], view: ClusterView, current: ({ spec?: any } | undefined)[] = [], rand: () => number = Math.random): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const namespaces = new Set([...view.namespaces, ...objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)]);
  const nodes = new Set(view.nodes);
  const cidr = parseCidr(view.serviceCIDR, 'service CIDR');
  const taken = new Map<number, string>();
  for (const s of view.services) {
    const n = s.clusterIP ? tryParseIPv4(s.clusterIP) : undefined;
    if (n !== undefined) taken.set(n, `${s.namespace}/${s.name}`);
  }
  const clusterIPs = new Map(view.services.map((s) => [`${s.namespace}/${s.name}`, s.clusterIP]));
  const nodePortOwner = new Map<number, string>();
  for (const s of view.services) for (const p of s.nodePorts ?? []) nodePortOwner.set(p, `${s.namespace}/${s.name}`);
  objects.forEach((o, i) => {
    const ns = o.metadata.namespace;
    const at = { source: sources[i] ?? '', kind: o.kind, namespace: ns ?? '', name: o.metadata.name };
    if (ns !== undefined && !namespaces.has(ns)) issues.push({ ...at, path: 'metadata.namespace', message: `namespaces ${JSON.stringify(ns)} not found` });
    const cur = current[i];
    if (o.kind === 'Pod' && cur?.spec) {
      if (!o.spec?.nodeName && cur.spec.nodeName) o.spec = { ...o.spec, nodeName: cur.spec.nodeName };
      if (canonicalJSON(o.spec) !== canonicalJSON(cur.spec)) {
        issues.push({ ...at, path: 'spec', message: 'Forbidden: pod updates may not change fields other than metadata (delete the pod and apply it again)' });
      }
    } else if (o.kind === 'Pod' && o.spec?.nodeName && !nodes.has(o.spec.nodeName)) {
      issues.push({ ...at, path: 'spec.nodeName', message: `Invalid value: ${JSON.stringify(o.spec.nodeName)}: node not found (nodes: ${[...nodes].sort().join(', ') || 'none'})` });
    }
    if (o.kind !== 'Service' || !o.spec || o.spec.type === 'ExternalName') return;
    const key = `${ns ?? 'default'}/${o.metadata.name}`;
    if (o.spec.type === 'NodePort' || o.spec.type === 'LoadBalancer') allocateNodePorts(o, key, (cur as any)?.spec, at, issues, nodePortOwner, rand);
    const had = clusterIPs.get(key);
    const want: string | undefined = o.spec.clusterIP || undefined;
    if (headless(want)) {
      if (had && !headless(had)) issues.push({ ...at, path: 'spec.clusterIP', message: `Invalid value: "None": field is immutable` });
      return;
    }
    if (want && had && want !== had) {
      issues.push({ ...at, path: 'spec.clusterIP', message: `Invalid value: ${JSON.stringify(want)}: field is immutable` });
      return;
    }
    if (had && !headless(had)) {
      o.spec.clusterIP = had;
      o.spec.clusterIPs = [had];
      return;
    }
    if (want) {
      const n = tryParseIPv4(want)!;
      const owner = taken.get(n);
      if (n < cidr.base || n >= cidr.base + cidr.size) {
        issues.push({ ...at, path: 'spec.clusterIP', message: `Invalid value: ${JSON.stringify(want)}: provided IP is not in the valid range. The range of valid IPs is ${cidr.text}` });
      } else if (owner && owner !== key) {
        issues.push({ ...at, path: 'spec.clusterIP', message: `Invalid value: ${JSON.stringify(want)}: provided IP is already allocated` });
      } else {
        taken.set(n, key);
        o.spec.clusterIPs = [want];
      }
      return;
    }
    // Network, broadcast and the first 10 addresses (kubernetes, kube-dns) are never handed out at random.
    const free = cidr.size - 12 - taken.size;
    if (free <= 0) {
      issues.push({ ...at, path: 'spec.clusterIP', message: `Internal error: failed to allocate a serviceIP: range is full` });
      return;
    }
    for (;;) {
      const n = cidr.base + 11 + Math.floor(rand() * (cidr.size - 12));
      if (taken.has(n)) continue;
      taken.set(n, key);
      o.spec.clusterIP = formatIPv4(n);
      o.spec.clusterIPs = [o.spec.clusterIP];
      return;
    }
  });
  return issues;
}

export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

/** Node ports for each port of a NodePort/LoadBalancer Service: requested (checked), kept, or allocated at random. */
function allocateNodePorts(
  o: Obj,
  key: string,
  current: { ports?: { port: number; protocol?: string; nodePort?: number }[] } | undefined,
  at: Omit<ValidationIssue, 'path' | 'message'>,
  issues: ValidationIssue[],
  owner: Map<number, string>,
  rand: () => number,
): void {
  const ports = (o.spec.ports ?? []) as { port: number; protocol?: string; nodePort?: number }[];
  ports.forEach((p, i) => {
    const path = `spec.ports[${i}].nodePort`;
    const kept = current?.ports?.find((c) => c.port === p.port && (c.protocol ?? 'TCP') === (p.protocol ?? 'TCP'))?.nodePort;
    const want = p.nodePort ?? kept;
    if (want !== undefined) {
      if (want < NODE_PORT_MIN || want > NODE_PORT_MAX) {
        issues.push({ ...at, path, message: `Invalid value: ${want}: provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}` });
        return;
      }
      const who = owner.get(want);
      if (who && who !== key) {
        issues.push({ ...at, path, message: `Invalid value: ${want}: provided port is already allocated` });
        return;
      }
      owner.set(want, key);
      p.nodePort = want;
      return;
    }
    if (owner.size >= NODE_PORT_MAX - NODE_PORT_MIN + 1) {
      issues.push({ ...at, path, message: 'Internal error: failed to allocate a nodePort: range is full' });
      return;
    }
    for (;;) {
      const n = NODE_PORT_MIN + Math.floor(rand() * (NODE_PORT_MAX - NODE_PORT_MIN + 1));
      if (owner.has(n)) continue;
      owner.set(n, key);
      p.nodePort = n;
      return;
    }
  });
}
