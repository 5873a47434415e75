/**
 * Fixtures for the policy engine's tests: a small cluster's identities,
 * policy object builders, and a one-line verdict helper that always goes
 * through computeEndpoint + lookupPolicy (never the rules directly).
 */
import { podIdentityLabels, type LabelSet } from '../identity/labels.js';
import { cidrLabels, RESERVED_IDENTITIES } from '../identity/reserved.js';
import type { CiliumRule, NetworkPolicy } from '../k8s/types.js';
import { lookupPolicy } from './lookup.js';
import { PolicyRepository } from './repository.js';
import type { Direction, EndpointInfo, NamedPort, PolicyOptions } from './types.js';

export const TCP = 6, UDP = 17, SCTP = 132, ICMP = 1;

/** A pod identity's labels. */
export function podLabels(namespace: string, labels: Record<string, string>, namespaceLabels: Record<string, string> = {}): LabelSet {
  return podIdentityLabels({ namespace, labels, namespaceLabels });
}

/** The fixture cluster: ns1 (team=red) web/db, ns2 (team=blue) client/web, CIDR identities. */
export const ID = { web: 1000, db: 1001, client2: 1002, web2: 1003, cidr10: (1 << 24) | 1, cidr10a: (1 << 24) | 2, cidr8: (1 << 24) | 3 } as const;

export const IDENTITIES: [number, LabelSet][] = [
  ...RESERVED_IDENTITIES.map((i): [number, LabelSet] => [i.id, i.labels]),
  [ID.web, podLabels('ns1', { app: 'web' }, { team: 'red' })],
  [ID.db, podLabels('ns1', { app: 'db' }, { team: 'red' })],
  [ID.client2, podLabels('ns2', { app: 'client' }, { team: 'blue' })],
  [ID.web2, podLabels('ns2', { app: 'web' }, { team: 'blue' })],
  [ID.cidr10, cidrLabels('10.0.0.0/24')],
  [ID.cidr10a, cidrLabels('10.0.0.5/32')],
  [ID.cidr8, cidrLabels('8.8.8.8/32')],
];

export const CIDRS: Record<string, number> = { '10.0.0.0/24': ID.cidr10, '10.0.0.5/32': ID.cidr10a, '8.8.8.8/32': ID.cidr8 };

const labelsOf = (id: number) => IDENTITIES.find(([i]) => i === id)![1];

/** Endpoint for a fixture identity. */
export function endpoint(id: number, identity: number, namedPorts: NamedPort[] = []): EndpointInfo {
  const labels = labelsOf(identity);
  const ns = labels.find((l) => l.key === 'io.kubernetes.pod.namespace')!.value;
  return { id, identity, labels, namespace: ns, namedPorts };
}

export const WEB = endpoint(11, ID.web, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
export const DB = endpoint(12, ID.db);
export const CLIENT2 = endpoint(13, ID.client2);

export function repository(policies: unknown[] = [], options: PolicyOptions = {}): PolicyRepository {
  const r = new PolicyRepository({ options });
  r.setIdentities(IDENTITIES);
  r.setCidrIdentities(CIDRS);
  for (const p of policies) {
    const probs = r.upsertPolicy(p).filter((x) => x.severity === 'error');
    if (probs.length) throw new Error(`fixture policy rejected: ${JSON.stringify(probs)}`);
  }
  return r;
}

export function cnp(namespace: string, name: string, spec: CiliumRule | CiliumRule[]): unknown {
  return { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name, namespace }, ...(Array.isArray(spec) ? { specs: spec } : { spec }) };
}

export function ccnp(name: string, spec: CiliumRule | CiliumRule[]): unknown {
  return { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: { name }, ...(Array.isArray(spec) ? { specs: spec } : { spec }) };
}

export function np(namespace: string, name: string, spec: NetworkPolicy['spec']): unknown {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

/** 'allow', 'deny' (181) or 'default-deny' (133), via computeEndpoint + lookupPolicy. */
export function verdict(repo: PolicyRepository, ep: EndpointInfo, dir: Direction, peer: number, protocol: number, port: number): string {
  const pol = repo.computeEndpoint(ep);
  const r = lookupPolicy(pol.entries, dir, peer, protocol, port, dir === 'ingress' ? pol.ingressEnforced : pol.egressEnforced);
  return r.allowed ? 'allow' : r.dropReason === 181 ? 'deny' : 'default-deny';
}
