/**
 * Cluster DNS served by dnsmasq (Debian's dnsmasq-base).
 *
 * The cluster DNS runs as kube-system pods labelled `k8s-app: kube-dns` (a
 * Deployment `coredns`, as a real cluster's CoreDNS) behind the kube-dns
 * Service; each pod's program is dnsmasq answering
 * `<svc>.<ns>.svc.cluster.local` from a hosts file the lab's controllers write
 * into a watched directory (--hostsdir: new and changed files are read by
 * inotify, records of changed or deleted files are dropped, no restart or
 * SIGHUP). Names under cluster.local that are not in the files answer NXDOMAIN
 * locally; everything else goes to the lab's "outside world" DNS, a second
 * dnsmasq in the world netns that answers only from its own hosts directory
 * (one file per name, which setWorldRecords rewrites at run time) with a short
 * TTL (WORLD_DNS_TTL_S). Neither ever reads the machine's /etc/resolv.conf or
 * /etc/hosts, so no lab query reaches the machine's real resolvers.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAsync } from '../common/exec.js';
import { LabNotFoundError, LabStepError } from '../common/errors.js';
import { readState } from './state.js';
import type { ObjectInput } from '../store/store.js';
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
 * dnsmasq arguments for the cluster DNS (one kube-dns pod's). Answers cluster names from
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
 * The TTL (seconds) of every answer of the world DNS (dnsmasq --local-ttl): short, so that tests
 * can watch a learned address expire after a name's addresses change (setWorldRecords).
 */
export const WORLD_DNS_TTL_S = 2;

/**
 * dnsmasq arguments for the lab's "outside world" DNS (plays the internet's):
 * answers only from the hosts files in `hostsDir` (re-read on change, like the
 * cluster DNS's), with TTL WORLD_DNS_TTL_S, NXDOMAIN for every other name,
 * forwards nothing. `--address=/#/` with no address means "every domain is
 * local"; hosts entries still win over it (dnsmasq(8), --address).
 */
export function worldDnsArgs(opts: { listen: string; hostsDir: string; pidFile?: string; port?: number }): string[] {
  return [
    ...isolatedBase(opts.listen, opts.port ?? 53, opts.pidFile),
    `--hostsdir=${opts.hostsDir}`,
    `--local-ttl=${WORLD_DNS_TTL_S}`,
    '--address=/#/',
  ];
}

/**
 * The names the world DNS knows from the start. The historical names point at the world's own
 * address; the FQDN test names each at an extra world address of their own (`api.example.test`
 * → extraIPs[0], `www.example.test` → extraIPs[1], `evil.test` → extraIPs[2]), so that reaching
 * one name's address says nothing about another's.
 */
export function worldHosts(world: { ip: string; extraIPs: readonly string[] }): DnsRecord[] {
  const own = ['api.example.com', 'example.com', 'world.lab', 'www.example.com'].map((name) => ({ name, ip: world.ip }));
  const fqdn = ['api.example.test', 'www.example.test', 'evil.test'].map((name, i) => ({ name, ip: world.extraIPs[i] ?? world.ip }));
  return [...own, ...fqdn];
}

const DNS_NAME_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** The file of the world's hosts directory that holds `name`'s records (one file per name). */
export function worldHostsFileName(name: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (!DNS_NAME_RE.test(n)) throw new UsageError(`world DNS name ${JSON.stringify(name)}: not a DNS name`, 'letters, digits, dashes and dots, e.g. api.example.test');
  return `${n}.hosts`;
}

/** Writes every record of `records` into `hostsDir`, one file per name (what setWorldRecords replaces). */
export function writeWorldHosts(hostsDir: string, records: DnsRecord[]): void {
  mkdirSync(hostsDir, { recursive: true });
  const byName = new Map<string, DnsRecord[]>();
  for (const r of records) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  for (const [name, rs] of byName) replaceHostsFile(hostsDir, worldHostsFileName(name), rs);
}

/** Written aside (a dotfile, which dnsmasq ignores) and renamed in: dnsmasq's inotify sees one complete file. */
function replaceHostsFile(hostsDir: string, file: string, records: DnsRecord[]): void {
  const tmp = join(hostsDir, `.${file}.tmp`);
  writeFileSync(tmp, hostsFileText(records));
  renameSync(tmp, join(hostsDir, file));
}

/** The world's hosts directory of a lab whose directory is `labDir`. */
export function worldHostsDir(labDir: string): string {
  return join(labDir, 'dns', 'world-hosts');
}

