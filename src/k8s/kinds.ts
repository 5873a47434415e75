/**
 * The kinds beeline knows, with the names kubectl accepts for them
 * (`get po`, `get services`, `get cnp`, …), their apiVersion and scope.
 */

export interface KindInfo {
  kind: string;
  /** Canonical apiVersion (group/version, or `v1` for the core group). */
  apiVersion: string;
  /** Lower-case plural, the resource name (`pods`, `ciliumnetworkpolicies`). */
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  /** Other apiVersions the kind is served at (stored as `apiVersion`), e.g. cilium.io/v2alpha1 for CiliumCIDRGroup. */
  alsoServedAs?: string[];
}

/** In the order `get all`-style listings print them. */
export const KINDS: readonly KindInfo[] = [
  { kind: 'Namespace', apiVersion: 'v1', plural: 'namespaces', singular: 'namespace', shortNames: ['ns'], namespaced: false },
  { kind: 'Node', apiVersion: 'v1', plural: 'nodes', singular: 'node', shortNames: ['no'], namespaced: false },
  { kind: 'Pod', apiVersion: 'v1', plural: 'pods', singular: 'pod', shortNames: ['po'], namespaced: true },
  { kind: 'Deployment', apiVersion: 'apps/v1', plural: 'deployments', singular: 'deployment', shortNames: ['deploy'], namespaced: true },
  { kind: 'Service', apiVersion: 'v1', plural: 'services', singular: 'service', shortNames: ['svc'], namespaced: true },
  { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', singular: 'endpointslice', shortNames: ['ep', 'eps'], namespaced: true },
  { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', plural: 'networkpolicies', singular: 'networkpolicy', shortNames: ['netpol'], namespaced: true },
  { kind: 'CiliumNetworkPolicy', apiVersion: 'cilium.io/v2', plural: 'ciliumnetworkpolicies', singular: 'ciliumnetworkpolicy', shortNames: ['cnp', 'ciliumnp'], namespaced: true },
  { kind: 'CiliumClusterwideNetworkPolicy', apiVersion: 'cilium.io/v2', plural: 'ciliumclusterwidenetworkpolicies', singular: 'ciliumclusterwidenetworkpolicy', shortNames: ['ccnp'], namespaced: false },
  { kind: 'CiliumCIDRGroup', apiVersion: 'cilium.io/v2', plural: 'ciliumcidrgroups', singular: 'ciliumcidrgroup', shortNames: ['ccg'], namespaced: false, alsoServedAs: ['cilium.io/v2alpha1'] },
  { kind: 'HTTPRoute', apiVersion: 'gateway.networking.k8s.io/v1', plural: 'httproutes', singular: 'httproute', shortNames: [], namespaced: true },
];

const byName = new Map<string, KindInfo>();
for (const k of KINDS) {
  for (const n of [k.kind.toLowerCase(), k.plural, k.singular, ...k.shortNames]) byName.set(n, k);
  // kubectl also takes `resource.group`, e.g. `deployments.apps`, `cnp.cilium.io`.
  const group = k.apiVersion.includes('/') ? k.apiVersion.slice(0, k.apiVersion.lastIndexOf('/')) : '';
  if (group) for (const n of [k.plural, k.singular, ...k.shortNames]) byName.set(`${n}.${group}`, k);
}

/**
 * The kind a command-line name stands for (`po`, `pods`, `Pod`, `deployments.apps`,
 * `cnp`), case-insensitive; undefined when beeline does not know it.
 */
export function resolveKind(name: string): KindInfo | undefined {
  return byName.get(name.trim().toLowerCase());
}

/** The kind of an object's `apiVersion` + `kind`; undefined when either does not match a known kind. */
export function kindOf(apiVersion: string, kind: string): KindInfo | undefined {
  const k = KINDS.find((x) => x.kind === kind);
  return k && (k.apiVersion === apiVersion || k.alsoServedAs?.includes(apiVersion)) ? k : undefined;
}

/** `Pod (v1), Deployment (apps/v1), …` for messages. */
export function knownKindsList(): string {
  return KINDS.map((k) => `${k.apiVersion}/${k.kind}`).join(', ');
}
