/**
 * What the agent and the operator may ask of the Kubernetes API server: the
 * one list the ClusterRoles of deploy/kubernetes/rbac/ are written from.
 * src/deploy/rbac.test.ts renders the manifests and fails when their rules
 * and this list differ in either direction, and runs the agent's store
 * consumers (PolicyManager, ServiceManager) against a recording store to fail
 * when the code asks for a kind or verb this list does not grant.
 *
 * Two kinds of rows: `store` rows are calls the code makes today through the
 * Store interface (an informer is list + watch, Store.get is get, …), which
 * Kubernetes mode (src/store/kubernetes.ts) turns into REST calls one for
 * one (identities and the ipcache in Kubernetes mode: src/identity/crd.ts;
 * the operator: src/operator/); `planned` rows are what Kubernetes mode will
 * call for the state kvstore mode keeps in raw etcd keys today (nodes and
 * their pod-CIDR claims on the agent's side), through beeline's own CRDs
 * (deploy/kubernetes/crds/).
 *
 * Deliberately absent: the status of Cilium's policies (beeline reports a
 * policy's problems through its own API, `beeline policy get`, not in the
 * object), Events, Secrets, ConfigMaps (the configuration is a mounted
 * file), Leases (no leader election yet: one operator replica).
 */

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

/** What one Store call needs, as RBAC verbs. */
export const STORE_CALL_VERBS: Readonly<Record<string, readonly Verb[]>> = {
  informer: ['list', 'watch'],
  watch: ['watch'],
  list: ['list'],
  get: ['get'],
  getMany: ['get'],
  create: ['create'],
  update: ['update'],
  updateStatus: ['update'],
  delete: ['delete'],
  // applyBatch reads each object, then dry-runs and writes it (create or update).
  applyBatch: ['get', 'create', 'update'],
};

/** One resource (or subresource) a component uses, and the verbs it needs. */
export interface ApiUse {
  /** API group; '' for the core group. */
  group: string;
  /** Plural resource name, with `/status` for the status subresource. */
  resource: string;
  verbs: readonly Verb[];
  /** `store`: called today through the Store interface; `planned`: Kubernetes mode's replacement of a raw etcd use. */
  source: 'store' | 'planned';
  /** Why the component needs it. */
  why: string;
}

/** beeline's own API group: the state it keeps (deploy/kubernetes/crds/beeline.io_*.yaml). */
export const BEELINE_GROUP = 'beeline.io';
export const BEELINE_VERSION = 'v1alpha1';

const READ: readonly Verb[] = ['list', 'watch'];

/** The node agent's uses (ClusterRole beeline-agent). */
export const AGENT_API_USES: readonly ApiUse[] = [
  { group: '', resource: 'pods', verbs: ['get', 'list', 'watch'], source: 'store', why: "policy selects pods by labels (informer); a new endpoint's identity comes from its pod's labels (get)" },
  { group: '', resource: 'namespaces', verbs: ['get', 'list', 'watch'], source: 'store', why: "namespace labels are part of a pod's identity (get) and of namespaceSelector matches (informer)" },
  { group: '', resource: 'services', verbs: READ, source: 'store', why: 'service load-balancing and toServices policy rules' },
  { group: 'discovery.k8s.io', resource: 'endpointslices', verbs: READ, source: 'store', why: "service backends" },
  { group: 'networking.k8s.io', resource: 'networkpolicies', verbs: READ, source: 'store', why: 'Kubernetes NetworkPolicy' },
  { group: 'cilium.io', resource: 'ciliumnetworkpolicies', verbs: READ, source: 'store', why: 'CiliumNetworkPolicy' },
  { group: 'cilium.io', resource: 'ciliumclusterwidenetworkpolicies', verbs: READ, source: 'store', why: 'CiliumClusterwideNetworkPolicy' },
  { group: 'cilium.io', resource: 'ciliumcidrgroups', verbs: READ, source: 'store', why: 'cidrGroupRef in policy rules' },
  { group: '', resource: 'nodes', verbs: ['get', 'list', 'watch'], source: 'planned', why: 'its own Node (pod CIDR, addresses) and the other nodes (routes, tunnel peers); kvstore mode: /beeline/v1/nodes/' },
  { group: BEELINE_GROUP, resource: 'beelineidentities', verbs: ['get', 'list', 'watch', 'create'], source: 'store', why: 'allocates security identities by create, reads the one a 409 met (get), follows all of them (informer): src/identity/crd.ts CrdIdentityAllocator; kvstore mode: /beeline/v1/identities/' },
  { group: BEELINE_GROUP, resource: 'beelineendpoints', verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'], source: 'store', why: "publishes its endpoints' address → identity (create, or get + update), deletes its own, learns everyone's (the ipcache): src/identity/crd.ts CrdIpcache; kvstore mode: /beeline/v1/ipcache/" },
  { group: BEELINE_GROUP, resource: 'beelinenodes', verbs: ['get', 'list', 'watch', 'create', 'update'], source: 'planned', why: 'its own BeelineNode (addresses, pod-CIDR claim) and the others (routes)' },
  { group: BEELINE_GROUP, resource: 'beelinenodes/status', verbs: ['update'], source: 'planned', why: "its own BeelineNode's status (IPAM use, health)" },
];

/** The operator's uses (ClusterRole beeline-operator). */
export const OPERATOR_API_USES: readonly ApiUse[] = [
  { group: '', resource: 'nodes', verbs: READ, source: 'store', why: 'BeelineNodes of deleted Nodes are garbage (src/operator/nodes.ts)' },
  { group: BEELINE_GROUP, resource: 'beelineidentities', verbs: ['list', 'watch', 'delete'], source: 'store', why: 'identity GC: deletes identities no endpoint references past the grace period (src/identity/crd.ts CrdIdentityGarbageCollector; kvstore mode: IdentityGarbageCollector)' },
  { group: BEELINE_GROUP, resource: 'beelineendpoints', verbs: ['list', 'watch', 'delete'], source: 'store', why: 'identity GC reads references; endpoints of deleted nodes are garbage' },
  { group: BEELINE_GROUP, resource: 'beelinenodes', verbs: ['list', 'watch', 'update', 'delete'], source: 'store', why: 'cluster-pool IPAM: hands out pod CIDRs (spec.ipam.podCIDRs, update at the version read); deletes those of deleted Nodes' },
];

/** A ClusterRole rule as Kubernetes writes it. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/**
 * The uses as a set of `group resource verb` strings, the form both sides of
 * the comparison are reduced to (rule grouping does not matter).
 */
export function grantSet(uses: readonly ApiUse[]): Set<string> {
  const out = new Set<string>();
  for (const u of uses) for (const v of u.verbs) out.add(`${u.group} ${u.resource} ${v}`);
  return out;
}

/** A ClusterRole's rules as the same set; a wildcard is kept as `*` so a comparison fails on it. */
export function ruleGrantSet(rules: readonly PolicyRule[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules) for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) out.add(`${g} ${res} ${v}`);
  return out;
}
