/**
 * The endpoints controller's pure core: which EndpointSlices a Service with a
 * selector should have, given the pods, and which writes bring the store
 * there. It follows kube-controller-manager's EndpointSlice controller
 * (pkg/controller/endpointslice): pods are grouped by the port list their
 * service ports resolve to, one group per distinct list, at most
 * MAX_ENDPOINTS_PER_SLICE endpoints per slice, and a service with no
 * endpoints gets one placeholder slice.
 *
 * Unlike Kubernetes, slice names are not random (generateName): they are a
 * hash of the service name, the port list and the chunk index, so that
 * reconciling twice gives the same names and a restarted controller finds
 * its own slices without bookkeeping.
 */
import { canonicalJSON } from '../common/canonical.js';
import { createHash } from 'node:crypto';
import type { Endpoint, EndpointPort, EndpointSlice, Pod, Protocol, Service, ServicePort } from '../k8s/types.js';
import type { ObjectInput, StoreObject } from '../store/store.js';
import { tryParseIPv4 } from '../ipam/cidr.js';
import { namespaceOf as nsOf } from '../k8s/types.js';

/** Label naming the service a slice belongs to. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Label naming the controller that owns a slice; slices without it (user-made) are never touched. */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** Kubernetes' own controller name, so tools that look for it (kubectl, Cilium) treat our slices alike. */
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
/** Kubernetes labels the slices of a headless service with this (empty value). */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** kube-controller-manager's default --max-endpoints-per-slice. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

/** Hex characters of the name hash; with the dash, the service-name prefix keeps 63 - 11 = 52 characters. */
const HASH_LEN = 10;
const MAX_NAME_LEN = 63;


/** Pod condition Ready is True (podutil.IsPodReady). */
function podReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The pod's IPv4 address: status.podIP when it is IPv4, else the first IPv4 of status.podIPs. */
function podIPv4(pod: Pod): string | undefined {
  const candidates = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)];
  return candidates.find((ip): ip is string => typeof ip === 'string' && tryParseIPv4(ip) !== undefined);
}

/**
 * The container port a service port reaches on this pod (podutil.FindPort):
 * targetPort absent → port; a number → that number; a name → the container
 * port of that name AND the service port's protocol; undefined when the name
 * does not resolve.
 */
function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  const proto = sp.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === proto) return p.containerPort;
    }
  }
  return undefined;
}

/**
 * The slice ports of one pod. A service port whose named target does not
 * resolve on this pod is left out of the pod's list (as Kubernetes does), so
 * the pod lands in a slice whose port set lacks that port.
 */
function endpointPorts(service: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of service.spec.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const ep: EndpointPort = { name: sp.name ?? '', port, protocol: (sp.protocol ?? 'TCP') as Protocol };
    if (sp.appProtocol !== undefined) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

/** Pods the controller turns into endpoints (endpointutil.ShouldPodBeInEndpoints with terminating pods included). */
function podEligible(pod: Pod): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  return podIPv4(pod) !== undefined;
}

function podToEndpoint(service: Service, pod: Pod): Endpoint {
  const serving = podReady(pod);
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  // Kubernetes: ready is never true for a terminating pod, unless the service
  // publishes not-ready addresses (then everything is ready).
  const ready = service.spec.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: Endpoint = {
    addresses: [podIPv4(pod)!],
    conditions: { ready, serving, terminating },
  };
  // endpointutil.ShouldSetHostname: the pod asked to be <hostname>.<service>.
  if (pod.spec?.hostname && pod.spec.subdomain === service.metadata.name && nsOf(pod) === nsOf(service)) {
    ep.hostname = pod.spec.hostname;
  }
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  ep.targetRef = { kind: 'Pod', namespace: nsOf(pod), name: pod.metadata.name, uid: pod.metadata.uid ?? '' };
  return ep;
}

/** Numeric order for IPv4 addresses, text order otherwise. */
function compareIP(a: string, b: string): number {
  const x = tryParseIPv4(a), y = tryParseIPv4(b);
  if (x !== undefined && y !== undefined) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}


/** `<service>-<hash>`, at most 63 characters; the same inputs always give the same name. */
export function endpointSliceName(service: string, ports: EndpointPort[], chunk: number): string {
  const hash = createHash('sha256').update(canonicalJSON([service, ports, chunk])).digest('hex').slice(0, HASH_LEN);
  return `${service.slice(0, MAX_NAME_LEN - 1 - HASH_LEN)}-${hash}`;
}

/** Labels as Kubernetes' setEndpointSliceLabels writes them: the service's own, then the controller's. */
function sliceLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.metadata.labels ?? {})) {
    // The controller's labels are not the service's to set.
    if (k !== SERVICE_NAME_LABEL && k !== MANAGED_BY_LABEL && k !== HEADLESS_LABEL) labels[k] = v;
  }
  if (service.spec.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = service.metadata.name;
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  return labels;
}

