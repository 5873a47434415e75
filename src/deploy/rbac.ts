/**
 * What the agent and the operator may ask of the Kubernetes API server: the
 * one list the ClusterRoles of deploy/kubernetes/rbac/ are written from.
 * src/deploy/rbac.test.ts renders the manifests and fails when their rules
 * and this list differ in either direction, and runs the agent's store
 * consumers (PolicyManager, ServiceManager) against a recording store to fail
 * when the code asks for a kind or verb this list does not grant.
 *
 * Every row is a call the code makes through the Store interface (an
 * informer is list + watch, Store.get is get, Store.updateStatus an update
 * of the `/status` subresource, …), which Kubernetes mode
 * (src/store/kubernetes.ts) turns into REST calls one for one: the agent's
 * policy and service managers, its cluster backend (src/agent/cluster.ts:
 * its Node, the BeelineNodes), identities and the ipcache
 * (src/identity/crd.ts), the policy status writer
 * (src/agent/policy-status.ts), and the operator (src/operator/). The only
 * writes outside beeline.io are this node's entries in the Cilium policies'
 * status, where Cilium's agent writes them, and the operator's mesh entries in
 * HTTPRoutes' status, where a Gateway API implementation writes them.
 *
 * Deliberately absent: Events, Secrets, ConfigMaps (the configuration is a
 * mounted file), Leases (no leader election yet: one operator replica).
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
  /** `store`: called through the Store interface (every row today; a row for a call not yet made would be `planned`). */
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
  { group: 'gateway.networking.k8s.io', resource: 'httproutes', verbs: READ, source: 'store', why: 'mesh routes (HTTPRoutes with Service parents) in the node proxy: src/agent/mesh.ts' },
  { group: 'cilium.io', resource: 'ciliumnetworkpolicies', verbs: ['get', 'list', 'watch'], source: 'store', why: 'CiliumNetworkPolicy (informer); read again when its status write met a conflict (get)' },
  { group: 'cilium.io', resource: 'ciliumnetworkpolicies/status', verbs: ['update'], source: 'store', why: "this node's entry in status.nodes, where Cilium writes it (src/agent/policy-status.ts)" },
  { group: 'cilium.io', resource: 'ciliumclusterwidenetworkpolicies', verbs: ['get', 'list', 'watch'], source: 'store', why: 'CiliumClusterwideNetworkPolicy (informer); read again when its status write met a conflict (get)' },
  { group: 'cilium.io', resource: 'ciliumclusterwidenetworkpolicies/status', verbs: ['update'], source: 'store', why: "this node's entry in status.nodes (src/agent/policy-status.ts)" },
  { group: 'cilium.io', resource: 'ciliumcidrgroups', verbs: READ, source: 'store', why: 'cidrGroupRef in policy rules' },
  { group: '', resource: 'nodes', verbs: ['get'], source: 'store', why: "its own Node: the API answers (the agent's health check) and its pod CIDR (spec.podCIDR, ipam: kubernetes): src/agent/cluster.ts" },
  { group: BEELINE_GROUP, resource: 'beelineidentities', verbs: ['get', 'list', 'watch', 'create'], source: 'store', why: 'allocates security identities by create, reads the one a 409 met (get), follows all of them (informer): src/identity/crd.ts CrdIdentityAllocator; kvstore mode: /beeline/v1/identities/' },
  { group: BEELINE_GROUP, resource: 'beelineendpoints', verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'], source: 'store', why: "publishes its endpoints' address → identity (create, or get + update), deletes its own, learns everyone's (the ipcache): src/identity/crd.ts CrdIpcache; kvstore mode: /beeline/v1/ipcache/" },
  { group: BEELINE_GROUP, resource: 'beelinenodes', verbs: ['get', 'list', 'watch', 'create', 'update'], source: 'store', why: "its own BeelineNode (addresses, pod CIDR: create or get + update; in cluster-pool mode the operator's CIDR, get) and the others (informer: routes, tunnel peers): src/agent/cluster.ts; kvstore mode: /beeline/v1/nodes/" },
  { group: BEELINE_GROUP, resource: 'beelinecertificaterequests', verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'], source: 'store', why: "mesh mTLS: asks for its ServiceAccounts' leaves (create, or get + update with a new public key at renewal), reads the operator's answers (informer on its own, by label), deletes those no local pod uses: src/mesh/certs.ts MeshCertificates" },
];

/** The operator's uses (ClusterRole beeline-operator). */
export const OPERATOR_API_USES: readonly ApiUse[] = [
  { group: '', resource: 'nodes', verbs: READ, source: 'store', why: 'BeelineNodes of deleted Nodes are garbage (src/operator/nodes.ts)' },
  { group: '', resource: 'services', verbs: READ, source: 'store', why: "an HTTPRoute's status depends on its parent and backend Services (src/operator/routes.ts)" },
  { group: 'gateway.networking.k8s.io', resource: 'httproutes', verbs: READ, source: 'store', why: 'the mesh routes whose status the operator writes (src/operator/routes.ts)' },
  { group: 'gateway.networking.k8s.io', resource: 'httproutes/status', verbs: ['update'], source: 'store', why: "status.parents entries of controller beeline.io/mesh, as a Gateway API implementation writes them (src/operator/routes.ts)" },
  { group: BEELINE_GROUP, resource: 'beelineidentities', verbs: ['list', 'watch', 'delete'], source: 'store', why: 'identity GC: deletes identities no endpoint references past the grace period (src/identity/crd.ts CrdIdentityGarbageCollector; kvstore mode: IdentityGarbageCollector)' },
  { group: BEELINE_GROUP, resource: 'beelineendpoints', verbs: ['list', 'watch', 'delete'], source: 'store', why: 'identity GC reads references; endpoints of deleted nodes are garbage' },
  { group: BEELINE_GROUP, resource: 'beelinenodes', verbs: ['list', 'watch', 'update', 'delete'], source: 'store', why: 'cluster-pool IPAM: hands out pod CIDRs (spec.ipam.podCIDRs, update at the version read); deletes those of deleted Nodes' },
  { group: '', resource: 'configmaps', verbs: ['get', 'create'], source: 'store', why: 'with --mesh-ca-key-file: the mesh CA (src/mesh/ca.ts) loads kube-system/beeline-mesh-ca, or creates it on first start (create-only)' },
  { group: BEELINE_GROUP, resource: 'beelinecertificaterequests', verbs: ['list', 'watch'], source: 'store', why: "with --mesh-ca-key-file: the agents' certificate requests (informer): src/mesh/certs.ts CertificateSigner" },
  { group: BEELINE_GROUP, resource: 'beelinecertificaterequests/status', verbs: ['update'], source: 'store', why: 'with --mesh-ca-key-file: the leaf (or the refusal) for the key a request names' },
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
