/**
 * Defaulting, as the apiserver does it after validation: namespace `default`,
 * protocol TCP, targetPort = port, restartPolicy Always, replicas 1, Service
 * type ClusterIP, sessionAffinity None, traffic policies Cluster, probe timings.
 * Cilium policies are kept as written (Cilium reads absent fields as wildcards).
 */
import { kindOf } from './kinds.js';
import type { Container, Deployment, HTTPRoute, NetworkPolicy, Pod, PodSpec, Probe, Resource, Service, EndpointSlice } from './types.js';

function probeDefaults(p: Probe | undefined): void {
  if (!p) return;
  p.initialDelaySeconds ??= 0;
  p.periodSeconds ??= 10;
  p.timeoutSeconds ??= 1;
  p.failureThreshold ??= 3;
  p.successThreshold ??= 1;
  if (p.httpGet) { p.httpGet.path ??= '/'; p.httpGet.scheme ??= 'HTTP'; }
}

function containerDefaults(c: Container): void {
  for (const port of c.ports ?? []) port.protocol ??= 'TCP';
  probeDefaults(c.readinessProbe);
  probeDefaults(c.livenessProbe);
}

function podSpecDefaults(s: PodSpec): void {
  s.restartPolicy ??= 'Always';
  s.terminationGracePeriodSeconds ??= 30;
  s.containers.forEach(containerDefaults);
}

/**
 * A copy of a validated object with the apiserver's defaults filled in. The
 * input is not changed. Cluster-scoped kinds lose any metadata.namespace.
 */
export function applyDefaults<T extends Resource>(input: T): T {
  const o = structuredClone(input) as Resource;
  const info = kindOf(o.apiVersion, o.kind);
  // Stored (and shown) at the kind's own version, as the apiserver stores its storage version.
  if (info) (o as { apiVersion: string }).apiVersion = info.apiVersion;
  if (info?.namespaced) o.metadata.namespace ||= 'default';
  else delete o.metadata.namespace;
  switch (o.kind) {
    case 'Pod':
      podSpecDefaults((o as Pod).spec);
      break;
    case 'Deployment': {
      const s = (o as Deployment).spec;
      s.replicas ??= 1;
      s.strategy ??= {};
      s.strategy.type ??= 'RollingUpdate';
      if (s.strategy.type === 'RollingUpdate') {
        s.strategy.rollingUpdate ??= {};
        s.strategy.rollingUpdate.maxSurge ??= '25%';
        s.strategy.rollingUpdate.maxUnavailable ??= '25%';
      }
      s.revisionHistoryLimit ??= 10;
      s.progressDeadlineSeconds ??= 600;
      podSpecDefaults(s.template.spec);
      break;
    }
    case 'Service': {
      const s = (o as Service).spec;
      s.type ??= 'ClusterIP';
      s.sessionAffinity ??= 'None';
      if (s.sessionAffinity === 'ClientIP') {
        s.sessionAffinityConfig ??= {};
        s.sessionAffinityConfig.clientIP ??= {};
        s.sessionAffinityConfig.clientIP.timeoutSeconds ??= 10800;
      }
      s.internalTrafficPolicy ??= 'Cluster';
      if (s.type !== 'ClusterIP') s.externalTrafficPolicy ??= 'Cluster';
      for (const p of s.ports ?? []) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      break;
    }
    case 'EndpointSlice':
      for (const p of (o as EndpointSlice).ports ?? []) p.protocol ??= 'TCP';
      break;
    case 'NetworkPolicy': {
      const s = (o as NetworkPolicy).spec;
      // As the apiserver: Ingress always, Egress when there are egress rules.
      s.policyTypes ??= s.egress?.length ? ['Ingress', 'Egress'] : ['Ingress'];
      for (const r of [...(s.ingress ?? []), ...(s.egress ?? [])]) for (const p of r.ports ?? []) p.protocol ??= 'TCP';
      break;
    }
    case 'HTTPRoute': {
      const s = (o as HTTPRoute).spec;
      for (const p of s.parentRefs ?? []) { p.group ??= 'gateway.networking.k8s.io'; p.kind ??= 'Gateway'; }
      for (const r of s.rules ?? []) {
        if (!r.matches?.length) r.matches = [{ path: { type: 'PathPrefix', value: '/' } }];
        for (const m of r.matches) {
          if (m.path) { m.path.type ??= 'PathPrefix'; m.path.value ??= '/'; }
          else if (!m.headers?.length && !m.queryParams?.length && !m.method) m.path = { type: 'PathPrefix', value: '/' };
          for (const h of m.headers ?? []) h.type ??= 'Exact';
          for (const h of m.queryParams ?? []) h.type ??= 'Exact';
        }
        for (const b of r.backendRefs ?? []) { b.group ??= ''; b.kind ??= 'Service'; b.weight ??= 1; }
      }
      break;
    }
    default:
      break;
  }
  return o as T;
}
