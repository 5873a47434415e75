/**
 * The agent's caches as the flow pipeline asks them (FlowEnricher): local
 * endpoints, identities, the ipcache, pods of every node, Services and the
 * policy cookie table. Each answer comes from memory; the indexes are
 * rebuilt lazily when their source says it changed, never per flow.
 */
import type { DecidingPolicy, EndpointInfo, FlowEnricher } from '../observer/types.js';
import type { EndpointModel } from './types.js';
import type { Identity } from '../identity/reserved.js';
import { reservedIdentity } from '../identity/reserved.js';
import { formatLabel } from '../identity/labels.js';
import type { Origin } from '../policy/types.js';
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

/** A pod as the store has it, reduced to what a flow names. */
export interface PodRef {
  namespace: string;
  name: string;
  /** The controller that owns it (Deployment, DaemonSet, ...), as Hubble's workloads. */
  workload?: { name: string; kind: string };
  /** spec.serviceAccountName when set (Kubernetes' default: `default`); the mesh's identity of the pod. */
  serviceAccount?: string;
}

/** Where the enricher reads from; every function is a cheap in-memory read. */
export interface FlowSources {
  nodeName: string;
  /** Local endpoints. */
  endpoints(): readonly EndpointModel[];
  /** Changes whenever the endpoint list or an endpoint's identity changes. */
  endpointsVersion(): number;
  /** Every identity the node knows (reserved ones included). */
  identities(): readonly Identity[];
  identitiesVersion(): number;
  /** The identity bl_ipcache gives an address (world when nothing more specific). */
  identityOfIP(ip: string): number;
  /** A pod of any node by its address. */
  podByIP(ip: string): PodRef | undefined;
  /**
   * Changes whenever pods change (an address, an owner). A local endpoint
   * exists before its pod has an address (CNI ADD comes before the kubelet
   * writes status.podIP), so its pod and workload are looked up again then.
   */
  podsVersion?(): number;
  /** A pod of any node by namespace and name: a local endpoint's, before its pod has an address. */
  podByName?(namespace: string, name: string): PodRef | undefined;
  /** `10.96.0.10:53/UDP` style frontends with the Service (`ns/name`) they belong to. */
  frontends(): readonly { frontend: string; service: string }[];
  frontendsVersion(): number;
  /** The policies a policy-map cookie stands for. */
  cookieOrigins(cookie: number): Origin[];
  /** The policies that made an endpoint default-deny in a direction (none: not default-deny). */
  defaultDenyOrigins(endpointId: number, direction: 'ingress' | 'egress'): Origin[];
  /** DNS names learned for an address (none until the DNS proxy exists). */
  namesForIP?(ip: string): string[];
  /**
   * The labels of a node-local identity (a CIDR identity: `reserved:world`,
   * `cidr:…`), as Hubble shows them on flows to and from such addresses.
   */
  localIdentityLabels?(identity: number): string[] | undefined;
  /** A pod of any node by its metadata.uid. */
  podByUID?(uid: string): PodRef | undefined;
  /**
   * The cgroup v2 directory holding this node's pods (the socket hooks'
   * cgroup); pods sit below it in `pod<uid>` directories, as the kubelet
   * makes them. Absent: SOCK flows have no source endpoint.
   */
  podCgroupRoot?: string;
}

/** `pod<uid>` in a cgroup path, as the kubelet names pod cgroups (cgroupfs: dashes, systemd: underscores). */
const POD_CGROUP = /(?:^|[-_.])pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;

/**
 * cgroup id (the directory's inode, what bpf_get_current_cgroup_id()
 * returns) → the pod uid of the nearest `pod<uid>` directory above it, for
 * every directory below root (a few levels deep).
 */