/**
 * Gives world name `name` the addresses `ips` (none: the name no longer exists, NXDOMAIN), at run
 * time: rewrites the name's file in the world DNS's hosts directory atomically, then returns only
 * once the world DNS answers exactly `ips` to a real query made from inside the lab (dig in the
 * world's namespace, at the world DNS's address), so the caller's next query sees the change.
 * Addresses outside the world's own and extra addresses are allowed (a test may point a name at
 * anything), but must be IPv4.
 */
export async function setWorldRecords(lab: string, name: string, ips: readonly string[], opts: { timeoutMs?: number } = {}): Promise<void> {
  const file = worldHostsFileName(name);
  const fqdn = file.slice(0, -'.hosts'.length);
  for (const ip of ips) if (tryParseIPv4(ip) === undefined) throw new UsageError(`world DNS ${fqdn}: ${JSON.stringify(ip)} is not an IPv4 address`);
  const state = readState(lab);
  if (!state) throw new LabNotFoundError(`lab ${lab}: not found`);
  const dir = worldHostsDir(state.dir);
  mkdirSync(dir, { recursive: true });
  const want = [...new Set(ips)].sort(compareIPs);
  if (want.length) replaceHostsFile(dir, file, want.map((ip) => ({ name: fqdn, ip })));
  else rmSync(join(dir, file), { force: true });
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  let got = '';
  for (;;) {
    const r = await runAsync('ip', ['netns', 'exec', state.plan.world.netns, 'dig', '+short', '+time=1', '+tries=1', `@${state.plan.world.ip}`, fqdn, 'A'], { allowFailure: true, timeoutMs: 3000 });
    got = r.stdout.trim().split('\n').filter(Boolean).sort(compareIPs).join(',');
    if (r.code === 0 && got === want.join(',')) return;
    if (Date.now() > deadline) throw new LabStepError(`world DNS ${fqdn}: still answers [${got}] instead of [${want.join(',')}] after ${opts.timeoutMs ?? 5000} ms`, { hint: `see ${join(state.dir, 'dns', 'world.log')}` });
    await new Promise((r) => setTimeout(r, 50));
  }
}

function compareIPs(a: string, b: string): number {
  return (tryParseIPv4(a) ?? 0) - (tryParseIPv4(b) ?? 0);
}

/** The cluster DNS Deployment's name and its pods' labels (those of a real cluster's CoreDNS). */
export const CLUSTER_DNS_DEPLOYMENT = 'coredns';
export const CLUSTER_DNS_LABELS: Readonly<Record<string, string>> = { 'k8s-app': 'kube-dns' };
/** The image of the cluster DNS pods (src/lab/images.ts: the host's dnsmasq with the container's args). */
export const CLUSTER_DNS_IMAGE = 'beeline/cluster-dns:dnsmasq';

/** Where the cluster DNS container sees the hosts files. */
export const CLUSTER_DNS_HOSTS_MOUNT = '/var/lib/cluster-dns/hosts';

/**
 * The cluster DNS as a real cluster runs it: Deployment kube-system/coredns, pods labelled
 * `k8s-app: kube-dns` (the kube-dns Service's selector), each a dnsmasq (clusterDnsArgs) on the
 * pod's own address (`$(POD_IP)` from the downward API), ready once it accepts TCP on 53. The
 * scheduler puts each replica on the node with the fewest pods, so two replicas on a lab of two
 * ready nodes land one on each node.
 */
export function clusterDnsDeployment(opts: { replicas: number; hostsDir: string; upstream: string }): ObjectInput {
  const labels = { ...CLUSTER_DNS_LABELS };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: CLUSTER_DNS_DEPLOYMENT, namespace: 'kube-system', labels: { ...labels } },
    spec: {
      replicas: opts.replicas,
      selector: { matchLabels: { ...labels } },
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          // The controllers' hosts files, bound read-only into the container (it sees nothing else of the lab).
          volumes: [{ name: 'hosts', hostPath: { path: opts.hostsDir, type: 'Directory' } }],
          containers: [{
            name: 'coredns',
            image: CLUSTER_DNS_IMAGE,
            args: clusterDnsArgs({ listen: '$(POD_IP)', hostsDir: CLUSTER_DNS_HOSTS_MOUNT, upstream: opts.upstream }),
            volumeMounts: [{ name: 'hosts', mountPath: CLUSTER_DNS_HOSTS_MOUNT, readOnly: true }],
            env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
            ports: [
              { name: 'dns', containerPort: 53, protocol: 'UDP' },
              { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
            ],
            readinessProbe: { tcpSocket: { port: 53 }, periodSeconds: 1, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
          }],
        },
      },
    },
  } as ObjectInput;
}
