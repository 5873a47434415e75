/**
 * The policy engine's data model: what goes in (endpoints, named ports,
 * services, options) and what comes out (policy map entries, one endpoint's
 * policy, problems). The map entry mirrors the datapath's LPM-trie key and
 * value exactly; see lookup.ts for the lookup the datapath performs.
 */
import type { LabelSet } from '../identity/labels.js';
import type { HttpRuleSource } from '../l7/http/rules.js';
import type { DnsRuleSource } from '../l7/dns/rules.js';
import type { KafkaRuleSource } from '../l7/kafka/rules.js';
import type { ProxyVisibility } from './visibility.js';

/** Direction of traffic as seen by the endpoint whose policy it is. */
export type Direction = 'ingress' | 'egress';

/** What a policy map entry says. 'default-deny' only marks the endpoint's enforced direction. */
export type Verdict = 'allow' | 'deny' | 'default-deny';

/** IANA protocol numbers the engine emits. */
export const Proto = { any: 0, icmp: 1, tcp: 6, udp: 17, sctp: 132 } as const;

/**
 * One entry of an endpoint's policy: what the engine emits and what the
 * datapath writes into the per-endpoint part of the BPF policy map
 * (src/datapath/policy.ts takes this type as is).
 */
export interface PolicyMapEntry {
  /** ingress: packets into the endpoint; egress: packets it sends. */
  direction: Direction;
  /** The peer's security identity; 0: any identity. */
  identity: number;
  /** IPPROTO_* (6 TCP, 17 UDP, 132 SCTP, 1 ICMP); 0: any protocol (then port and portPrefixLen are 0). */
  protocol: number;
  /** Destination port (ICMP: the type), host byte order; with portPrefixLen the first port of a range. */
  port: number;
  /** Leading bits of port that must match, 0..16: 16 one port, 0 any port, k a range of 2^(16-k) ports aligned to its size. */
  portPrefixLen: number;
  /** default-deny: the direction's default entry (identity 0, protocol 0) naming the policies that made it deny. */
  verdict: Verdict;
  /** Which policies decided: an id from the CookieTable, which the agent maps to policy names (reported in verdict and drop events). */
  cookie: number;
  /**
   * The node proxy's listener port (host byte order) this allow redirects to
   * (bl_policy_entry.proxy_port); 0: no redirect. Part of the value, not of
   * the key: a change is a map write (diffEntries).
   */
  proxyPort: number;
  /**
   * An allow of a rule with `authentication: {mode: required}`, or one a
   * broader such allow of the same identity covers
   * (BL_POLICY_F_AUTH_REQUIRED): the connection must be mutually
   * authenticated through the node proxy (docs/mesh.md). Absent: false.
   */
  authRequired?: boolean;
}

/** The L7 parsers the node proxy runs: one per redirected port of an endpoint. */
export type L7Parser = 'http' | 'dns' | 'kafka';

/**
 * One L7 redirect of an endpoint: what the node proxy enforces for one
 * (direction, protocol, port, peer identity), the counterpart of a map entry
 * with a proxyPort. Redirects exist only when the engine has the parser's
 * proxy port (PolicyOptions.proxyPorts).
 *
 * Lookup (the proxy's, like the datapath's): the redirect of the peer's own
 * identity on the port first, else the one of identity 0. Identity 0 means
 * "any identity without its own redirect on this port"; so a peer identity
 * with its own redirect already carries the union of its sources and the
 * identity-0 sources of the same port (rules allowing any peer stay ORed in),
 * and the proxy must not OR them again.
 */
export interface L7Redirect {
  direction: Direction;
  /** Destination port (host byte order); with portPrefixLen the first port of an aligned range. */
  port: number;
  /** 16: one port; less: an endPort range as its aligned prefix, as the map entry's key. */
  portPrefixLen: number;
  /** The peer's identity; 0: any identity (the entry's key identity). */
  identity: number;
  /** The entry's protocol: 6 (TCP) or 17 (UDP, DNS only); HTTP and Kafka are always 6. */
  protocol: number;
  /** Which parser of the node proxy enforces the port; its sources are in the field of that name. */
  parser: L7Parser;
  /** The node proxy's listener port (= the entry's proxyPort); DNS over UDP and TCP share one. */
  proxyPort: number;
  /**
   * parser 'http': one source per policy allowing this peer on this port,
   * sorted by policy, ORed per request; a source with `rules: []` allows
   * every request (a policy allowing the port, or every port, without HTTP
   * rules). Empty for the other parsers.
   */
  http: HttpRuleSource[];
  /** parser 'dns': the same, of `rules.dns` (compileDnsRules); `rules: []` allows every name. */
  dns?: DnsRuleSource[];
  /** parser 'kafka': the same, of `rules.kafka` (compileKafkaRules); `rules: []` allows every request. */
  kafka?: KafkaRuleSource[];
}

