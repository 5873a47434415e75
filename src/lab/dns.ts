/**
 * Cluster DNS served by dnsmasq (Debian's dnsmasq-base): the pure parts.
 *
 * Each node runs one dnsmasq answering `<svc>.<ns>.svc.cluster.local` from a
 * hosts file the lab writes into a watched directory (--hostsdir: new and
 * changed files are read by inotify, records of changed or deleted files are
 * dropped, no restart or SIGHUP). Names under cluster.local that are not in
 * the files answer NXDOMAIN locally; everything else goes to the lab's
 * "outside world" DNS, a second dnsmasq in the world netns that answers only
 * from its own hosts file. Neither ever reads the machine's /etc/resolv.conf
 * or /etc/hosts, so no lab query reaches the machine's real resolvers.
 */
import type { Endpoint, Service } from '../k8s/types.js';
import type { StoreObject } from '../store/store.js';
import { formatIPv4, parseCidr, tryParseIPv4 } from '../ipam/cidr.js';
import { UsageError } from '../common/errors.js';
import { namespaceOf as nsOf } from '../k8s/types.js';

export const CLUSTER_DOMAIN = 'cluster.local';

/** One A record. */
export interface DnsRecord {
  name: string;
  ip: string;
}

/**
 * The cluster DNS service address: the 10th address of the service CIDR, as
 * kubeadm picks it (10.96.0.10 for 10.96.0.0/12).
 */
export function kubeDnsIP(serviceCIDR: string): string {
  const c = parseCidr(serviceCIDR, 'service CIDR');
  if (c.size <= 10) throw new UsageError(`service CIDR ${c.text} is too small for a DNS address at index 10`);
  return formatIPv4(c.base + 10);
}


function compareRecords(a: DnsRecord, b: DnsRecord): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  const x = tryParseIPv4(a.ip), y = tryParseIPv4(b.ip);
  if (x !== undefined && y !== undefined) return x - y;
  return a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0;
}

/**
 * The A records of the cluster, sorted by name then address, no duplicates:
 *  - a service with a cluster IP: `<svc>.<ns>.svc.cluster.local` → spec.clusterIP;
 *  - a headless service (clusterIP None): the same name → every address of
 *    its slices' endpoints not marked unready (one record per address), and
 *    `<hostname>.<svc>.<ns>.svc.cluster.local` for endpoints with a hostname
 *    (the DNS spec's per-pod names of headless services).
 * ExternalName services are skipped: they need a CNAME, which a hosts file
 * cannot express (dnsmasq's --cname could, but only from its command line).
 */
export function dnsRecords(services: StoreObject[], slices: StoreObject[]): DnsRecord[] {
  const out = new Map<string, DnsRecord>();
  const add = (name: string, ip: string) => out.set(`${name} ${ip}`, { name, ip });
  for (const obj of services) {
    const svc = obj as unknown as Service;
    const spec = svc.spec ?? {};
    if ((spec.type as string | undefined) === 'ExternalName') continue;
    const ns = nsOf(obj);
    const fqdn = `${svc.metadata.name}.${ns}.svc.${CLUSTER_DOMAIN}`;
    if (spec.clusterIP && spec.clusterIP !== 'None') {
      add(fqdn, spec.clusterIP);
      continue;
    }
    if (spec.clusterIP !== 'None') continue; // no address allocated yet: no record rather than a wrong one
    for (const s of slices) {
      if (nsOf(s) !== ns || s.metadata.labels?.['kubernetes.io/service-name'] !== svc.metadata.name) continue;
      if (s['addressType'] !== undefined && s['addressType'] !== 'IPv4') continue; // A records only
      for (const ep of (s['endpoints'] as Endpoint[] | undefined) ?? []) {
        if (ep.conditions?.ready === false) continue;
        for (const ip of ep.addresses) {
          add(fqdn, ip);
          if (ep.hostname) add(`${ep.hostname}.${fqdn}`, ip);
        }
      }
    }
  }
  return [...out.values()].sort(compareRecords);
}

