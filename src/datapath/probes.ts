/**
 * Feature probes: ask the running kernel whether it can do X (load a program
 * type, create a map type, let a program call a helper), never which version
 * it is. Backports and configs make version checks lie; probes do not.
 *
 * Every probe has a stable name (`prog_type:sched_cls`, `map_type:ringbuf`,
 * `helper:bpf_redirect_peer`, `bpffs`); requireFeatures() takes those names
 * and throws FeatureMissingError listing what is missing.
 */
import { FeatureMissingError } from '../common/errors.js';
import { errnoName } from './native/errno.js';
import { filesystemType, probeBpfSyscall, probeHelper, probeMapType, probeProgType, type ProbeOutcome } from './native/libbpf.js';
import { BPF_FS_MAGIC, HelperId, MapType, ProgType } from './native/structs.js';

/** One line of a probe report. */
export interface ProbeResult {
  name: string;
  ok: boolean;
  /** "supported", "not supported by this kernel", or why the probe could not tell. */
  detail: string;
}

export interface ProbeOptions {
  /** Where bpffs must be mounted; default /sys/fs/bpf. */
  bpffsPath?: string;
}

interface Probe {
  name: string;
  /** Asks the kernel through bpf(2) (so it needs the privilege to). */
  kernel: boolean;
  /** What beeline uses it for, shown when it is missing. */
  why: string;
  run(opts: ProbeOptions): ProbeResult;
}

function fromOutcome(name: string, o: ProbeOutcome): ProbeResult {
  if (o.supported) return { name, ok: true, detail: 'supported' };
  if (o.errno === undefined) return { name, ok: false, detail: 'not supported by this kernel' };
  const hint = o.errno === 1 ? ' (is this root?)' : '';
  return { name, ok: false, detail: `probe failed: ${errnoName(o.errno)}${hint}` };
}

const progType = (type: keyof typeof ProgType, why: string): Probe => ({
  name: `prog_type:${type.toLowerCase()}`,
  kernel: true,
  why,
  run() {
    return fromOutcome(this.name, probeProgType(ProgType[type]));
  },
});

const mapType = (type: keyof typeof MapType, why: string): Probe => ({
  name: `map_type:${type.toLowerCase()}`,
  kernel: true,
  why,
  run() {
    return fromOutcome(this.name, probeMapType(MapType[type]));
  },
});

/** Helpers are probed from a tc (SCHED_CLS) program, where the datapath calls them. */
const helper = (fn: keyof typeof HelperId, why: string): Probe => ({
  name: `helper:${fn}`,
  kernel: true,
  why,
  run() {
    return fromOutcome(this.name, probeHelper(ProgType.SCHED_CLS, HelperId[fn]));
  },
});

const bpffs: Probe = {
  name: 'bpffs',
  kernel: false,
  why: 'pinning maps so an agent restart keeps datapath state',
  run(opts) {
    const path = opts.bpffsPath ?? '/sys/fs/bpf';
    const type = filesystemType(path);
    if (type === undefined) return { name: this.name, ok: false, detail: `${path} does not exist` };
    if (type !== BPF_FS_MAGIC) {
      return { name: this.name, ok: false, detail: `${path} is not a bpffs mount but f_type 0x${type.toString(16)}: mount -t bpf bpffs ${path}` };
    }
    return { name: this.name, ok: true, detail: `mounted at ${path}` };
  },
};

/** Every probe beeline knows, in report order. */
export const PROBES: readonly Probe[] = [
  progType('SCHED_CLS', 'the tc datapath programs (bl_from_netdev, bl_to_netdev)'),
  progType('CGROUP_SOCK_ADDR', 'socket-level load balancing (connect/sendmsg hooks)'),
  mapType('RINGBUF', 'trace and drop events (bl_events)'),
  mapType('LPM_TRIE', 'the ipcache (prefix → identity)'),
  mapType('PERCPU_HASH', 'per-CPU metrics (bl_metrics)'),
  mapType('PERCPU_ARRAY', 'lost-event counters (bl_events_lost)'),
  mapType('HASH_OF_MAPS', 'per-endpoint policy maps'),
  helper('bpf_redirect_peer', 'fast redirect into a pod namespace'),
  helper('bpf_redirect_neigh', 'redirect with neighbour resolution'),
  helper('bpf_skb_set_tunnel_key', 'the overlay (VXLAN/Geneve) datapath'),
  helper('bpf_ringbuf_output', 'emitting events'),
  helper('bpf_ringbuf_reserve', 'emitting events without a copy'),
  helper('bpf_fib_lookup', 'routing from BPF'),
  helper('bpf_ktime_get_coarse_ns', 'conntrack and NAT timestamps from the tick clock'),
  bpffs,
];

/** The names requireFeatures() accepts. */
export const FEATURE_NAMES: readonly string[] = PROBES.map((p) => p.name);

/** Runs every probe; never throws for a missing feature. */
export function probeAll(opts: ProbeOptions = {}): ProbeResult[] {
  return runProbes(PROBES, opts);
}

/** Runs the named probes; unknown names are reported as failed. */
export function probe(names: readonly string[], opts: ProbeOptions = {}): ProbeResult[] {
  const known = runProbes(
    PROBES.filter((p) => names.includes(p.name)),
    opts,
  );
  return names.map(
    (name) => known.find((r) => r.name === name) ?? { name, ok: false, detail: 'unknown feature name (see FEATURE_NAMES)' },
  );
}

function runProbes(probes: readonly Probe[], opts: ProbeOptions): ProbeResult[] {
  // libbpf reports "unsupported" when bpf(2) is refused outright (EPERM):
  // check once that we may use it, so a missing privilege is not mistaken for an old kernel.
  let access: ProbeOutcome | undefined;
  return probes.map((p) => {
    try {
      if (p.kernel) {
        access ??= probeBpfSyscall();
        if (!access.supported) {
          const e = access.errno ?? 0;
          return { name: p.name, ok: false, detail: `cannot probe: bpf(2) refused with ${errnoName(e)}${e === 1 ? ' (is this root?)' : ''}` };
        }
      }
      return p.run(opts);
    } catch (err) {
      return { name: p.name, ok: false, detail: `probe failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  });
}

/** Throws FeatureMissingError naming every feature in `names` this kernel (or host) lacks. */
export function requireFeatures(names: readonly string[], opts: ProbeOptions = {}): void {
  const missing = probe(names, opts).filter((r) => !r.ok);
  if (missing.length === 0) return;
  const why = (name: string) => PROBES.find((p) => p.name === name)?.why;
  const list = missing.map((r) => `${r.name} (${r.detail}${why(r.name) ? `; needed for ${why(r.name)}` : ''})`).join(', ');
  throw new FeatureMissingError(`missing kernel features: ${list}`, 'run `beeline bpf features` for the full report; a newer kernel or config may be needed');
}