function newSlice(service: Service, ports: EndpointPort[], endpoints: Endpoint[], chunk: number): ObjectInput {
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: endpointSliceName(service.metadata.name, ports, chunk),
      namespace: nsOf(service),
      labels: sliceLabels(service),
      ownerReferences: [{
        apiVersion: 'v1', kind: 'Service', name: service.metadata.name, uid: service.metadata.uid ?? '', controller: true, blockOwnerDeletion: true,
      }],
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
  // EndpointSlice keeps its data at the top level (no spec): the store's
  // ObjectInput carries such fields through its index signature.
  return slice as unknown as ObjectInput;
}

/**
 * The EndpointSlices `service` should have, from every pod the caller knows
 * (pods of other namespaces are ignored). Pods count when their labels equal
 * the selector's on every key, they are not Succeeded/Failed, and they have
 * an IPv4 address. Endpoints are sorted by address; slices come in a stable
 * order (by port list, then chunk).
 *
 * Answers undefined for a service without a selector: its slices are made by
 * someone else (a user, another controller) and must be left alone.
 */
export function desiredEndpointSlices(serviceObj: StoreObject, podObjs: StoreObject[]): ObjectInput[] | undefined {
  const service = serviceObj as unknown as Service;
  const selector = service.spec?.selector;
  if (!selector) return undefined;
  const ns = nsOf(service);
  const groups = new Map<string, { ports: EndpointPort[]; endpoints: Endpoint[] }>();
  for (const obj of podObjs) {
    const pod = obj as unknown as Pod;
    if (nsOf(pod) !== ns || !podEligible(pod)) continue;
    const labels = pod.metadata.labels ?? {};
    // A Service selector is a plain map: every key must be present with that exact value.
    if (!Object.entries(selector).every(([k, v]) => Object.prototype.hasOwnProperty.call(labels, k) && labels[k] === v)) continue;
    const ports = endpointPorts(service, pod);
    const key = canonicalJSON(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: [] }));
    g.endpoints.push(podToEndpoint(service, pod));
  }
  const out: ObjectInput[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key)!;
    g.endpoints.sort((a, b) => compareIP(a.addresses[0]!, b.addresses[0]!) || (a.targetRef?.name ?? '').localeCompare(b.targetRef?.name ?? ''));
    for (let i = 0, chunk = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE, chunk++) {
      out.push(newSlice(service, g.ports, g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE), chunk));
    }
  }
  // Kubernetes keeps one placeholder slice for a service with no endpoints,
  // with no endpoints and no ports (reconciler.go: endpointMeta{ports: []}).
  if (out.length === 0) out.push(newSlice(service, [], [], 0));
  return out;
}

/** The part of a slice the controller owns; two slices with the same text need no write. */
function sliceContent(s: { metadata: { labels?: Record<string, string> }; [f: string]: unknown }): string {
  const meta = s.metadata as { labels?: Record<string, string>; ownerReferences?: unknown };
  return canonicalJSON({
    labels: meta.labels ?? {},
    ownerReferences: meta.ownerReferences ?? [],
    addressType: s['addressType'] ?? null,
    endpoints: s['endpoints'] ?? [],
    ports: s['ports'] ?? [],
  });
}

/**
 * The writes that turn `existing` (this service's slices in the store) into
 * `desired`: slices missing or different are upserted, managed slices no
 * longer desired are deleted, unchanged ones are left alone. Slices not
 * labelled as managed by this controller are never deleted (nor counted).
 * Upserts carry no resourceVersion: the controller is the only writer of its
 * slices, and a plain update (or applyBatch) is what it wants.
 */
export function reconcileEndpointSlices(
  desired: ObjectInput[],
  existing: StoreObject[],
): { upsert: ObjectInput[]; delete: { namespace: string; name: string }[] } {
  const managed = existing.filter((s) => s.metadata.labels?.[MANAGED_BY_LABEL] === CONTROLLER_NAME);
  const byKey = new Map(managed.map((s) => [`${nsOf(s)}/${s.metadata.name}`, s]));
  const wanted = new Set<string>();
  const upsert: ObjectInput[] = [];
  for (const d of desired) {
    const key = `${nsOf(d)}/${d.metadata.name}`;
    wanted.add(key);
    const cur = byKey.get(key);
    if (!cur || sliceContent(cur) !== sliceContent(d)) upsert.push(d);
  }
  const del = managed
    .filter((s) => !wanted.has(`${nsOf(s)}/${s.metadata.name}`))
    .map((s) => ({ namespace: nsOf(s), name: s.metadata.name }))
    .sort((a, b) => (a.namespace + '/' + a.name).localeCompare(b.namespace + '/' + b.name));
  return { upsert, delete: del };
}
