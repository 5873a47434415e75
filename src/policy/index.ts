/**
 * The policy engine: CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and
 * Kubernetes NetworkPolicy in, per-endpoint BPF policy map entries out.
 * Pure: no I/O, no timers, no store; data in, data out.
 *
 * Output. One LPM-trie map for all local endpoints, keyed by (endpoint id,
 * direction, peer identity [0 = any], protocol [0 = any], destination port
 * with a prefix length 0..16). An entry's value is a verdict ('allow',
 * 'deny', 'default-deny'), a cookie naming the rules that decided
 * (CookieTable: sorted origin sets ↔ stable numbers, 0 = none) and a proxy
 * port (an allow that redirects to the node proxy; 0 = none).
 *
 * Datapath lookup (lookupPolicy, the only definition of an entry's meaning):
 * e1 = most specific match for the peer identity, e2 = for identity 0
 * (protocol set beats protocol 0, longer port prefix beats shorter); a deny
 * in e1 or e2 drops (reason 181); else an allow in e1 (then e2) passes, match
 * type L3-Only / L3-L4 / L4-Only / all; else the packet is dropped by default
 * deny (reason 133), decided by the default-deny entry whose cookie names the
 * policies that enforce the direction. A direction that is not enforced has
 * no entries and is not looked up (allowed, match 'none'); an enforced one
 * always has an entry on the (identity 0, protocol 0) key: the direction's
 * default (the default-deny entry, or default-allow's allow entry), unless
 * an allow or deny of every peer on every port took that key (deny > allow >
 * default-deny on one key; allows merge their origins).
 *
 * Semantics (Cilium's; NetworkPolicy with Kubernetes' own):
 *  - "Enforced" (looked up) and "default deny" are two properties of a
 *    direction. A direction is enforced for an endpoint once a rule
 *    selecting it has that direction's section (ingress/ingressDeny;
 *    `ingress: [{}]` counts and allows nothing). It is default deny when
 *    one of those rules leaves enableDefaultDeny on for it (or enforcement
 *    is 'always', origin enforcement-always); when every one of them turns
 *    it off, the direction is enforced with default allow: an allow entry
 *    on the (identity 0, any protocol) key (origin default-allow, as
 *    Cilium's inserted allow-all rule), so that their denies still drop.
 *    'never' emits nothing. With allowLocalhost (default) enforced ingress
 *    allows identity 1 (origin allow-localhost).
 *  - Each rule is a cross product of peers × ports; no peers = any identity
 *    (0), no ports = any protocol (0). Port ranges become aligned prefixes;
 *    ANY = TCP, UDP, SCTP (ANY with port 0 = protocol 0); ICMP types are
 *    protocol 1, port = type, /16. Named ports resolve against the endpoint
 *    (ingress) or each peer identity (egress); unresolved ones are problems
 *    of the endpoint, not errors of the policy.
 *  - Namespaced selectors (subject and peers) are limited to the policy's
 *    namespace unless a peer names io.kubernetes.pod.namespace; `{}` peers
 *    select pod identities only. CIDR peers select CIDR identities inside
 *    the cidr and outside every except; a /0 adds world (2) and world-ipv4 (9).
 *  - Deny beats allow. Within one identity an allow covered by a deny of the
 *    same or broader protocol/port prefix is emitted as deny (materialised
 *    because the trie returns one entry per identity); across identity 0 and
 *    a specific identity the lookup checks both.
 *  - L7 rules. Each parser needs its listener in PolicyOptions.proxyPorts
 *    (`ingress`/`egress`: HTTP; `dns`: DNS, egress only; `kafka.ingress`/
 *    `kafka.egress`: Kafka); without it that parser's rules are accepted and
 *    enforced as their L4 part (a 'note' problem). With it, the node proxy
 *    enforces them (l7.ts): on a port (or endPort range; not for DNS) where
 *    a selecting allow rule has that parser's rules, HTTP and Kafka on TCP,
 *    DNS on each of UDP and TCP the port rule names (ANY: both; SCTP is then
 *    not allowed, with a note), every allow entry of that direction and
 *    protocol redirects (proxyPort = the parser's listener; DNS over UDP and
 *    TCP share one), peers reaching the port through broader allows (L3-only,
 *    all ports of the protocol, any identity) get a materialised redirect
 *    entry of their own, denies win; EndpointPolicy.l7 lists, per
 *    (direction, port, peer identity, protocol), the parser and its rule
 *    sources the proxy ORs per request/query (`rules: []` for a policy
 *    allowing the port without such rules; a peer's own redirect includes
 *    the identity-0 sources). Two parsers on one port of one endpoint
 *    (overlapping keys of one direction): Cilium refuses the endpoint's
 *    policy; here an error in EndpointPolicy.errors and every peer allowed
 *    there gets a deny entry on those keys (never widened). Two kinds of L7
 *    rules in one port rule are a policy error (Cilium's L7Rules.sanitize).
 *    l7proto rules and TLS/listener settings (serverNames, terminatingTLS,
 *    originatingTLS, listener) are policy errors: no proxy enforces them,
 *    and their L4 part alone would allow more than written.
 *  - L7 visibility without enforcement (EndpointInfo.visibility, the
 *    proxy-visibility annotation, visibility.ts): each of its HTTP ports is
 *    a redirect port of its direction as if a rule had HTTP rules there,
 *    without allowing anything: the peers policy allows on it are
 *    redirected with their sources as above (`rules: []` where they have no
 *    HTTP rules), so every request they send is recorded and none is denied
 *    that policy allows. A direction no policy enforces becomes enforced
 *    with default allow (the allow-all entry with origin
 *    visibility-annotation, whose source allows every request), so it still
 *    drops nothing. Needs the direction's proxy port; without it (or with
 *    enforcement 'never') that part is not honoured and says so in
 *    EndpointPolicy.errors.
 *  - toFQDNs (allow rules only) selects the CIDR identities of exactly the
 *    /32s of the addresses learned for the names it matches (matchName /
 *    matchPattern, compileFqdnSelectors): the agent feeds the DNS proxy's
 *    allowed answers through setFqdnNames, requiredPrefixes() then lists
 *    those /32s so the agent allocates their identities, and fqdnSelected()
 *    tells the DNS proxy whether an answer must wait for the datapath.
 *    toPorts beside toFQDNs keep their ports. Not broader CIDR identities
 *    that contain the addresses (those are toCIDR's).
 *  - nodeSelector rules, to/fromNodes, groups select nothing (warnings);
 *    fromRequires, authentication other than disabled/required (and any in
 *    deny rules), toFQDNs and other unsupported peers in deny rules are
 *    errors. A policy with an error is rejected whole and its previous
 *    version stays in force.
 *  - authentication.mode required: the section's allows (and covered keys
 *    of the same identity) carry authRequired (docs/mesh.md).
 *
 * Incremental use (agent): PolicyRepository keeps policies, identities (with
 * a selector cache updated identity by identity), CIDR identities, Services
 * and peers' named ports; computeEndpoint(ep) computes its EndpointPolicy
 * from scratch; updateEndpoint(ep) brings the endpoint's kept policy up to
 * date with the changes since its last update (per rule and per selector:
 * a policy change recomputes that policy's rules, a new identity the rules
 * whose selectors took it in) and returns the map writes (upserts, deletes)
 * since then, equal to computeEndpoint's result (incremental.test.ts);
 * diffEntries(old, new) the writes between two entry lists;
 * endpointsAffectedBy(key, eps) which endpoints a policy change touches;
 * requiredPrefixes() which CIDR identities to allocate; setFqdnNames(names)
 * the learned DNS names (only the rules whose toFQDNs select a changed name
 * are recomputed) and fqdnSelected(name) whether toFQDNs selects a name. tracePolicy runs computeEndpoint + lookupPolicy for
 * one packet, egress at the source and ingress at the destination.
 */
