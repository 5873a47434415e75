/**
 * The datapath lifecycle, one way for every BPF object (libbpf-bootstrap):
 *
 *   const dp = Datapath.open('build/bpf/host.bpf.o', { pinDir });
 *   dp.configure('bl_config', encodeBlDatapathConfig(cfg));   // const volatile globals, before load
 *   dp.load();                                                 // maps created or reused from pins; verifier runs
 *   const att = dp.attachTc('eth0', 'ingress', 'bl_from_netdev');
 *   const metrics = dp.perCpuMap('bl_metrics', keyCodec, valueCodec);
 *   const events = dp.ringBuffer('bl_events', (rec) => …);
 *   …
 *   dp.close();   // readers and fds; tc filters and pinned maps stay in the kernel
 *
 * Nothing here holds an fd: native/libbpf.ts does.
 */
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { AbiMismatchError, BpfError, HostSafetyError } from '../common/errors.js';
import { assertMayChangeNetns } from '../common/netns.js';

export { inRootNetns } from '../common/netns.js';

/** enum bpf_attach_type of the cgroup sections beeline uses. */
export const CGROUP_ATTACH_TYPES: Record<string, number> = {
  'cgroup/connect4': 10, // BPF_CGROUP_INET4_CONNECT
  'cgroup/sendmsg4': 14, // BPF_CGROUP_UDP4_SENDMSG
  'cgroup/recvmsg4': 19, // BPF_CGROUP_UDP4_RECVMSG
  'cgroup/getpeername4': 29, // BPF_CGROUP_INET4_GETPEERNAME
};

/** A program attached to a cgroup (it stays attached after the agent exits). */
export interface CgroupAttachment {
  cgroup: string;
  type: number;
  section: string;
  program: string;
  progId: number;
}

/** True when `dir` is where a cgroup v2 hierarchy is mounted (per /proc/self/mountinfo). */
export function isCgroupMountRoot(dir: string): boolean {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return false;
  }
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  return lines.some((l) => {
    const f = l.split(' ');
    const sep = f.indexOf('-');
    return sep > 0 && f[sep + 1] === 'cgroup2' && f[4] === real;
  });
}
import { PerCpuMap, TypedMap, type Codec } from './maps.js';
import {
  BpfMap,
  BpfObject,
  cgroupQuery,
  filesystemType,
  RingBuffer,
  tcDetach,
  tcHookCreate,
  tcQuery,
  type DataVariable,
  type ObjectMapSpec,
  type ProgramSpec,
  type TcAttachPoint,
  type TcFilterRef,
  type TestRunResult,
} from './native/libbpf.js';
import { BPF_FS_MAGIC, MapType, ProgType, SK_BUFF_SIZE } from './native/structs.js';
import { RingBufferReader, type RingBufferReaderOptions } from './ringbuf.js';

export type { TcAttachPoint, TestRunResult } from './native/libbpf.js';

/** tc filter handle beeline attaches at. Fixed, so re-attaching replaces instead of stacking. */
export const TC_HANDLE = 1;
/** tc filter priority beeline attaches at (lower runs first). */
export const TC_PRIORITY = 1;

const EINVAL = 22;

export interface DatapathOptions {
  /**
   * bpffs directory for pinned maps (created if missing; must be on bpffs).
   * On load, maps are reused from pins there, or created and pinned, so an
   * agent restart keeps their state.
   */
  pinDir?: string;
  /** Which maps to pin; default every map that is not an internal .rodata/.data/.bss map. */
  pinMaps?: readonly string[];
}

export interface AttachTcOptions {
  handle?: number;
  priority?: number;
}

export interface DatapathTestRunOptions {
  /** Run the program this many times (durationNs is the average). */
  repeat?: number;
  /** Capacity of the output packet buffer; default packet length + 512. */
  dataSizeOut?: number;
  /**
   * Input context. Default for tc programs: a zeroed struct __sk_buff, so the
   * kernel fills len, protocol etc. from the packet. null: no context.
   */
  ctxIn?: Uint8Array | null;
}

/** A tc program attached at one (interface, direction, handle, priority). */
export class TcAttachment {
  readonly ifname: string;
  readonly point: TcAttachPoint;
  readonly program: string;
  readonly handle: number;
  readonly priority: number;
  /** Kernel id of the program attached by this call. */
  readonly progId: number;
  #detached = false;

