/**
 * L7 visibility without enforcement: Cilium's `policy.cilium.io/proxy-visibility`
 * pod annotation (alias `io.cilium.proxy-visibility`), which Cilium removed in
 * 1.15 and users keep asking for. Accepted in Cilium's own syntax, so that a
 * manifest written for Cilium works unchanged:
 *
 *     <Ingress/80/TCP/HTTP>,<Egress/53/UDP/DNS>
 *
 * one or more `<Direction/port/L4 protocol/L7 protocol>` separated by commas,
 * no white space; Direction Ingress|Egress, port as Cilium's pattern has it
 * (`[1-9][0-9]{1,5}`, at most 65535), L4 TCP|UDP|SCTP|ANY (ANY = TCP and UDP),
 * L7 3..32 letters, case-insensitive; as in Cilium, HTTP in either direction,
 * DNS on egress and Kafka on ingress only, and one port/protocol/direction
 * named with two L7 protocols, is an invalid annotation.
 *
 * beeline honours `<Ingress|Egress>/<port>/TCP/HTTP` (and the TCP part of
 * ANY): the node proxy speaks HTTP only. A direction the node has no proxy
 * listener for is reported by the engine (repository.ts); DNS, Kafka and
 * HTTP over UDP/SCTP are reported as not honoured here (never silently
 * dropped); an invalid annotation is ignored whole, as Cilium ignores it,
 * and reported.
 *
 * Beyond Cilium: a Namespace may carry the same annotation; it applies to
 * every pod of the namespace that has no annotation of its own (a pod's own
 * annotation replaces the namespace's, it does not add to it).
 */
import type { PolicyProblem } from './types.js';

/** The annotation's name (Cilium's `annotation.ProxyVisibility`). */
export const PROXY_VISIBILITY_ANNOTATION = 'policy.cilium.io/proxy-visibility';
/** Cilium's older alias (`annotation.ProxyVisibilityAlias`), read when the main name is absent. */
export const PROXY_VISIBILITY_ANNOTATION_ALIAS = 'io.cilium.proxy-visibility';

const ENTRY = '<(Ingress|Egress)/([1-9][0-9]{1,5})/(TCP|UDP|SCTP|ANY)/([A-Za-z]{3,32})>';
/** Cilium's `annotationRegex` (pkg/policy/visibility.go), SCTP included as in its newer versions. */
const ANNOTATION_RE = new RegExp(`^(${ENTRY})(,(${ENTRY}))*$`);
const ENTRY_RE = new RegExp(`^${ENTRY}$`);

/**
 * What an endpoint's proxy-visibility annotation asks the policy engine for
 * (EndpointInfo.visibility): the ingress TCP ports whose HTTP traffic goes
 * through the node proxy for records only, and what of the annotation could
 * not be honoured.
 */
export interface ProxyVisibility {
  /** Where the annotation is, printed as a problem's origin: `Pod/<ns>/<name>` or `Namespace/<ns>`. */
  source: string;
  /** The annotation's key as written (the main name or Cilium's alias), for field paths. */
  annotation: string;
  /** Ingress TCP ports to redirect to the node proxy as HTTP; sorted, unique. */
  ingressHttp: number[];
  /** Egress TCP ports (the destination's) to redirect to the node proxy as HTTP; sorted, unique. */
  egressHttp: number[];
  /** Warnings: an invalid annotation (ignored whole), entries beeline cannot honour. */
  problems: PolicyProblem[];
}

/** The annotation's value on an object (main name first, then the alias); undefined when it has none. */
export function visibilityAnnotationOf(obj: { metadata?: { annotations?: Record<string, string> } } | undefined): { name: string; value: string } | undefined {
  const a = obj?.metadata?.annotations;
  if (!a) return undefined;
  if (typeof a[PROXY_VISIBILITY_ANNOTATION] === 'string') return { name: PROXY_VISIBILITY_ANNOTATION, value: a[PROXY_VISIBILITY_ANNOTATION] };
  if (typeof a[PROXY_VISIBILITY_ANNOTATION_ALIAS] === 'string') return { name: PROXY_VISIBILITY_ANNOTATION_ALIAS, value: a[PROXY_VISIBILITY_ANNOTATION_ALIAS] };
  return undefined;
}

