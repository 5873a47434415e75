/**
 * The Kubernetes (and Cilium, Gateway API) objects beeline reads, as their
 * APIs define them. Only the fields beeline uses are typed; the validator
 * (validate.ts) knows the same fields and warns about any other.
 */

/** `metadata` of every object. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The common shape: every kind below extends it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

/** A label selector (meta/v1). A missing selector matches nothing, an empty one everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values?: string[];
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
/** A port number or a port name (IANA_SVC_NAME). */
export type IntOrString = number | string;

// ---- core/v1 Namespace, Node ----

export interface Namespace extends KubeObject {
  apiVersion: 'v1';
  kind: 'Namespace';
  spec?: { finalizers?: string[] };
  status?: { phase?: 'Active' | 'Terminating' };
}

export interface NodeAddress {
  type: 'InternalIP' | 'ExternalIP' | 'Hostname' | 'InternalDNS' | 'ExternalDNS';
  address: string;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastHeartbeatTime?: string;
  lastProbeTime?: string;
}

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface Node extends KubeObject {
  apiVersion: 'v1';
  kind: 'Node';
  spec?: { podCIDR?: string; podCIDRs?: string[]; providerID?: string; unschedulable?: boolean; taints?: Taint[] };
  /** Written by the lab and the agents; not checked field by field. */
  status?: { addresses?: NodeAddress[]; conditions?: Condition[]; [k: string]: unknown };
}

// ---- core/v1 Pod ----

export interface HTTPGetAction {
  path?: string;
  port: IntOrString;
  host?: string;
  scheme?: 'HTTP' | 'HTTPS';
  httpHeaders?: { name: string; value: string }[];
}