/** /etc/hosts text: `<ip> <name>`, one line per record, in the order given. */
export function hostsFileText(records: DnsRecord[]): string {
  return records.map((r) => `${r.ip} ${r.name}\n`).join('');
}

/**
 * The least time between two rewrites of the cluster hosts file that holds `records` lines.
 * Every rewrite makes each node's dnsmasq re-read the whole file (inotify on --hostsdir):
 * streaming 50,000 Services rewrote it on every controller pass (30 ms apart). Spacing rewrites
 * by 40 µs a line (2 ms at 50 records, 2 s at 50,000 and above) cuts how many re-reads are
 * queued, and a lone change to a small cluster still shows at once. It does not make a re-read
 * cheap: measured on 2026-12-06, dnsmasq 2.90 takes about 20 s of CPU to re-read a 50,000-line
 * file through --hostsdir, against 0.1-0.2 s for the same file as --addn-hosts at start or on
 * SIGHUP (docs/performance.md, Services): switching is the next step.
 */
export function hostsRewriteGapMs(records: number): number {
  return Math.min(2000, records * 0.04);
}

/** The resolv.conf kubelet writes for a pod with dnsPolicy ClusterFirst in `namespace`. */
export function resolvConf(namespace: string, nameserver: string): string {
  return [
    `search ${namespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}`,
    `nameserver ${nameserver}`,
    'options ndots:5',
    '',
  ].join('\n');
}

/** Flags both lab dnsmasqs share: never touch the machine's resolver configuration. */
function isolatedBase(listen: string, port: number, pidFile: string | undefined): string[] {
  return [
    '--keep-in-foreground',
    '--log-facility=-', // stderr: the daemon's log file
    '--no-resolv', // never read /etc/resolv.conf, so never forward to the machine's resolvers
    '--no-hosts', // never answer from the machine's /etc/hosts
    '--no-poll',
    `--listen-address=${listen}`,
    '--bind-interfaces', // bind only `listen`, not the wildcard address
    `--port=${port}`,
    // Started as root; stay root so the lab's run dir (0700) stays readable.
    '--user=root',
    // Empty: no pid file (the default is /var/run/dnsmasq.pid, the machine's own dnsmasq's).
    `--pid-file=${pidFile ?? ''}`,
  ];
}

/**
 * dnsmasq arguments for one node's cluster DNS. Answers cluster names from
 * the hosts files in `hostsDir` (re-read on change, no cache so changes show
 * at once), NXDOMAIN for other cluster.local names, and forwards the rest to
 * `upstream` only (`ip` or `ip#port`).
 */
export function clusterDnsArgs(opts: { listen: string; hostsDir: string; upstream: string; pidFile?: string; port?: number }): string[] {
  return [
    ...isolatedBase(opts.listen, opts.port ?? 53, opts.pidFile),
    `--hostsdir=${opts.hostsDir}`,
    `--local=/${CLUSTER_DOMAIN}/`,
    `--server=${opts.upstream}`,
    // No cache: a forwarded answer is never stale after the world changes;
    // hosts records do not depend on the cache.
    '--cache-size=0',
    '--domain-needed', // single-label names never leave the node
  ];
}

/**
 * dnsmasq arguments for the lab's "outside world" DNS (plays the internet's):
 * answers only from `hostsFile`, NXDOMAIN for every other name, forwards
 * nothing. `--address=/#/` with no address means "every domain is local";
 * hosts entries still win over it (dnsmasq(8), --address).
 */
export function worldDnsArgs(opts: { listen: string; hostsFile: string; pidFile?: string; port?: number }): string[] {
  return [
    ...isolatedBase(opts.listen, opts.port ?? 53, opts.pidFile),
    `--addn-hosts=${opts.hostsFile}`,
    '--address=/#/',
  ];
}

/** The names the world DNS knows, all pointing at the world namespace's address. */
export function worldHosts(worldIP: string): DnsRecord[] {
  return ['api.example.com', 'example.com', 'world.lab', 'www.example.com'].map((name) => ({ name, ip: worldIP }));
}