/**
 * Parses an annotation value. `source` names the object (`Pod/ns/name`),
 * `name` the annotation key as written (for the problems' field path).
 */
export function parseProxyVisibility(value: string, source: string, name: string = PROXY_VISIBILITY_ANNOTATION): ProxyVisibility {
  const path = `metadata.annotations[${name}]`;
  const problem = (message: string): PolicyProblem => ({ severity: 'warning', policy: source, path, message });
  const invalid = (why: string): ProxyVisibility => ({
    source, annotation: name, ingressHttp: [], egressHttp: [],
    problems: [problem(`Invalid value: ${JSON.stringify(value)}: ${why}; the annotation is ignored (expected <Ingress|Egress/port/TCP|UDP|SCTP|ANY/HTTP|DNS|Kafka>[,...], e.g. <Ingress/80/TCP/HTTP>)`)],
  });
  if (!ANNOTATION_RE.test(value)) return invalid('does not match the proxy-visibility format');
  const ports = { Ingress: new Set<number>(), Egress: new Set<number>() };
  const problems: PolicyProblem[] = [];
  /** direction/port/L4 → L7 protocol, for Cilium's duplicate check. */
  const seen = new Map<string, string>();
  for (const entry of value.split(',')) {
    const m = ENTRY_RE.exec(entry)!;
    const direction = m[1] as 'Ingress' | 'Egress';
    const port = Number(m[2]);
    const l4 = m[3]!;
    const l7 = m[4]!.toLowerCase();
    if (port > 65535) return invalid(`${entry}: port ${port} must be between 1 and 65535`);
    if (l7 !== 'http' && l7 !== 'dns' && l7 !== 'kafka') return invalid(`${entry}: unsupported L7 protocol ${m[4]} (HTTP, DNS or Kafka)`);
    if (l7 === 'dns' && direction !== 'Egress') return invalid(`${entry}: DNS is allowed on Egress only`);
    if (l7 === 'kafka' && direction !== 'Ingress') return invalid(`${entry}: Kafka is allowed on Ingress only`);
    for (const proto of l4 === 'ANY' ? ['TCP', 'UDP'] : [l4]) {
      const k = `${direction}/${port}/${proto}`;
      const had = seen.get(k);
      if (had !== undefined && had !== l7) return invalid(`duplicate annotations with different L7 protocols ${had} and ${l7} for ${port}/${proto} (${direction})`);
      seen.set(k, l7);
    }
    if (l7 !== 'http') {
      problems.push(problem(`${entry}: not honoured: beeline's node proxy has no ${l7 === 'dns' ? 'DNS' : 'Kafka'} parser yet; this traffic is not redirected and gives no L7 records`));
      continue;
    }
    if (l4 === 'UDP' || l4 === 'SCTP') {
      problems.push(problem(`${entry}: not honoured: HTTP is redirected on TCP only`));
      continue;
    }
    if (l4 === 'ANY') problems.push(problem(`${entry}: only its TCP part is honoured: HTTP is redirected on TCP only, UDP ${port} is not redirected`));
    ports[direction].add(port);
  }
  const sorted = (x: Set<number>) => [...x].sort((a, b) => a - b);
  return { source, annotation: name, ingressHttp: sorted(ports.Ingress), egressHttp: sorted(ports.Egress), problems: dedupe(problems) };
}

/**
 * The visibility of a pod: its own annotation, else its namespace's, else
 * undefined. `namespace` is the pod's Namespace object, when known.
 */
export function podProxyVisibility(
  pod: { metadata: { name: string; namespace?: string; annotations?: Record<string, string> } } | undefined,
  namespace: { metadata: { name: string; annotations?: Record<string, string> } } | undefined,
): ProxyVisibility | undefined {
  const own = visibilityAnnotationOf(pod);
  if (own && pod) return parseProxyVisibility(own.value, `Pod/${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`, own.name);
  const ns = visibilityAnnotationOf(namespace);
  if (ns && namespace) return parseProxyVisibility(ns.value, `Namespace/${namespace.metadata.name}`, ns.name);
  return undefined;
}

function dedupe(list: PolicyProblem[]): PolicyProblem[] {
  const seen = new Set<string>();
  return list.filter((p) => (seen.has(p.message) ? false : (seen.add(p.message), true)));
}