/** Exactly one of httpGet, tcpSocket, exec. */
export interface Probe {
  httpGet?: HTTPGetAction;
  tcpSocket?: { port: IntOrString; host?: string };
  exec?: { command?: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

export interface EnvVar {
  name: string;
  value?: string;
  /** fieldRef / configMapKeyRef / secretKeyRef: passed through unchecked. */
  valueFrom?: Record<string, unknown>;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: Protocol;
  hostPort?: number;
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  workingDir?: string;
  ports?: ContainerPort[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  /** Accepted and ignored (the lab does not limit containers). */
  resources?: Record<string, unknown>;
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface PodSpec {
  containers: Container[];
  restartPolicy?: RestartPolicy;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  hostname?: string;
  subdomain?: string;
  terminationGracePeriodSeconds?: number;
}

export interface PodStatus {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  conditions?: Condition[];
  hostIP?: string;
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  containerStatuses?: { name: string; ready: boolean; restartCount: number; started?: boolean; state?: Record<string, unknown> }[];
  reason?: string;
  message?: string;
}

export interface Pod extends KubeObject {
  apiVersion: 'v1';
  kind: 'Pod';
  spec: PodSpec;
  status?: PodStatus;
}

export interface PodTemplateSpec {
  metadata?: Partial<ObjectMeta>;
  spec: PodSpec;
}

// ---- apps/v1 Deployment ----

export interface Deployment extends KubeObject {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  spec: {
    replicas?: number;
    selector: LabelSelector;
    template: PodTemplateSpec;
    strategy?: { type?: 'RollingUpdate' | 'Recreate'; rollingUpdate?: { maxSurge?: IntOrString; maxUnavailable?: IntOrString } };
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    progressDeadlineSeconds?: number;
    paused?: boolean;
  };
  status?: { replicas?: number; readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number; observedGeneration?: number; [k: string]: unknown };
}

// ---- core/v1 Service ----

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';
export type TrafficPolicy = 'Cluster' | 'Local';

export interface ServicePort {
  name?: string;
  port: number;
  /** A number, or the name of a container port; defaults to `port`. */
  targetPort?: IntOrString;
  protocol?: Protocol;
  nodePort?: number;
  appProtocol?: string;
}

export interface Service extends KubeObject {
  apiVersion: 'v1';
  kind: 'Service';
  spec: {
    type?: ServiceType;
    /** `None` makes the service headless. */
    clusterIP?: string;
    clusterIPs?: string[];
    ports?: ServicePort[];
    selector?: Record<string, string>;
    sessionAffinity?: 'None' | 'ClientIP';
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    externalTrafficPolicy?: TrafficPolicy;
    internalTrafficPolicy?: TrafficPolicy;
    externalIPs?: string[];
    trafficDistribution?: 'PreferClose' | 'PreferSameZone' | 'PreferSameNode';
    ipFamilies?: ('IPv4' | 'IPv6')[];
    ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
    publishNotReadyAddresses?: boolean;
    loadBalancerIP?: string;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

// ---- discovery.k8s.io/v1 EndpointSlice ----

export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
}

export interface Endpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: ObjectReference;
}

export interface EndpointPort {
  name?: string;
  port?: number;
  protocol?: Protocol;
  appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  apiVersion: 'discovery.k8s.io/v1';
  kind: 'EndpointSlice';
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: Endpoint[];
  ports?: EndpointPort[];
}

// ---- networking.k8s.io/v1 NetworkPolicy ----

export interface IPBlock {
  cidr: string;
  except?: string[];
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}

export interface NetworkPolicyPort {
  protocol?: Protocol;
  port?: IntOrString;
  endPort?: number;
}

export interface NetworkPolicy extends KubeObject {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'NetworkPolicy';
  spec: {
    podSelector: LabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: { from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
    egress?: { to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
  };
}

// ---- cilium.io/v2 CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy ----

/** Cilium's reserved entities a rule may name in fromEntities/toEntities. */
export const CILIUM_ENTITIES = [
  'all', 'world', 'world-ipv4', 'world-ipv6', 'cluster', 'host', 'remote-node',
  'kube-apiserver', 'init', 'health', 'unmanaged', 'ingress', 'none',
] as const;
export type CiliumEntity = (typeof CILIUM_ENTITIES)[number];

export type CiliumProtocol = Protocol | 'ANY';

export interface CIDRRule {
  cidr?: string;
  /** The name of a CiliumCIDRGroup. */
  cidrGroupRef?: string;
  /** CiliumCIDRGroups by their labels. */
  cidrGroupSelector?: LabelSelector;
  except?: string[];
}

export interface CiliumPortProtocol {
  /** A number as a string ("80"), a number, or a port name; "0" means every port. */
  port?: string | number;
  endPort?: number;
  protocol?: CiliumProtocol;
}

export interface PortRuleHTTP {
  method?: string;
  path?: string;
  host?: string;
  headers?: string[];
  headerMatches?: { name: string; value?: string; mismatch?: 'LOG' | 'ADD' | 'DELETE' | 'REPLACE'; secret?: { namespace?: string; name: string } }[];
}

export interface PortRuleKafka {
  role?: 'produce' | 'consume';
  apiKey?: string;
  apiVersion?: string;
  clientID?: string;
  topic?: string;
}

export interface PortRuleDNS {
  matchName?: string;
  matchPattern?: string;
}

export interface L7Rules {
  http?: PortRuleHTTP[];
  kafka?: PortRuleKafka[];
  dns?: PortRuleDNS[];
  l7proto?: string;
  l7?: Record<string, string>[];
}

export interface CiliumPortRule {
  ports?: CiliumPortProtocol[];
  rules?: L7Rules;
  serverNames?: string[];
  /** TLS interception settings: passed through. */
  terminatingTLS?: Record<string, unknown>;
  originatingTLS?: Record<string, unknown>;
  listener?: Record<string, unknown>;
}

export interface ICMPRule {
  fields: { type: number | string; family?: 'IPv4' | 'IPv6' }[];
}

export interface CiliumService {
  k8sService?: { serviceName?: string; namespace?: string };
  k8sServiceSelector?: { selector: LabelSelector; namespace?: string };
}

export interface FQDNSelector {
  matchName?: string;
  matchPattern?: string;
}

interface CiliumPeers {
  toPorts?: CiliumPortRule[];
  icmps?: ICMPRule[];
}

export interface CiliumIngressRule extends CiliumPeers {
  fromEndpoints?: LabelSelector[];
  fromRequires?: LabelSelector[];
  fromCIDR?: string[];
  fromCIDRSet?: CIDRRule[];
  fromEntities?: CiliumEntity[];
  fromNodes?: LabelSelector[];
  fromGroups?: Record<string, unknown>[];
  authentication?: { mode: 'disabled' | 'required' | 'test-always-fail' };
}

export interface CiliumEgressRule extends CiliumPeers {
  toEndpoints?: LabelSelector[];
  toRequires?: LabelSelector[];
  toCIDR?: string[];
  toCIDRSet?: CIDRRule[];
  toEntities?: CiliumEntity[];
  toNodes?: LabelSelector[];
  toServices?: CiliumService[];
  toFQDNs?: FQDNSelector[];
  toGroups?: Record<string, unknown>[];
  authentication?: { mode: 'disabled' | 'required' | 'test-always-fail' };
}

/** One Cilium rule: exactly one of endpointSelector, nodeSelector. */
export interface CiliumRule {
  endpointSelector?: LabelSelector;
  nodeSelector?: LabelSelector;
  ingress?: CiliumIngressRule[];
  ingressDeny?: CiliumIngressRule[];
  egress?: CiliumEgressRule[];
  egressDeny?: CiliumEgressRule[];
  description?: string;
  labels?: { key: string; value?: string; source?: string }[];
  enableDefaultDeny?: { ingress?: boolean; egress?: boolean };
}

/** `spec`, `specs` or both; at least one. */
export interface CiliumNetworkPolicy extends KubeObject {
  apiVersion: 'cilium.io/v2';
  kind: 'CiliumNetworkPolicy';
  spec?: CiliumRule;
  specs?: CiliumRule[];
  status?: Record<string, unknown>;
}

export interface CiliumClusterwideNetworkPolicy extends KubeObject {
  apiVersion: 'cilium.io/v2';
  kind: 'CiliumClusterwideNetworkPolicy';
  spec?: CiliumRule;
  specs?: CiliumRule[];
  status?: Record<string, unknown>;
}

/** cilium.io/v2 CiliumCIDRGroup (also served as v2alpha1): a named, labelled set of CIDRs that policies refer to. */
export interface CiliumCIDRGroup extends KubeObject {
  apiVersion: 'cilium.io/v2';
  kind: 'CiliumCIDRGroup';
  spec: { externalCIDRs: string[] };
}

// ---- gateway.networking.k8s.io/v1 HTTPRoute ----

export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface HTTPRouteMatch {
  path?: { type?: 'Exact' | 'PathPrefix' | 'RegularExpression'; value?: string };
  headers?: { type?: 'Exact' | 'RegularExpression'; name: string; value: string }[];
  queryParams?: { type?: 'Exact' | 'RegularExpression'; name: string; value: string }[];
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'CONNECT' | 'OPTIONS' | 'TRACE' | 'PATCH';
}

export interface HTTPRouteFilter {
  type: 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'RequestMirror' | 'RequestRedirect' | 'URLRewrite' | 'ExtensionRef';
  requestHeaderModifier?: HTTPHeaderFilter;
  responseHeaderModifier?: HTTPHeaderFilter;
  requestMirror?: { backendRef: BackendObjectReference; percent?: number };
  requestRedirect?: { scheme?: 'http' | 'https'; hostname?: string; path?: HTTPPathModifier; port?: number; statusCode?: 301 | 302 | 303 | 307 | 308 };
  urlRewrite?: { hostname?: string; path?: HTTPPathModifier };
  extensionRef?: { group: string; kind: string; name: string };
}

export interface HTTPHeaderFilter {
  set?: { name: string; value: string }[];
  add?: { name: string; value: string }[];
  remove?: string[];
}

export interface HTTPPathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}

export interface BackendObjectReference {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
}

export interface HTTPBackendRef extends BackendObjectReference {
  weight?: number;
  filters?: HTTPRouteFilter[];
}

export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: HTTPBackendRef[];
  timeouts?: { request?: string; backendRequest?: string };
}

export interface HTTPRoute extends KubeObject {
  apiVersion: 'gateway.networking.k8s.io/v1';
  kind: 'HTTPRoute';
  spec: { parentRefs?: ParentReference[]; hostnames?: string[]; rules?: HTTPRouteRule[] };
  status?: Record<string, unknown>;
}

/** Every kind beeline reads. */
export type Resource =
  | Namespace | Node | Pod | Deployment | Service | EndpointSlice | NetworkPolicy
  | CiliumNetworkPolicy | CiliumClusterwideNetworkPolicy | CiliumCIDRGroup | HTTPRoute;

/** An object's namespace, `default` when unset (as kubectl and the apiserver default it). */
export function namespaceOf(o: { metadata: { namespace?: string | undefined } }): string {
  return o.metadata.namespace ?? 'default';
}
