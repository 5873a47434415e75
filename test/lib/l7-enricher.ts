/**
 * The agent's caches as a small cluster answers them, for the unit tests of
 * the L7 flow converters (src/l7/{http,kafka,dns}/flows.test.ts): endpoints by
 * address, identities' labels, Service frontends and DNS names from fixed
 * tables; no policies by cookie, no default-deny policies.
 */
import type { EndpointInfo, FlowEnricher } from '../../src/observer/types.js';

/** The tables a test's cluster is made of. */
export interface L7EnricherTables {
  /** Endpoints by address. */
  endpoints: ReadonlyArray<readonly [string, EndpointInfo]>;
  /** Labels by identity (none known when absent). */
  identities?: ReadonlyArray<readonly [number, string[]]>;
  /** Service frontends: address, port, protocol and the Service. */
  services?: ReadonlyArray<{ ip: string; port: number; protocol: 'tcp' | 'udp'; service: { name: string; namespace: string } }>;
  /** DNS names by address. */
  names?: ReadonlyArray<readonly [string, string[]]>;
  /** The node's name (default kind-worker). */
  nodeName?: string;
}

/** A FlowEnricher answering from fixed tables. */
export function l7TestEnricher(t: L7EnricherTables): FlowEnricher {
  const byIP = new Map(t.endpoints);
  const identities = new Map(t.identities ?? []);
  const names = new Map(t.names ?? []);
  return {
    nodeName: t.nodeName ?? 'kind-worker',
    endpointById: () => undefined,
    endpointByIP: (ip) => byIP.get(ip),
    identityLabels: (id) => identities.get(id),
    serviceByFrontend: (ip, port, proto) => t.services?.find((s) => s.ip === ip && s.port === port && s.protocol === proto)?.service,
    policiesByCookie: () => [],
    defaultDenyPolicies: () => [],
    namesForIP: (ip) => names.get(ip) ?? [],
  };
}