  /** @internal */
  constructor(ref: TcFilterRef, program: string, progId: number) {
    this.ifname = ref.ifname;
    this.point = ref.point;
    this.handle = ref.handle;
    this.priority = ref.priority;
    this.program = program;
    this.progId = progId;
  }

  get ref(): TcFilterRef {
    return { ifname: this.ifname, point: this.point, handle: this.handle, priority: this.priority };
  }

  /** Id of whatever program is attached at this slot now (another process may have replaced ours), or undefined. */
  currentProgId(): number | undefined {
    return tcQuery(this.ref)?.progId;
  }

  /** Removes the filter; false when it was already gone. Idempotent. */
  detach(): boolean {
    if (this.#detached) return false;
    this.#detached = true;
    return tcDetach(this.ref);
  }
}

/** One BPF object going through open → configure → load → attach/use → close. */
export class Datapath {
  readonly objectPath: string;
  readonly pinDir: string | undefined;
  readonly #obj: BpfObject;
  readonly #pinMaps: readonly string[] | undefined;
  readonly #readers = new Set<RingBufferReader>();
  readonly #attachments: TcAttachment[] = [];

  private constructor(obj: BpfObject, objectPath: string, opts: DatapathOptions) {
    this.#obj = obj;
    this.objectPath = objectPath;
    this.pinDir = opts.pinDir;
    this.#pinMaps = opts.pinMaps;
  }

  /** Parses the object (ELF + BTF). Nothing is created in the kernel until load(). */
  static open(objectPath: string, opts: DatapathOptions = {}): Datapath {
    return new Datapath(BpfObject.open(objectPath, `datapath ${objectPath}`), objectPath, opts);
  }

  get state(): 'opened' | 'loaded' | 'closed' {
    return this.#obj.closed ? 'closed' : this.#obj.loaded ? 'loaded' : 'opened';
  }

  /** The object's maps (including internal .rodata etc.). */
  maps(): ObjectMapSpec[] {
    return this.#obj.maps();
  }

  /** The object's programs. */
  programs(): ProgramSpec[] {
    return this.#obj.programs();
  }

  /** The `const volatile` globals of a data section, with offsets and sizes from BTF. */
  variables(section = '.rodata'): DataVariable[] {
    return this.#obj.dataSectionVariables(section);
  }

  /**
   * Before load: sets a `const volatile` global (e.g. bl_config) to `value`,
   * the encoded C struct. Offset and size come from the object's BTF; pass
   * `offset` (from the generated ABI) to have it cross-checked. A size or
   * offset that disagrees with the object throws AbiMismatchError.
   */
  configure(variable: string, value: Uint8Array, opts: { offset?: number; section?: string } = {}): this {
    const section = opts.section ?? '.rodata';
    const op = `configure datapath ${this.objectPath}: ${section} variable ${variable}`;
    if (this.state !== 'opened') throw new BpfError(`${op}: datapath is ${this.state}`, EINVAL, { hint: 'configure() must come before load()' });
    const vars = this.#obj.dataSectionVariables(section);
    const v = vars.find((x) => x.name === variable);
    if (!v && opts.offset === undefined) {
      throw new AbiMismatchError(`${op}: not in the object's BTF (has: ${vars.map((x) => x.name).join(', ') || 'nothing'})`);
    }
    if (v && v.size !== value.length) throw new AbiMismatchError(`${op}: ${value.length} bytes given, the object's is ${v.size}`);
    if (v && opts.offset !== undefined && v.offset !== opts.offset) {
      throw new AbiMismatchError(`${op}: offset ${opts.offset} given, the object's is ${v.offset}`);
    }
    const offset = v?.offset ?? opts.offset!;
    const data = this.#obj.initialValue(section);
    if (offset + value.length > data.length) {
      throw new AbiMismatchError(`${op}: ${value.length} bytes at offset ${offset} overflow the ${data.length}-byte section`);
    }
    data.set(value, offset);
    this.#obj.setInitialValue(section, data);
    return this;
  }

  /**
   * Before load: sizes a map from configuration (e.g. the conntrack table).
   * A map reused from a pin keeps the size it was created with.
   */
  setMaxEntries(map: string, maxEntries: number): this {
    const op = `configure datapath ${this.objectPath}: map ${map} max_entries ${maxEntries}`;
    if (this.state !== 'opened') throw new BpfError(`${op}: datapath is ${this.state}`, EINVAL, { hint: 'setMaxEntries() must come before load()' });
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new BpfError(`${op}: must be a whole number ≥ 1`, EINVAL);
    this.#obj.setMaxEntries(map, maxEntries);
    return this;
  }