/** Kinds of rule origins; `Builtin` for the engine's own (allow-localhost, enforcement-always). */
export type OriginKind = 'CiliumNetworkPolicy' | 'CiliumClusterwideNetworkPolicy' | 'NetworkPolicy' | 'Builtin';

/** Where an entry came from: a policy object, or a built-in rule. */
export interface Origin {
  kind: OriginKind;
  namespace?: string;
  name: string;
}

/** How bad a problem is: an error rejects the policy whole; warnings and notes do not. */
export type ProblemSeverity = 'error' | 'warning' | 'note';

/** One problem with a policy, or with applying it to one endpoint. */
export interface PolicyProblem {
  severity: ProblemSeverity;
  /** The policy's printable origin, e.g. `CiliumNetworkPolicy/ns/name`. */
  policy: string;
  /** Field path in the object, e.g. `spec.ingress[0].toPorts[0].ports[0].endPort`. */
  path: string;
  /** Apiserver-style message, e.g. `Invalid value: 70000: must be between 1 and 65535, inclusive`. */
  message: string;
}

/** A named container port (`containerPort` with a `name`). */
export interface NamedPort {
  name: string;
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

/** A local endpoint whose policy is computed. */
export interface EndpointInfo {
  /** The endpoint id (key of the policy map). */
  id: number;
  /** Its security identity. */
  identity: number;
  /** Its identity's labels. */
  labels: LabelSet;
  namespace: string;
  /** Its own named ports (ingress named ports resolve against these). */
  namedPorts?: NamedPort[];
  /**
   * L7 visibility without enforcement (the proxy-visibility annotation of its
   * pod or namespace, parsed by parseProxyVisibility): its HTTP ports go
   * through the node proxy for records only. A direction not enforced by any
   * policy becomes enforced with default allow (origin visibility-annotation);
   * an enforced one keeps what it allows and denies, and its allowed traffic
   * on those ports is redirected too. Its problems join EndpointPolicy.errors.
   */
  visibility?: ProxyVisibility;
}

/** A Service as toServices needs it. */
export interface ServiceInfo {
  namespace: string;
  name: string;
  /** The Service's own labels (for k8sServiceSelector). */
  labels?: Record<string, string>;
  /** spec.selector; absent = a Service without selector (its addresses are used). */
  selector?: Record<string, string>;
  /** Ready endpoint IPs. */
  addresses?: string[];
}

/** A CiliumCIDRGroup as policies see it. */
export interface CidrGroupInfo {
  name: string;
  labels?: Record<string, string>;
  /** spec.externalCIDRs (IPv6 ones select nothing: the datapath is IPv4). */
  cidrs: string[];
}

export type EnforcementMode = 'default' | 'always' | 'never';

export interface PolicyOptions {
  /** Cilium's --enable-policy: 'default' (enforce when selected), 'always', 'never'. */
  enforcement?: EnforcementMode;
  /** Allow ingress from the local host (identity 1) when ingress is enforced. Default true. */
  allowLocalhost?: boolean;
  /**
   * The node proxy's listener ports (ProxyPorts). A parser with a port has
   * its rules enforced by redirecting the allowed traffic of their ports to
   * the proxy (entries with proxyPort, EndpointPolicy.l7); a parser (or
   * direction) without one keeps its rules as their L4 part, with a note.
   * Absent: no redirects at all.
   */
  proxyPorts?: ProxyPorts;
}

/**
 * The node proxy's listener ports per parser (each 1..65535). `ingress` and
 * `egress`: HTTP; `dns`: the DNS proxy (egress only: DNS rules are egress
 * rules), one port for UDP and TCP; `kafka`: Kafka per direction. A parser
 * (or direction) without a port keeps its rules as their L4 part, with a
 * note.
 */
export interface ProxyPorts {
  ingress?: number;
  egress?: number;
  dns?: number;
  kafka?: { ingress?: number; egress?: number };
}

/** The computed policy of one endpoint. */
export interface EndpointPolicy {
  /** The direction is looked up in the policy map (a rule selects the endpoint in it, or enforcement 'always'). */
  ingressEnforced: boolean;
  egressEnforced: boolean;
  /**
   * An enforced direction drops what nothing allows (reason 133). False for an
   * enforced direction whose selecting rules all say enableDefaultDeny false:
   * it drops only what a deny matches. Always false when not enforced.
   */
  ingressDefaultDeny: boolean;
  egressDefaultDeny: boolean;
  /** Sorted by key (direction, identity, protocol, port, portPrefixLen); keys unique. */
  entries: PolicyMapEntry[];
  /** Policies with a rule that selects the endpoint and has that direction's section. */
  selectedBy: { ingress: Origin[]; egress: Origin[] };
  /** Problems applying the policies to this endpoint (e.g. a named port it does not have). */
  errors: PolicyProblem[];
  /** L7 redirects, one per entry with a proxyPort; sorted by direction, port, portPrefixLen, identity, protocol. Empty without proxyPorts. */
  l7: L7Redirect[];
}