export * from './types.js';
export { CookieTable, originText, normaliseOrigins, ALLOW_LOCALHOST, ENFORCEMENT_ALWAYS, DEFAULT_ALLOW, VISIBILITY_ANNOTATION } from './cookies.js';
export {
  lookupPolicy, diffEntries, entryKey, compareEntries, entryMatches, directionEnforced, portPrefix, sameEntryValue,
  DROP_POLICY, DROP_POLICY_DENY, type LookupResult, type MatchType,
} from './lookup.js';
export { portRangePrefixes, protocolNumbers, protocolName, icmpType, ICMP4_TYPES, ICMP6_TYPES, type PortPrefix } from './ports.js';
export { compilePolicy, originOf, policyKeyOf, type CompiledPolicy, type CompileOptions, type L7Rules } from './rules.js';
export { computeRedirects, compareRedirects, keyCovers, parserProxyPort, toNodeProxy, type L7Result } from './l7.js';
export {
  parseProxyVisibility, podProxyVisibility, visibilityAnnotationOf, PROXY_VISIBILITY_ANNOTATION, PROXY_VISIBILITY_ANNOTATION_ALIAS, type ProxyVisibility,
} from './visibility.js';
export { PolicyRepository, type PolicyStatus, type EndpointUpdate } from './repository.js';
export { tracePolicy, traceStep, type TraceParty, type TraceRequest, type TraceResult, type TraceStep } from './trace.js';
export { suggestPolicy, stableLabels, exactPathRegex, type SuggestOptions, type SuggestResult, type SuggestKind, type RuleExplanation } from './suggest.js';