export function scanPodCgroups(root: string, maxDepth = 5): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, uid: string | undefined, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // removed while we looked
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const path = join(dir, e.name);
      const m = POD_CGROUP.exec(e.name);
      const podUid = m ? m[1]!.replace(/_/g, '-') : uid;
      if (podUid) {
        try {
          out.set(String(statSync(path, { bigint: true }).ino), podUid);
        } catch {
          continue;
        }
      }
      if (depth < maxDepth) walk(path, podUid, depth + 1);
    }
  };
  walk(root, undefined, 0);
  return out;
}

/** A policy origin as a flow names it, with Cilium's derived-from labels. */
export function decidingPolicy(o: Origin): DecidingPolicy {
  const ns = o.namespace ?? '';
  const labels = o.kind === 'Builtin'
    ? [`reserved:${o.name}`]
    : [`k8s:io.cilium.k8s.policy.derived-from=${o.kind}`, `k8s:io.cilium.k8s.policy.name=${o.name}`, ...(ns ? [`k8s:io.cilium.k8s.policy.namespace=${ns}`] : [])];
  return { name: o.name, namespace: ns, kind: o.kind, labels };
}

export class AgentFlowEnricher implements FlowEnricher {
  readonly nodeName: string;
  #byId = new Map<number, EndpointInfo>();
  #byIP = new Map<string, EndpointInfo>();
  /** `namespace/name` of a local pod → its endpoint (the first, as the list has them), for SOCK flows. */
  #byPod = new Map<string, { info: EndpointInfo; ip: string }>();
  #epVersion = -1;
  #labels = new Map<number, string[]>();
  #idVersion = -1;
  #podsVersion = -1;
  #frontends = new Map<string, { name: string; namespace: string }>();
  /** Addresses of any frontend: most flows are not to or from a Service, and need no key built. */
  #frontendIPs = new Set<string>();
  #feVersion = -1;
  #cookies = new Map<number, DecidingPolicy[]>();
  /** cgroup id → pod uid, rescanned at most once a second on a miss. */
  #cgroups = new Map<string, string>();
  #cgroupScanAt = 0;
  /** Remote addresses resolved once, until identities or endpoints change (pods keep their address for life). */
  #remote = new Map<string, EndpointInfo>();
  /** Other addresses (world, hosts, CIDR identities): kept while bl_ipcache gives them the same identity. */
  #other = new Map<string, EndpointInfo>();

  constructor(private readonly src: FlowSources) {
    this.nodeName = src.nodeName;
  }

  #refresh(): void {
    const iv = this.src.identitiesVersion();
    if (iv !== this.#idVersion) {
      this.#idVersion = iv;
      this.#labels.clear();
      for (const i of this.src.identities()) this.#labels.set(i.id, i.labels.map(formatLabel));
      this.#epVersion = -1;
      this.#remote.clear();
      this.#other.clear();
    }
    const pv = this.src.podsVersion?.() ?? 0;
    if (pv !== this.#podsVersion) {
      this.#podsVersion = pv;
      this.#epVersion = -1;
      this.#remote.clear();
    }
    const ev = this.src.endpointsVersion();
    if (ev !== this.#epVersion) {
      this.#epVersion = ev;
      this.#byId.clear();
      this.#byIP.clear();
      this.#byPod.clear();
      this.#remote.clear();
      for (const ep of this.src.endpoints()) {
        const pod = ep.pod ? (this.src.podByName?.(ep.pod.namespace, ep.pod.name) ?? this.src.podByIP(ep.ipv4)) : undefined;
        const info: EndpointInfo = {
          id: ep.id,
          identity: ep.identity,
          labels: ep.identityLabels ? [...ep.identityLabels].sort() : this.#labels.get(ep.identity) ?? [],
          ...(ep.pod ? { namespace: ep.pod.namespace, podName: ep.pod.name } : {}),
          ...(pod?.workload ? { workloads: [pod.workload] } : {}),
        };
        this.#byId.set(ep.id, info);
        this.#byIP.set(ep.ipv4, info);
        if (ep.pod) {
          const key = `${ep.pod.namespace}/${ep.pod.name}`;
          if (!this.#byPod.has(key)) this.#byPod.set(key, { info, ip: ep.ipv4 });
        }
      }
    }
  }

