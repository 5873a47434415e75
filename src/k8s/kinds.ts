/**
 * The kinds beeline knows, with the names kubectl accepts for them
 * (`get po`, `get services`, `get cnp`, …), their apiVersion and scope.
 */

export interface KindInfo {
  kind: string;
  /** Canonical apiVersion (group/version, or `v1` for the core group). */
  apiVersion: string;
  /** The API group; '' for the core group. */
  group: string;
  /** The version part of apiVersion (`v1`, `v2`). */
  version: string;
  /** Lower-case plural, the resource name (`pods`, `ciliumnetworkpolicies`). */
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  /** Other apiVersions the kind is served at (stored as `apiVersion`), e.g. cilium.io/v2alpha1 for CiliumCIDRGroup. */
  alsoServedAs?: string[];
  /**
   * Kept in the store for beeline's own parts (leader leases, identities, …):
   * the store takes it, manifests and kubectl-style commands do not.
   */
  storeOnly?: boolean;
}

/** One registry row: group and version come from apiVersion, singular from the kind. */
function kind(k: string, apiVersion: string, plural: string, shortNames: string[], namespaced: boolean, extra: Pick<KindInfo, 'alsoServedAs' | 'storeOnly'> = {}): KindInfo {
  const slash = apiVersion.lastIndexOf('/');
  return {
    kind: k, apiVersion, group: slash < 0 ? '' : apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1),
    plural, singular: k.toLowerCase(), shortNames, namespaced, ...extra,
  };
}

/**
 * Every kind beeline knows, the one registry: manifests and kubectl-style
 * commands take those without `storeOnly` (KINDS), the cluster store all of
 * them (src/store/store.ts). In the order `get all`-style listings print them.
 */
export const ALL_KINDS: readonly KindInfo[] = [
  kind('Namespace', 'v1', 'namespaces', ['ns'], false),
  kind('Node', 'v1', 'nodes', ['no'], false),
  kind('Pod', 'v1', 'pods', ['po'], true),
  kind('Deployment', 'apps/v1', 'deployments', ['deploy'], true),
  kind('Service', 'v1', 'services', ['svc'], true),
  kind('EndpointSlice', 'discovery.k8s.io/v1', 'endpointslices', ['ep', 'eps'], true),
  kind('NetworkPolicy', 'networking.k8s.io/v1', 'networkpolicies', ['netpol'], true),
  kind('CiliumNetworkPolicy', 'cilium.io/v2', 'ciliumnetworkpolicies', ['cnp', 'ciliumnp'], true),
  kind('CiliumClusterwideNetworkPolicy', 'cilium.io/v2', 'ciliumclusterwidenetworkpolicies', ['ccnp'], false),
  kind('CiliumCIDRGroup', 'cilium.io/v2', 'ciliumcidrgroups', ['ccg'], false, { alsoServedAs: ['cilium.io/v2alpha1'] }),
  kind('HTTPRoute', 'gateway.networking.k8s.io/v1', 'httproutes', [], true),
  kind('ConfigMap', 'v1', 'configmaps', ['cm'], true, { storeOnly: true }),
  kind('Lease', 'coordination.k8s.io/v1', 'leases', [], true, { storeOnly: true }),
  // beeline's own state in Kubernetes mode (deploy/kubernetes/crds/beeline.io_*.yaml).
  kind('BeelineIdentity', 'beeline.io/v1alpha1', 'beelineidentities', ['blid'], false, { storeOnly: true }),
  kind('BeelineEndpoint', 'beeline.io/v1alpha1', 'beelineendpoints', ['blep'], true, { storeOnly: true }),
  kind('BeelineNode', 'beeline.io/v1alpha1', 'beelinenodes', ['blnode'], false, { storeOnly: true }),
  kind('BeelineCertificateRequest', 'beeline.io/v1alpha1', 'beelinecertificaterequests', ['blcsr'], false, { storeOnly: true }),
];

/** The kinds manifests and kubectl-style commands take, in the order `get all`-style listings print them. */
export const KINDS: readonly KindInfo[] = ALL_KINDS.filter((k) => !k.storeOnly);

const byName = new Map<string, KindInfo>();
for (const k of KINDS) {
  for (const n of [k.kind.toLowerCase(), k.plural, k.singular, ...k.shortNames]) byName.set(n, k);
  // kubectl also takes `resource.group`, e.g. `deployments.apps`, `cnp.cilium.io`.
  if (k.group) for (const n of [k.plural, k.singular, ...k.shortNames]) byName.set(`${n}.${k.group}`, k);
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