  /**
   * Creates maps (reusing pins under pinDir), loads and verifies every
   * program. A verifier rejection throws BpfError with the full log in
   * verifierLog and its last lines in the message.
   */
  load(): this {
    if (this.state !== 'opened') throw new BpfError(`load datapath ${this.objectPath}: datapath is ${this.state}`, EINVAL);
    if (this.pinDir) this.#preparePins(this.pinDir);
    this.#obj.load();
    return this;
  }

  #preparePins(pinDir: string): void {
    mkdirSync(pinDir, { recursive: true });
    const fsType = filesystemType(pinDir);
    if (fsType !== BPF_FS_MAGIC) {
      throw new BpfError(`load datapath ${this.objectPath}: pin directory ${pinDir} is not on bpffs`, EINVAL, {
        hint: `mount bpffs there first: mount -t bpf bpffs ${pinDir}`,
      });
    }
    const names = this.#pinMaps ?? this.#obj.maps().filter((m) => !m.internal).map((m) => m.name);
    for (const name of names) this.#obj.setPinPath(name, join(pinDir, name));
  }

  #loaded(op: string): void {
    if (this.state !== 'loaded') throw new BpfError(`${op}: datapath is ${this.state}`, EINVAL, { hint: 'call load() first' });
  }

  /** Whether `map` is pinned (after load with a pinDir). */
  isPinned(map: string): boolean {
    return this.#obj.isPinned(map);
  }

  /**
   * Attaches `programName` to `ifname`'s ingress or egress: creates the clsact
   * qdisc if missing, then attaches at a fixed handle/priority with
   * BPF_TC_F_REPLACE, so attaching an upgraded program swaps it atomically
   * instead of adding a second filter. The filter stays after close();
   * detach() removes it.
   */
  attachTc(ifname: string, point: TcAttachPoint, programName: string, opts: AttachTcOptions = {}): TcAttachment {
    const op = `attach datapath ${this.objectPath}: program ${programName} to ${ifname} ${point}`;
    this.#loaded(op);
    // Only in namespaces beeline owns (lab nodes, tests), or the host's in host-netns mode.
    assertMayChangeNetns(op);
    const prog = this.#obj.program(programName);
    const ref: TcFilterRef = { ifname, point, handle: opts.handle ?? TC_HANDLE, priority: opts.priority ?? TC_PRIORITY };
    tcHookCreate(ifname, point);
    const { progId } = prog.attachTc(ref, { replace: true });
    const att = new TcAttachment(ref, programName, progId);
    this.#attachments.push(att);
    return att;
  }

  /**
   * Attaches a cgroup program (its attach type from its section:
   * cgroup/connect4, sendmsg4, recvmsg4, getpeername4) to a cgroup v2
   * directory, replacing what is there in place. Refuses the root of a cgroup
   * hierarchy (every process of the machine) unless told otherwise: a node's
   * programs go on the node's own cgroup.
   */
  attachCgroup(cgroupDir: string, programName: string, opts: { allowRootCgroup?: boolean } = {}): CgroupAttachment {
    const op = `attach datapath ${this.objectPath}: program ${programName} to cgroup ${cgroupDir}`;
    this.#loaded(op);
    if (!opts.allowRootCgroup && isCgroupMountRoot(cgroupDir)) {
      throw new HostSafetyError(`${op}: that is the root of a cgroup hierarchy (every process on the machine)`, 'attach to a cgroup below it that beeline made');
    }
    const prog = this.#obj.program(programName);
    const type = CGROUP_ATTACH_TYPES[prog.section];
    if (type === undefined) throw new BpfError(`${op}: section ${prog.section} is not a cgroup hook beeline knows`, EINVAL);
    const { progId } = prog.attachCgroup(cgroupDir, type);
    return { cgroup: cgroupDir, type, section: prog.section, program: programName, progId };
  }

  /** A typed view of a (non-per-CPU) map; AbiMismatchError when the codecs' sizes differ from the kernel's. */
  map<K, V>(name: string, key: Codec<K>, value: Codec<V>): TypedMap<K, V> {
    this.#loaded(`use map ${name} of datapath ${this.objectPath}`);
    return new TypedMap(this.#obj.map(name), key, value);
  }

  /** A typed view of a per-CPU map. */
  perCpuMap<K, V>(name: string, key: Codec<K>, value: Codec<V>): PerCpuMap<K, V> {
    this.#loaded(`use map ${name} of datapath ${this.objectPath}`);
    return new PerCpuMap(this.#obj.map(name), key, value);
  }

  /**
   * Starts reading ring buffer map `name`: `onSample` gets each record (a
   * copy, safe to keep) from the event loop. Closed with the datapath.
   */
  ringBuffer(name: string, onSample: (data: Buffer) => void, opts: RingBufferReaderOptions = {}): RingBufferReader {
    const op = `read ring buffer ${name} of datapath ${this.objectPath}`;
    this.#loaded(op);
    const map = this.#obj.map(name);
    if (map.type !== MapType.RINGBUF) throw new BpfError(`${op}: map type is ${map.type}, not ringbuf`, EINVAL);
    const reader = new RingBufferReader((deliver) => new RingBuffer(map, deliver), onSample, opts);
    this.#readers.add(reader);
    return reader.start();
  }

  /**
   * Runs a program on `packet` with BPF_PROG_TEST_RUN (katran-style fixture
   * tests): nothing is transmitted; maps and ring buffers are updated as for
   * a real packet.
   */
  testRun(programName: string, packet: Uint8Array, opts: DatapathTestRunOptions = {}): TestRunResult {
    this.#loaded(`test run program ${programName} of datapath ${this.objectPath}`);
    const prog = this.#obj.program(programName);
    const isTc = prog.type === ProgType.SCHED_CLS || prog.type === ProgType.SCHED_ACT;
    const ctxIn = opts.ctxIn === undefined ? (isTc ? new Uint8Array(SK_BUFF_SIZE) : undefined) : (opts.ctxIn ?? undefined);
    return prog.testRun({
      data: packet,
      ...(opts.repeat !== undefined ? { repeat: opts.repeat } : {}),
      ...(opts.dataSizeOut !== undefined ? { dataSizeOut: opts.dataSizeOut } : {}),
      ...(ctxIn ? { ctxIn } : {}),
    });
  }

  /**
   * Stops ring buffer readers and frees the object (its fds). Attached tc
   * programs and pinned maps stay in the kernel, so traffic keeps flowing
   * across an agent restart; pass `detach: true` to remove this instance's
   * tc filters first.
   */
  close(opts: { detach?: boolean } = {}): void {
    if (this.state === 'closed') return;
    for (const r of this.#readers) r.close();
    this.#readers.clear();
    if (opts.detach) for (const a of this.#attachments) a.detach();
    this.#obj.close();
  }
}

/**
 * Why a map pinned at `path` is not the map `want` describes (type, key and
 * value size, max_entries), or undefined when it is. A pin that cannot be
 * opened says why. For health checks: opens the pin and closes it again.
 */
export function pinnedMapProblem(path: string, want: Pick<ObjectMapSpec, 'name' | 'type' | 'keySize' | 'valueSize' | 'maxEntries'>): string | undefined {
  let m: BpfMap;
  try {
    m = BpfMap.openPinned(path);
  } catch (err) {
    return `map ${want.name}: ${(err as Error).message}`;
  }
  try {
    const diff = (['type', 'keySize', 'valueSize', 'maxEntries'] as const).filter((k) => m[k] !== want[k]);
    if (diff.length === 0) return undefined;
    return `map ${want.name} pinned at ${path}: ${diff.map((k) => `${k} ${m[k]}, expected ${want[k]}`).join(', ')}`;
  } finally {
    m.close();
  }
}

/** Whether the program of a cgroup attachment is still attached there (by its kernel id). */
export function cgroupAttached(a: CgroupAttachment): boolean {
  return cgroupQuery(a.cgroup, a.type).includes(a.progId);
}

/** Opens a map pinned by a running datapath (e.g. for the CLI), typed. Close it with `.raw.close()`. */
export function openPinnedMap<K, V>(path: string, key: Codec<K>, value: Codec<V>): TypedMap<K, V> | PerCpuMap<K, V> {
  const raw = BpfMap.openPinned(path);
  try {
    return raw.perCpu ? new PerCpuMap(raw, key, value) : new TypedMap(raw, key, value);
  } catch (err) {
    raw.close();
    throw err;
  }
}