  endpointById(id: number): EndpointInfo | undefined {
    this.#refresh();
    return this.#byId.get(id);
  }

  endpointByIP(ip: string): EndpointInfo | undefined {
    this.#refresh();
    const local = this.#byIP.get(ip);
    if (local) return local;
    const known = this.#remote.get(ip);
    if (known) return known;
    const identity = this.src.identityOfIP(ip);
    const pod = this.src.podByIP(ip);
    if (!pod) {
      // Not a pod: the same answer object while the address keeps its identity (flows share messages by it).
      const other = this.#other.get(ip);
      if (other && other.identity === identity) return other;
    }
    const info: EndpointInfo = {
      identity,
      labels: this.identityLabels(identity) ?? [],
      ...(pod ? { namespace: pod.namespace, podName: pod.name } : {}),
      ...(pod?.workload ? { workloads: [pod.workload] } : {}),
    };
    // Pods are kept for life; other addresses only while bl_ipcache gives them the same identity (CIDR policies, nodes coming and going).
    const cache = pod ? this.#remote : this.#other;
    if (cache.size > 65536) cache.clear();
    cache.set(ip, info);
    return info;
  }

  identityLabels(identity: number): string[] | undefined {
    this.#refresh();
    return this.#labels.get(identity) ?? reservedIdentity(identity)?.labels.map(formatLabel) ?? this.src.localIdentityLabels?.(identity);
  }

  serviceByFrontend(ip: string, port: number, protocol: 'tcp' | 'udp'): { name: string; namespace: string } | undefined {
    const v = this.src.frontendsVersion();
    if (v !== this.#feVersion) {
      this.#feVersion = v;
      this.#frontends.clear();
      this.#frontendIPs.clear();
      for (const f of this.src.frontends()) {
        const slash = f.service.indexOf('/');
        const key = f.frontend.toLowerCase();
        this.#frontends.set(key, slash < 0 ? { namespace: '', name: f.service } : { namespace: f.service.slice(0, slash), name: f.service.slice(slash + 1) });
        this.#frontendIPs.add(key.slice(0, key.lastIndexOf(':')));
      }
    }
    if (!this.#frontendIPs.has(ip)) return undefined;
    return this.#frontends.get(`${ip}:${port}/${protocol}`);
  }

  policiesByCookie(cookie: number): DecidingPolicy[] {
    if (!cookie) return [];
    let p = this.#cookies.get(cookie);
    if (!p) {
      p = this.src.cookieOrigins(cookie).map(decidingPolicy);
      // Cookies keep their meaning while the agent runs; an unknown one is not cached (it may be learned later).
      if (p.length) this.#cookies.set(cookie, p);
    }
    return p;
  }

  defaultDenyPolicies(endpointId: number, direction: 'ingress' | 'egress'): DecidingPolicy[] {
    return this.src.defaultDenyOrigins(endpointId, direction).map(decidingPolicy);
  }

  endpointByCgroup(cgroupId: string): { info: EndpointInfo; ip: string } | undefined {
    const root = this.src.podCgroupRoot;
    if (!root || !this.src.podByUID) return undefined;
    let uid = this.#cgroups.get(cgroupId);
    if (uid === undefined && Date.now() - this.#cgroupScanAt > 1000) {
      this.#cgroupScanAt = Date.now();
      this.#cgroups = scanPodCgroups(root);
      uid = this.#cgroups.get(cgroupId);
    }
    const pod = uid ? this.src.podByUID(uid) : undefined;
    if (!pod) return undefined;
    this.#refresh();
    return this.#byPod.get(`${pod.namespace}/${pod.name}`);
  }

  namesForIP(ip: string): string[] {
    return this.src.namesForIP?.(ip) ?? [];
  }
}
