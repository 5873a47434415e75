/**
 * The one native boundary: with sockets.ts (the node proxies' transparent
 * sockets) and flock.ts (the agent's node lock), the only module in beeline that calls libbpf, bpf(2) or libc, or
 * holds a file descriptor. Everything above it works with
 * the handle classes exported here (BpfObject, BpfMap, BpfProgram, RingBuffer)
 * and never sees an fd or a pointer.
 *
 * Bindings are koffi over the system's libbpf.so.1 (1.1.2 on Debian 12). They
 * are declared lazily, on first use, so importing this file costs nothing and
 * needs no root (unit tests import the types).
 *
 * Conventions:
 * - libbpf 1.x returns `-errno` on failure (or NULL + errno for constructors);
 *   every failure becomes a BpfError whose message is an operation path.
 * - libbpf's own log (including the verifier log) is routed through a print
 *   callback into a capture buffer, never to stderr, unless BEELINE_DEBUG=1.
 * - Every handle has close(); using a handle after close throws EBADF rather
 *   than touching an fd number the process may have reused.
 */
import koffi from 'koffi';
import type { LibraryHandle, node as koffiNode } from 'koffi';
import { BpfError } from '../../common/errors.js';
import {
  bpfError,
  EBADF,
  EINVAL,
  ENOENT,
  EEXIST,
  ENODEV,
  errnoName,
  lastLibbpfWarning,
  lastLogLines,
  parseProgramLoadLogs,
} from './errno.js';
import {
  BpfMapBatchOpts,
  BpfTcHook,
  BpfTcOpts,
  BpfTestRunOpts,
  BPF_TC_EGRESS,
  BPF_TC_F_REPLACE,
  BPF_TC_INGRESS,
  BTF_KIND_DATASEC,
  LIBBPF_DEBUG,
  LIBBPF_WARN,
  MAP_INFO,
  PER_CPU_MAP_TYPES,
  mapTypeName,
} from './structs.js';

// ---------------------------------------------------------------------------
// Library loading

/** koffi functions are untyped at the FFI edge; the wrappers below are typed. */
type Fn = (...args: any[]) => any;

interface Native {
  // libbpf: logging
  libbpf_set_print: Fn;
  // libbpf: objects
  bpf_object__open_file: Fn;
  bpf_object__load: Fn;
  bpf_object__close: Fn;
  bpf_object__btf: Fn;
  bpf_object__find_map_by_name: Fn;
  bpf_object__next_map: Fn;
  bpf_object__find_program_by_name: Fn;
  bpf_object__next_program: Fn;
  // libbpf: maps in an object
  bpf_map__name: Fn;
  bpf_map__type: Fn;
  bpf_map__key_size: Fn;
  bpf_map__value_size: Fn;
  bpf_map__max_entries: Fn;
  bpf_map__set_max_entries: Fn;
  bpf_map__set_pin_path: Fn;
  bpf_map__is_internal: Fn;
  bpf_map__is_pinned: Fn;
  bpf_map__initial_value: Fn;
  bpf_map__set_initial_value: Fn;
  bpf_map__fd: Fn;
  // libbpf: programs in an object
  bpf_program__name: Fn;
  bpf_program__section_name: Fn;
  bpf_program__type: Fn;
  bpf_program__fd: Fn;
  // bpf(2) wrappers
  bpf_map_create: Fn;
  bpf_map_update_elem: Fn;
  bpf_map_lookup_elem: Fn;
  bpf_map_delete_elem: Fn;
  bpf_map_get_next_key: Fn;
  bpf_map_lookup_batch: Fn;
  bpf_map_update_batch: Fn;
  bpf_map_delete_batch: Fn;
  bpf_obj_pin: Fn;
  bpf_obj_get: Fn;
  bpf_obj_get_info_by_fd: Fn;
  bpf_prog_test_run_opts: Fn;
  // tc (netlink, via libbpf)
  // libbpf: cgroup attachments (socket load balancing)
  bpf_prog_attach: Fn;
  bpf_prog_detach: Fn;
  bpf_prog_query: Fn;
  open: Fn;
  bpf_tc_hook_create: Fn;
  bpf_tc_hook_destroy: Fn;
  bpf_tc_attach: Fn;
  bpf_tc_detach: Fn;
  bpf_tc_query: Fn;
  // probes
  libbpf_probe_bpf_prog_type: Fn;
  libbpf_probe_bpf_map_type: Fn;
  libbpf_probe_bpf_helper: Fn;
  libbpf_num_possible_cpus: Fn;
  // BTF reading (for .rodata variable offsets)
  btf__find_by_name_kind: Fn;
  btf__type_by_id: Fn;
  btf__name_by_offset: Fn;
  // libc
  if_nametoindex: Fn;
  close: Fn;
  vasprintf: Fn;
  free: Fn;
  statfs: Fn;
  mmap: Fn;
  munmap: Fn;
  fcntl: Fn;
  sysconf: Fn;
}

let native: Native | undefined;

/** Name of the libbpf shared object we bind; overridable for odd installs. */
const LIBBPF_SONAME = process.env.BEELINE_LIBBPF ?? 'libbpf.so.1';

function lib(): Native {
  if (native) return native;
  let bpf: LibraryHandle;
  let libc: LibraryHandle;
  try {
    bpf = koffi.load(LIBBPF_SONAME);
    libc = koffi.load('libc.so.6');
  } catch (err) {
    throw new BpfError(`load ${LIBBPF_SONAME}: ${(err as Error).message}`, ENOENT, {
      hint: 'is libbpf 1.x installed? (apt-get install libbpf1, or make setup)',
    });
  }
  koffi.opaque('bpf_object');
  koffi.opaque('bpf_map');
  koffi.opaque('bpf_program');
  koffi.opaque('btf');
  // int (*libbpf_print_fn_t)(enum libbpf_print_level, const char *, va_list).
  // On x86-64 a va_list argument decays to a pointer; `fmt` is kept as a raw
  // pointer too so it can be handed back to libc's formatter untouched.
  koffi.proto('int bl_libbpf_print_fn(int level, const void *fmt, void *ap)');

  const f = (l: LibraryHandle, decl: string): Fn => l.func(decl) as Fn;
  native = {
    libbpf_set_print: f(bpf, 'void *libbpf_set_print(bl_libbpf_print_fn *fn)'),
    bpf_object__open_file: f(bpf, 'bpf_object *bpf_object__open_file(const char *path, const void *opts)'),
    bpf_object__load: f(bpf, 'int bpf_object__load(bpf_object *obj)'),
    bpf_object__close: f(bpf, 'void bpf_object__close(bpf_object *obj)'),
    bpf_object__btf: f(bpf, 'btf *bpf_object__btf(const bpf_object *obj)'),
    bpf_object__find_map_by_name: f(bpf, 'bpf_map *bpf_object__find_map_by_name(const bpf_object *obj, const char *name)'),
    bpf_object__next_map: f(bpf, 'bpf_map *bpf_object__next_map(const bpf_object *obj, const bpf_map *map)'),
    bpf_object__find_program_by_name: f(bpf, 'bpf_program *bpf_object__find_program_by_name(const bpf_object *obj, const char *name)'),
    bpf_object__next_program: f(bpf, 'bpf_program *bpf_object__next_program(const bpf_object *obj, bpf_program *prog)'),
    bpf_map__name: f(bpf, 'const char *bpf_map__name(const bpf_map *map)'),
    bpf_map__type: f(bpf, 'int bpf_map__type(const bpf_map *map)'),
    bpf_map__key_size: f(bpf, 'uint32_t bpf_map__key_size(const bpf_map *map)'),
    bpf_map__value_size: f(bpf, 'uint32_t bpf_map__value_size(const bpf_map *map)'),
    bpf_map__max_entries: f(bpf, 'uint32_t bpf_map__max_entries(const bpf_map *map)'),
    bpf_map__set_max_entries: f(bpf, 'int bpf_map__set_max_entries(bpf_map *map, uint32_t max_entries)'),
    bpf_map__set_pin_path: f(bpf, 'int bpf_map__set_pin_path(bpf_map *map, const char *path)'),
    bpf_map__is_internal: f(bpf, 'bool bpf_map__is_internal(const bpf_map *map)'),
    bpf_map__is_pinned: f(bpf, 'bool bpf_map__is_pinned(const bpf_map *map)'),
    bpf_map__initial_value: f(bpf, 'void *bpf_map__initial_value(bpf_map *map, _Out_ size_t *psize)'),
    bpf_map__set_initial_value: f(bpf, 'int bpf_map__set_initial_value(bpf_map *map, const void *data, size_t size)'),
    bpf_map__fd: f(bpf, 'int bpf_map__fd(const bpf_map *map)'),
    bpf_program__name: f(bpf, 'const char *bpf_program__name(const bpf_program *prog)'),
    bpf_program__section_name: f(bpf, 'const char *bpf_program__section_name(const bpf_program *prog)'),
    bpf_program__type: f(bpf, 'int bpf_program__type(const bpf_program *prog)'),
    bpf_program__fd: f(bpf, 'int bpf_program__fd(const bpf_program *prog)'),
    bpf_map_create: f(bpf, 'int bpf_map_create(int map_type, const char *map_name, uint32_t key_size, uint32_t value_size, uint32_t max_entries, const void *opts)'),
    bpf_map_update_elem: f(bpf, 'int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)'),
    bpf_map_lookup_elem: f(bpf, 'int bpf_map_lookup_elem(int fd, const void *key, void *value)'),
    bpf_map_delete_elem: f(bpf, 'int bpf_map_delete_elem(int fd, const void *key)'),
    bpf_map_get_next_key: f(bpf, 'int bpf_map_get_next_key(int fd, const void *key, void *next_key)'),
    bpf_map_lookup_batch: f(bpf, 'int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, _Inout_ uint32_t *count, const bl_bpf_map_batch_opts *opts)'),
    bpf_map_update_batch: f(bpf, 'int bpf_map_update_batch(int fd, const void *keys, const void *values, _Inout_ uint32_t *count, const bl_bpf_map_batch_opts *opts)'),
    bpf_map_delete_batch: f(bpf, 'int bpf_map_delete_batch(int fd, const void *keys, _Inout_ uint32_t *count, const bl_bpf_map_batch_opts *opts)'),
    bpf_obj_pin: f(bpf, 'int bpf_obj_pin(int fd, const char *pathname)'),
    bpf_obj_get: f(bpf, 'int bpf_obj_get(const char *pathname)'),
    bpf_obj_get_info_by_fd: f(bpf, 'int bpf_obj_get_info_by_fd(int bpf_fd, void *info, _Inout_ uint32_t *info_len)'),
    bpf_prog_test_run_opts: f(bpf, 'int bpf_prog_test_run_opts(int prog_fd, _Inout_ bl_bpf_test_run_opts *opts)'),
    bpf_prog_attach: f(bpf, 'int bpf_prog_attach(int prog_fd, int attachable_fd, int type, unsigned int flags)'),
    bpf_prog_detach: f(bpf, 'int bpf_prog_detach(int attachable_fd, int type)'),
    bpf_prog_query: f(bpf, 'int bpf_prog_query(int target_fd, int type, uint32_t query_flags, _Out_ uint32_t *attach_flags, _Out_ uint32_t *prog_ids, _Inout_ uint32_t *prog_cnt)'),
    open: f(libc, 'int open(const char *path, int flags)'),
    bpf_tc_hook_create: f(bpf, 'int bpf_tc_hook_create(bl_bpf_tc_hook *hook)'),
    bpf_tc_hook_destroy: f(bpf, 'int bpf_tc_hook_destroy(bl_bpf_tc_hook *hook)'),
    bpf_tc_attach: f(bpf, 'int bpf_tc_attach(const bl_bpf_tc_hook *hook, _Inout_ bl_bpf_tc_opts *opts)'),
    bpf_tc_detach: f(bpf, 'int bpf_tc_detach(const bl_bpf_tc_hook *hook, const bl_bpf_tc_opts *opts)'),
    bpf_tc_query: f(bpf, 'int bpf_tc_query(const bl_bpf_tc_hook *hook, _Inout_ bl_bpf_tc_opts *opts)'),
    libbpf_probe_bpf_prog_type: f(bpf, 'int libbpf_probe_bpf_prog_type(int prog_type, const void *opts)'),
    libbpf_probe_bpf_map_type: f(bpf, 'int libbpf_probe_bpf_map_type(int map_type, const void *opts)'),
    libbpf_probe_bpf_helper: f(bpf, 'int libbpf_probe_bpf_helper(int prog_type, int helper_id, const void *opts)'),
    libbpf_num_possible_cpus: f(bpf, 'int libbpf_num_possible_cpus()'),
    btf__find_by_name_kind: f(bpf, 'int btf__find_by_name_kind(const btf *btf, const char *type_name, uint32_t kind)'),
    btf__type_by_id: f(bpf, 'const void *btf__type_by_id(const btf *btf, uint32_t id)'),
    btf__name_by_offset: f(bpf, 'const char *btf__name_by_offset(const btf *btf, uint32_t offset)'),
    if_nametoindex: f(libc, 'unsigned int if_nametoindex(const char *ifname)'),
    close: f(libc, 'int close(int fd)'),
    vasprintf: f(libc, 'int vasprintf(_Out_ void **strp, const void *fmt, void *ap)'),
    free: f(libc, 'void free(void *ptr)'),
    statfs: f(libc, 'int statfs(const char *path, void *buf)'),
    mmap: f(libc, 'void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
    munmap: f(libc, 'int munmap(void *addr, size_t length)'),
    fcntl: f(libc, 'int fcntl(int fd, int cmd, int arg)'),
    sysconf: f(libc, 'long sysconf(int name)'),
  };
  installPrintCallback(native);
  return native;
}

// ---------------------------------------------------------------------------
// libbpf's log

/** Where libbpf's messages go outside a capture: nowhere, unless someone listens. */
export type LibbpfLogSink = (level: 'warn' | 'info' | 'debug', message: string) => void;

let captures: string[][] = [];
let logSink: LibbpfLogSink | undefined = process.env.BEELINE_DEBUG
  ? (level, msg) => process.stderr.write(`libbpf ${level}: ${msg}${msg.endsWith('\n') ? '' : '\n'}`)
  : undefined;
let printCallback: unknown;

/** Sends libbpf's messages that arrive outside a load/open to `sink` (or drops them with undefined). */
export function setLibbpfLogSink(sink: LibbpfLogSink | undefined): void {
  logSink = sink;
}

function installPrintCallback(n: Native): void {
  // A registered (not transient) callback: libbpf keeps the pointer for the
  // life of the process. Formatting happens in C (vasprintf consumes the
  // va_list; unlike vsnprintf it sizes the buffer itself, so a multi-megabyte
  // verifier log is never truncated and no va_copy is needed).
  printCallback = koffi.register((level: number, fmt: bigint, ap: bigint): number => {
    try {
      const out: [bigint | null] = [null];
      const len = n.vasprintf(out, fmt, ap) as number;
      if (len < 0 || out[0] === null) return 0;
      let msg: string;
      try {
        msg = koffi.decode.string(out[0], len);
      } finally {
        n.free(out[0]);
      }
      // During an open/load, warnings and info go into the capture (the error
      // message is built from them); debug chatter only to the sink, and only
      // with BEELINE_DEBUG.
      const top = captures[captures.length - 1];
      if (top && level !== LIBBPF_DEBUG) top.push(msg);
      if (logSink && (!top || process.env.BEELINE_DEBUG)) logSink(level === LIBBPF_WARN ? 'warn' : level === LIBBPF_DEBUG ? 'debug' : 'info', msg);
    } catch {
      // Never let a JS exception unwind through libbpf.
    }
    return 0;
  }, 'bl_libbpf_print_fn *');
  n.libbpf_set_print(printCallback);
}

/** Runs `fn` with libbpf's messages collected; returns its result and the text libbpf printed meanwhile. */
function withLibbpfLog<T>(fn: () => T): { result: T; log: string } {
  const buf: string[] = [];
  captures.push(buf);
  try {
    const result = fn();
    return { result, log: buf.join('') };
  } finally {
    captures = captures.filter((c) => c !== buf);
  }
}

// ---------------------------------------------------------------------------
// Small helpers

/** Copies `len` bytes of native memory at `ptr` into a fresh Buffer (never a view of C memory). */
function copyOut(ptr: bigint, len: number): Buffer {
  const out = Buffer.alloc(len);
  if (len > 0) out.set(new Uint8Array(koffi.view(ptr, len)));
  return out;
}

/** Stable native memory for pointers stored inside opts structs; freed by the caller. */
function nativeAlloc(len: number, init?: Uint8Array): bigint {
  const ptr = koffi.alloc('uint8_t', Math.max(len, 1)) as bigint;
  const view = new Uint8Array(koffi.view(ptr, Math.max(len, 1)));
  view.fill(0);
  if (init) view.set(init.subarray(0, len));
  return ptr;
}

function closeFd(fd: number): void {
  if (fd >= 0) lib().close(fd);
}

function checkLength(operation: string, what: string, buf: Uint8Array, want: number): void {
  // The kernel copies exactly key_size/value_size bytes from our pointer: a
  // shorter buffer would make it read past the end of JS memory.
  if (buf.length !== want) {
    throw new BpfError(`${operation}: ${what} is ${buf.length} bytes, the map's is ${want}`, EINVAL, {
      hint: 'codec and map disagree: rebuild (make build)',
    });
  }
}

/** Interface index of `ifname` in the calling process's network namespace. */
export function ifIndex(ifname: string): number {
  const idx = lib().if_nametoindex(ifname) as number;
  if (!idx) {
    const errno = koffi.errno() || ENODEV;
    throw bpfError(`find interface ${ifname}`, errno, 'tc', { hint: 'no such network interface in this network namespace' });
  }
  return idx;
}

/** Number of possible CPUs (the slot count of every per-CPU map value). */
export function numPossibleCpus(): number {
  const n = lib().libbpf_num_possible_cpus() as number;
  if (n <= 0) throw bpfError('count possible CPUs', n);
  return n;
}

/** statfs(2) f_type of the file system holding `path`, or undefined when the path does not exist. */
export function filesystemType(path: string): number | undefined {
  const buf = Buffer.alloc(256); // struct statfs is 120 bytes on x86-64; f_type (long) comes first
  const r = lib().statfs(path, buf) as number;
  if (r !== 0) return undefined;
  return Number(buf.readBigInt64LE(0) & 0xffffffffn);
}

// ---------------------------------------------------------------------------
// Maps

/** What a map looks like, without touching it. */
export interface MapSpec {
  name: string;
  /** enum bpf_map_type. */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}

/** A map inside an object, described before or after load. */
export interface ObjectMapSpec extends MapSpec {
  /** `.rodata`, `.bss`, `.data`, `.kconfig`: created by libbpf from global variables. */
  internal: boolean;
}

/**
 * The surface maps.ts builds typed maps on. BpfMap implements it over a real
 * fd; unit tests implement it with an in-memory fake.
 */
export interface RawMap extends MapSpec {
  /** One value per possible CPU (PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH). */
  readonly perCpu: boolean;
  /** Slots per value: the possible CPU count for per-CPU maps, else 1. */
  readonly valueSlots: number;
  /** Bytes of one value buffer: valueSize, or round_up(valueSize, 8) × slots for per-CPU maps. */
  readonly valueBufferSize: number;
  lookup(key: Uint8Array): Buffer | undefined;
  update(key: Uint8Array, value: Uint8Array, flags?: number): void;
  delete(key: Uint8Array): boolean;
  nextKey(key: Uint8Array | null): Buffer | undefined;
  /** One batch of entries after `cursor` (null: from the start); `cursor` in the result is null when done. */
  lookupBatch?(cursor: Buffer | null, maxEntries: number): { keys: Buffer[]; values: Buffer[]; cursor: Buffer | null };
  /** Writes every entry in one syscall; answers how many were written. */
  updateBatch?(keys: readonly Uint8Array[], values: readonly Uint8Array[], flags?: number): number;
  /** Deletes every key in one syscall (each must exist); answers how many were deleted. */
  deleteBatch?(keys: readonly Uint8Array[]): number;
  /** updateBatch over `count` keys and values already packed back to back (no copy). */
  updateBatchPacked?(keys: Buffer, values: Buffer, count: number, flags?: number): number;
  /** Releases the handle (owned maps close their fd; lent maps just stop working). */
  close?(): void;
}

/** round_up(n, 8): the kernel stores each per-CPU value slot 8-byte aligned. */
export function perCpuSlotSize(valueSize: number): number {
  return Math.ceil(valueSize / 8) * 8;
}

/** Liveness shared between an object and the handles it lends out. */
interface Life {
  closed: boolean;
}

let lendMap: (fd: number, spec: MapSpec, owner: Life) => BpfMap;
let mapFd: (map: BpfMap, op: string) => number;

/** A BPF map by fd: created here, opened from a pin, or lent by a loaded BpfObject. */
export class BpfMap implements RawMap {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly perCpu: boolean;
  readonly valueSlots: number;
  readonly valueBufferSize: number;
  #fd: number;
  /** Lent by a BpfObject (closed with it), or owned by this handle. */
  readonly #owner: Life | null;
  #closed = false;

  private constructor(fd: number, spec: MapSpec, owner: Life | null) {
    this.#fd = fd;
    this.#owner = owner;
    this.name = spec.name;
    this.type = spec.type;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    const perCpu = PER_CPU_MAP_TYPES.has(spec.type);
    this.perCpu = perCpu;
    this.valueSlots = perCpu ? numPossibleCpus() : 1;
    this.valueBufferSize = perCpu ? perCpuSlotSize(spec.valueSize) * this.valueSlots : spec.valueSize;
  }

  /** Creates a standalone map (owned: close() closes its fd). */
  static create(spec: MapSpec): BpfMap {
    const fd = lib().bpf_map_create(spec.type, spec.name, spec.keySize, spec.valueSize, spec.maxEntries, null) as number;
    if (fd < 0) throw bpfError(`create map ${spec.name} (${mapTypeName(spec.type)})`, fd, 'load');
    return new BpfMap(fd, spec, null);
  }

  /** Opens a map pinned on bpffs (owned). */
  static openPinned(path: string): BpfMap {
    const n = lib();
    const fd = n.bpf_obj_get(path) as number;
    if (fd < 0) throw bpfError(`open pinned map ${path}`, fd, 'pin');
    try {
      const info = Buffer.alloc(MAP_INFO.size);
      const len: [number] = [info.length];
      const r = n.bpf_obj_get_info_by_fd(fd, info, len) as number;
      if (r < 0) throw bpfError(`open pinned map ${path}: read map info`, r, 'pin');
      const rawName = info.subarray(MAP_INFO.name, MAP_INFO.name + MAP_INFO.nameLen);
      const nul = rawName.indexOf(0);
      return new BpfMap(
        fd,
        {
          name: rawName.subarray(0, nul < 0 ? rawName.length : nul).toString('utf8') || path,
          type: info.readUInt32LE(MAP_INFO.type),
          keySize: info.readUInt32LE(MAP_INFO.keySize),
          valueSize: info.readUInt32LE(MAP_INFO.valueSize),
          maxEntries: info.readUInt32LE(MAP_INFO.maxEntries),
        },
        null,
      );
    } catch (err) {
      closeFd(fd);
      throw err;
    }
  }

  static {
    // Module-private door into the class: BpfObject lends its maps' fds and
    // RingBuffer needs one; nothing outside this file can reach either.
    lendMap = (fd, spec, owner) => new BpfMap(fd, spec, owner);
    mapFd = (map, op) => map.#live(op);
  }

  get closed(): boolean {
    return this.#closed || (this.#owner?.closed ?? false);
  }

  #live(op: string): number {
    if (this.closed) throw new BpfError(`${op} map ${this.name}: map is closed`, EBADF, { hint: 'used after close()' });
    return this.#fd;
  }

  /** The value for `key`, or undefined when there is none. */
  lookup(key: Uint8Array): Buffer | undefined {
    const fd = this.#live('lookup');
    checkLength(`lookup map ${this.name}`, 'key', key, this.keySize);
    const value = Buffer.alloc(this.valueBufferSize);
    const r = lib().bpf_map_lookup_elem(fd, key, value) as number;
    if (r === -ENOENT) return undefined;
    if (r < 0) throw bpfError(`lookup map ${this.name}`, r, 'map');
    return value;
  }

  /** Writes `value` (valueBufferSize bytes) at `key`; flags: BPF_ANY, BPF_NOEXIST, BPF_EXIST. */
  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    const fd = this.#live('update');
    checkLength(`update map ${this.name}`, 'key', key, this.keySize);
    checkLength(`update map ${this.name}`, 'value', value, this.valueBufferSize);
    const r = lib().bpf_map_update_elem(fd, key, value, flags) as number;
    if (r < 0) throw bpfError(`update map ${this.name}`, r, 'map');
  }

  /** Deletes `key`; false when it was not there. */
  delete(key: Uint8Array): boolean {
    const fd = this.#live('delete');
    checkLength(`delete map ${this.name}`, 'key', key, this.keySize);
    const r = lib().bpf_map_delete_elem(fd, key) as number;
    if (r === -ENOENT) return false;
    if (r < 0) throw bpfError(`delete map ${this.name}`, r, 'map');
    return true;
  }

  /** The key after `key` (null: the first key), or undefined at the end. */
  nextKey(key: Uint8Array | null): Buffer | undefined {
    const fd = this.#live('iterate');
    if (key) checkLength(`iterate map ${this.name}`, 'key', key, this.keySize);
    const next = Buffer.alloc(this.keySize);
    const r = lib().bpf_map_get_next_key(fd, key, next) as number;
    if (r === -ENOENT) return undefined;
    if (r < 0) throw bpfError(`iterate map ${this.name}`, r, 'map');
    return next;
  }

  /**
   * BPF_MAP_LOOKUP_BATCH: up to `maxEntries` entries after `cursor`. Throws
   * BpfError (EINVAL/ENOTSUPP) for map types without batch support.
   */
  lookupBatch(cursor: Buffer | null, maxEntries: number): { keys: Buffer[]; values: Buffer[]; cursor: Buffer | null } {
    const fd = this.#live('batch lookup');
    // The batch token is opaque; hash maps use a u32 bucket index. key_size bytes (min 8) fits every map type.
    const tokenSize = Math.max(this.keySize, 8);
    const outToken = Buffer.alloc(tokenSize);
    const keys = Buffer.alloc(this.keySize * maxEntries);
    const values = Buffer.alloc(this.valueBufferSize * maxEntries);
    const count: [number] = [maxEntries];
    const opts = { sz: BpfMapBatchOpts.size, elem_flags: 0, flags: 0 };
    const r = lib().bpf_map_lookup_batch(fd, cursor, outToken, keys, values, count, opts) as number;
    if (r < 0 && r !== -ENOENT) throw bpfError(`batch lookup map ${this.name}`, r, 'map');
    const n = count[0];
    const outKeys: Buffer[] = [];
    const outValues: Buffer[] = [];
    // Views, not copies: these buffers are this call's own.
    for (let i = 0; i < n; i++) {
      outKeys.push(keys.subarray(i * this.keySize, (i + 1) * this.keySize));
      outValues.push(values.subarray(i * this.valueBufferSize, (i + 1) * this.valueBufferSize));
    }
    // ENOENT means "no more entries after this batch".
    return { keys: outKeys, values: outValues, cursor: r === -ENOENT ? null : outToken };
  }

  /** BPF_MAP_UPDATE_BATCH over packed keys and values (count × keySize, count × value buffer size). */
  updateBatchPacked(keys: Buffer, values: Buffer, count: number, flags = 0): number {
    const fd = this.#live('batch update');
    if (count === 0) return 0;
    if (keys.length !== count * this.keySize || values.length !== count * this.valueBufferSize) {
      throw new BpfError(`batch update map ${this.name}: ${keys.length} key bytes and ${values.length} value bytes for ${count} entries`, EINVAL);
    }
    const n: [number] = [count];
    const opts = { sz: BpfMapBatchOpts.size, elem_flags: flags, flags: 0 };
    const r = lib().bpf_map_update_batch(fd, keys, values, n, opts) as number;
    if (r < 0) throw bpfError(`batch update map ${this.name}`, r, 'map', { detail: `${n[0]} of ${count} written` });
    return n[0];
  }

  /** BPF_MAP_UPDATE_BATCH: writes all entries in one syscall; returns how many were written. */
  updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], flags = 0): number {
    const fd = this.#live('batch update');
    if (keys.length !== values.length) throw new BpfError(`batch update map ${this.name}: ${keys.length} keys, ${values.length} values`, EINVAL);
    if (keys.length === 0) return 0;
    keys.forEach((k) => checkLength(`batch update map ${this.name}`, 'key', k, this.keySize));
    values.forEach((v) => checkLength(`batch update map ${this.name}`, 'value', v, this.valueBufferSize));
    const count: [number] = [keys.length];
    const opts = { sz: BpfMapBatchOpts.size, elem_flags: flags, flags: 0 };
    const r = lib().bpf_map_update_batch(fd, Buffer.concat(keys), Buffer.concat(values), count, opts) as number;
    if (r < 0) throw bpfError(`batch update map ${this.name}`, r, 'map', { detail: `${count[0]} of ${keys.length} written` });
    return count[0];
  }

  /**
   * BPF_MAP_DELETE_BATCH: deletes all keys in one syscall; returns how many
   * were deleted. The kernel stops at the first missing key (ENOENT), so
   * callers delete only what they know is there.
   */
  deleteBatch(keys: readonly Uint8Array[]): number {
    const fd = this.#live('batch delete');
    if (keys.length === 0) return 0;
    keys.forEach((k) => checkLength(`batch delete map ${this.name}`, 'key', k, this.keySize));
    const count: [number] = [keys.length];
    const opts = { sz: BpfMapBatchOpts.size, elem_flags: 0, flags: 0 };
    const r = lib().bpf_map_delete_batch(fd, Buffer.concat(keys), count, opts) as number;
    if (r < 0) throw bpfError(`batch delete map ${this.name}`, r, 'map', { detail: `${count[0]} of ${keys.length} deleted` });
    return count[0];
  }

  /** Pins the map at `path` on a bpffs mount. */
  pin(path: string): void {
    const fd = this.#live('pin');
    const r = lib().bpf_obj_pin(fd, path) as number;
    if (r < 0) throw bpfError(`pin map ${this.name} at ${path}`, r, 'pin');
  }

  /** Closes an owned map's fd; for a lent map, only this handle stops working. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#owner) closeFd(this.#fd);
    this.#fd = -1;
  }
}

// ---------------------------------------------------------------------------
// Programs

/** Result of BPF_PROG_TEST_RUN. */
export interface TestRunResult {
  /** The program's return value (for tc: TC_ACT_OK 0, TC_ACT_SHOT 2, …). */
  retval: number;
  /** The packet as the program left it. */
  dataOut: Buffer;
  /** Average run time per repetition, in ns. */
  durationNs: number;
  /** The context after the run (e.g. struct __sk_buff), when ctxIn was given. */
  ctxOut: Buffer | undefined;
}

export interface TestRunOptions {
  data: Uint8Array;
  /** Times to run (durationNs is the average); default 1. */
  repeat?: number;
  /** Capacity for the output packet; default data.length + 512 (room for pushed headers). */
  dataSizeOut?: number;
  /** Input context; for SCHED_CLS a zeroed struct __sk_buff is valid. */
  ctxIn?: Uint8Array;
}

/** Where a tc program hangs: ingress or egress of an interface's clsact qdisc. */
export type TcAttachPoint = 'ingress' | 'egress';

/** A tc filter's identity on a hook. */
export interface TcFilterRef {
  ifname: string;
  point: TcAttachPoint;
  handle: number;
  priority: number;
}

function tcHook(ifname: string, point: TcAttachPoint) {
  return { sz: BpfTcHook.size, ifindex: ifIndex(ifname), attach_point: point === 'ingress' ? BPF_TC_INGRESS : BPF_TC_EGRESS, parent: 0 };
}

let lendProgram: (fd: number, name: string, section: string, type: number, owner: Life) => BpfProgram;

/** A program of a loaded object (lent; dies with the object). */
export class BpfProgram {
  readonly name: string;
  readonly section: string;
  /** enum bpf_prog_type. */
  readonly type: number;
  readonly #fd: number;
  readonly #owner: Life;

  private constructor(fd: number, name: string, section: string, type: number, owner: Life) {
    this.#fd = fd;
    this.name = name;
    this.section = section;
    this.type = type;
    this.#owner = owner;
  }

  static {
    lendProgram = (fd, name, section, type, owner) => new BpfProgram(fd, name, section, type, owner);
  }

  #live(op: string): number {
    if (this.#owner.closed) throw new BpfError(`${op} program ${this.name}: program is closed`, EBADF, { hint: 'used after close()' });
    return this.#fd;
  }

  /** Runs the program once (or `repeat` times) on a packet with BPF_PROG_TEST_RUN; nothing is transmitted. */
  testRun(opts: TestRunOptions): TestRunResult {
    const fd = this.#live('test run');
    const op = `test run program ${this.name}`;
    const dataSizeOut = opts.dataSizeOut ?? opts.data.length + 512;
    const ctxSize = opts.ctxIn?.length ?? 0;
    const ptrs: bigint[] = [];
    const alloc = (len: number, init?: Uint8Array) => {
      const p = nativeAlloc(len, init);
      ptrs.push(p);
      return p;
    };
    try {
      const run = {
        sz: BpfTestRunOpts.size,
        data_in: alloc(opts.data.length, opts.data),
        data_out: alloc(dataSizeOut),
        data_size_in: opts.data.length,
        data_size_out: dataSizeOut,
        ctx_in: ctxSize ? alloc(ctxSize, opts.ctxIn) : null,
        ctx_out: ctxSize ? alloc(ctxSize) : null,
        ctx_size_in: ctxSize,
        ctx_size_out: ctxSize,
        retval: 0,
        repeat: opts.repeat ?? 1,
        duration: 0,
        flags: 0,
        cpu: 0,
        batch_size: 0,
      };
      const r = lib().bpf_prog_test_run_opts(fd, run) as number;
      if (r < 0) throw bpfError(op, r, 'test_run');
      return {
        retval: run.retval | 0,
        dataOut: copyOut(run.data_out, Math.min(run.data_size_out, dataSizeOut)),
        durationNs: run.duration,
        ctxOut: ctxSize && run.ctx_out !== null ? copyOut(run.ctx_out, Math.min(run.ctx_size_out, ctxSize)) : undefined,
      };
    } finally {
      for (const p of ptrs) koffi.free(p);
    }
  }

  /**
   * Attaches as a direct-action cls_bpf filter at (handle, priority) on the
   * hook (which must exist: tcHookCreate). With `replace`, an existing filter
   * there is swapped for this program in one netlink request, so traffic never
   * sees a gap. Returns the kernel's program id.
   */
  attachTc(ref: TcFilterRef, opts: { replace: boolean }): { progId: number } {
    const fd = this.#live('attach');
    const hook = tcHook(ref.ifname, ref.point);
    const tc = { sz: BpfTcOpts.size, prog_fd: fd, flags: opts.replace ? BPF_TC_F_REPLACE : 0, prog_id: 0, handle: ref.handle, priority: ref.priority };
    const r = lib().bpf_tc_attach(hook, tc) as number;
    if (r < 0) throw bpfError(`attach program ${this.name} to ${ref.ifname} ${ref.point}`, r, 'tc');
    return { progId: tc.prog_id };
  }

  /**
   * Attaches to a cgroup v2 directory at `type` (enum bpf_attach_type) in
   * exclusive mode: one program per (cgroup, type), and attaching again
   * replaces the one there in place. The attachment belongs to the cgroup, not
   * to this process: it outlives the agent and goes with the cgroup.
   */
  attachCgroup(cgroupDir: string, type: number): { progId: number } {
    const fd = this.#live('attach');
    const op = `attach program ${this.name} to cgroup ${cgroupDir}`;
    return withCgroupFd(cgroupDir, op, (cg) => {
      const r = lib().bpf_prog_attach(fd, cg, type, 0) as number;
      if (r < 0) throw bpfError(op, r, 'other');
      return { progId: cgroupQueryFd(cg, type, op)[0] ?? 0 };
    });
  }
}

const O_RDONLY = 0;
const O_DIRECTORY = 0o200000;

function withCgroupFd<T>(dir: string, op: string, fn: (fd: number) => T): T {
  const cg = lib().open(dir, O_RDONLY | O_DIRECTORY) as number;
  if (cg < 0) throw bpfError(`${op}: open`, koffi.errno() || ENOENT, 'other', { hint: 'is it a cgroup v2 directory?' });
  try {
    return fn(cg);
  } finally {
    lib().close(cg);
  }
}

function cgroupQueryFd(cg: number, type: number, op: string): number[] {
  const ids = new Uint32Array(64);
  const cnt = [ids.length];
  const flags = [0];
  const r = lib().bpf_prog_query(cg, type, 0, flags, ids, cnt) as number;
  if (r < 0) throw bpfError(`${op}: query`, r, 'other');
  return [...ids.slice(0, cnt[0])];
}

/** Ids of the programs attached directly to a cgroup at `type` (not inherited ones). */
export function cgroupQuery(cgroupDir: string, type: number): number[] {
  return withCgroupFd(cgroupDir, `query cgroup ${cgroupDir}`, (cg) => cgroupQueryFd(cg, type, `query cgroup ${cgroupDir}`));
}

/** Detaches the exclusive program at `type` from a cgroup; false when there was none. */
export function cgroupDetach(cgroupDir: string, type: number): boolean {
  return withCgroupFd(cgroupDir, `detach from cgroup ${cgroupDir}`, (cg) => {
    const r = lib().bpf_prog_detach(cg, type) as number;
    if (r === -ENOENT) return false;
    if (r < 0) throw bpfError(`detach from cgroup ${cgroupDir}`, r, 'other');
    return true;
  });
}

/** Creates the clsact qdisc for `ifname`; 'exists' when it was already there (not an error). */
export function tcHookCreate(ifname: string, point: TcAttachPoint): 'created' | 'exists' {
  const r = lib().bpf_tc_hook_create(tcHook(ifname, point)) as number;
  if (r === -EEXIST) return 'exists';
  if (r < 0) throw bpfError(`create tc hook on ${ifname} ${point}`, r, 'tc');
  return 'created';
}

/** Removes every filter of `point` on `ifname` (libbpf: destroying one attach point flushes it). */
export function tcHookDestroy(ifname: string, point: TcAttachPoint): void {
  const r = lib().bpf_tc_hook_destroy(tcHook(ifname, point)) as number;
  if (r < 0 && r !== -ENOENT) throw bpfError(`destroy tc hook on ${ifname} ${point}`, r, 'tc');
}

/**
 * Removes the filter at (handle, priority); false when there was none, or
 * when the interface is gone (its filters went with it: a pod's veth
 * disappears on its own once its network namespace is deleted, at any moment
 * between a check for it and this call).
 */
export function tcDetach(ref: TcFilterRef): boolean {
  let hook: ReturnType<typeof tcHook>;
  try {
    hook = tcHook(ref.ifname, ref.point);
  } catch (e) {
    if (e instanceof BpfError && e.errno === ENODEV) return false;
    throw e;
  }
  const tc = { sz: BpfTcOpts.size, prog_fd: 0, flags: 0, prog_id: 0, handle: ref.handle, priority: ref.priority };
  const r = lib().bpf_tc_detach(hook, tc) as number;
  if (r === -ENOENT || r === -EINVAL) {
    // EINVAL: the clsact qdisc itself is gone (interface deleted or flushed).
    return false;
  }
  if (r < 0) throw bpfError(`detach tc filter ${ref.handle}:${ref.priority} from ${ref.ifname} ${ref.point}`, r, 'tc');
  return true;
}

/** The id of the program at (handle, priority), or undefined when nothing is attached there. */
export function tcQuery(ref: TcFilterRef): { progId: number } | undefined {
  const hook = tcHook(ref.ifname, ref.point);
  const tc = { sz: BpfTcOpts.size, prog_fd: 0, flags: 0, prog_id: 0, handle: ref.handle, priority: ref.priority };
  const r = lib().bpf_tc_query(hook, tc) as number;
  if (r === -ENOENT || r === -EINVAL) return undefined;
  if (r < 0) throw bpfError(`query tc filter ${ref.handle}:${ref.priority} on ${ref.ifname} ${ref.point}`, r, 'tc');
  return { progId: tc.prog_id };
}

// ---------------------------------------------------------------------------
// Objects

/** A global variable in a data section (.rodata, .data, .bss), from the object's BTF. */
export interface DataVariable {
  name: string;
  offset: number;
  size: number;
}

/** A program of an object, described. */
export interface ProgramSpec {
  name: string;
  section: string;
  type: number;
}

/** A BPF ELF object through libbpf's lifecycle: open → configure → load → use → close. */
export class BpfObject {
  /** For messages: "datapath build/bpf/host.bpf.o". */
  readonly label: string;
  readonly path: string;
  #ptr: bigint;
  readonly #life: Life = { closed: false };
  #loaded = false;

  private constructor(ptr: bigint, path: string, label: string) {
    this.#ptr = ptr;
    this.path = path;
    this.label = label;
  }

  /** bpf_object__open_file: parses the ELF and BTF; creates nothing in the kernel yet. */
  static open(path: string, label = path): BpfObject {
    const n = lib();
    const { result: ptr, log } = withLibbpfLog(() => n.bpf_object__open_file(path, null) as bigint | null);
    if (!ptr) {
      const errno = koffi.errno() || EINVAL;
      const last = lastLibbpfWarning(log);
      throw bpfError(`open ${label}`, errno, 'open', last && errno !== ENOENT ? { detail: last } : {});
    }
    return new BpfObject(ptr, path, label);
  }

  get loaded(): boolean {
    return this.#loaded;
  }

  get closed(): boolean {
    return this.#life.closed;
  }

  #obj(op: string): bigint {
    if (this.#life.closed) throw new BpfError(`${op} ${this.label}: object is closed`, EBADF, { hint: 'used after close()' });
    return this.#ptr;
  }

  #mapPtr(op: string, name: string): bigint {
    const ptr = lib().bpf_object__find_map_by_name(this.#obj(op), name) as bigint | null;
    if (!ptr) throw new BpfError(`${op} ${this.label}: no map named ${name}`, ENOENT, { hint: `maps: ${this.maps().map((m) => m.name).join(', ')}` });
    return ptr;
  }

  #mustNotBeLoaded(op: string): void {
    if (this.#loaded) throw new BpfError(`${op} ${this.label}: object is already loaded`, EINVAL, { hint: 'configure maps before load()' });
  }

  /** Every map of the object, including libbpf's internal ones (.rodata …). */
  maps(): ObjectMapSpec[] {
    const n = lib();
    const obj = this.#obj('list maps of');
    const out: ObjectMapSpec[] = [];
    for (let m = n.bpf_object__next_map(obj, null) as bigint | null; m; m = n.bpf_object__next_map(obj, m) as bigint | null) {
      out.push({
        name: n.bpf_map__name(m) as string,
        type: n.bpf_map__type(m) as number,
        keySize: n.bpf_map__key_size(m) as number,
        valueSize: n.bpf_map__value_size(m) as number,
        maxEntries: n.bpf_map__max_entries(m) as number,
        internal: n.bpf_map__is_internal(m) as boolean,
      });
    }
    return out;
  }

  /** Every program of the object. */
  programs(): ProgramSpec[] {
    const n = lib();
    const obj = this.#obj('list programs of');
    const out: ProgramSpec[] = [];
    for (let p = n.bpf_object__next_program(obj, null) as bigint | null; p; p = n.bpf_object__next_program(obj, p) as bigint | null) {
      out.push({ name: n.bpf_program__name(p) as string, section: n.bpf_program__section_name(p) as string, type: n.bpf_program__type(p) as number });
    }
    return out;
  }

  /** Before load: where libbpf pins `map` (and reuses an existing pin from, if compatible). */
  setPinPath(map: string, path: string): void {
    this.#mustNotBeLoaded('set pin path of');
    const r = lib().bpf_map__set_pin_path(this.#mapPtr('set pin path of', map), path) as number;
    if (r < 0) throw bpfError(`set pin path of map ${map} in ${this.label}`, r, 'pin');
  }

  /** After load: whether `map` was pinned (newly or by reuse). */
  isPinned(map: string): boolean {
    return lib().bpf_map__is_pinned(this.#mapPtr('check pin of', map)) as boolean;
  }

  /** Before load: resizes `map`. */
  setMaxEntries(map: string, maxEntries: number): void {
    this.#mustNotBeLoaded('resize map in');
    const r = lib().bpf_map__set_max_entries(this.#mapPtr('resize map in', map), maxEntries) as number;
    if (r < 0) throw bpfError(`resize map ${map} in ${this.label}`, r, 'load');
  }

  /** A copy of an internal map's initial contents (e.g. `.rodata`: the const volatile globals). */
  initialValue(map: string): Buffer {
    const size: [number] = [0];
    const ptr = lib().bpf_map__initial_value(this.#mapPtr('read initial value of', map), size) as bigint | null;
    if (!ptr) throw new BpfError(`read initial value of map ${map} in ${this.label}: not a data section map`, EINVAL);
    return copyOut(ptr, Number(size[0]));
  }

  /** Before load: replaces an internal map's initial contents (same size). */
  setInitialValue(map: string, data: Uint8Array): void {
    this.#mustNotBeLoaded('set initial value of');
    const r = lib().bpf_map__set_initial_value(this.#mapPtr('set initial value of', map), data, data.length) as number;
    if (r < 0) throw bpfError(`set initial value of map ${map} in ${this.label}`, r, 'load', { detail: `${data.length} bytes` });
  }

  /**
   * The variables of a data section, from the object's BTF DATASEC: what
   * `const volatile` configuration can be written before load, and where.
   */
  dataSectionVariables(section = '.rodata'): DataVariable[] {
    const n = lib();
    const btf = n.bpf_object__btf(this.#obj('read BTF of')) as bigint | null;
    if (!btf) return [];
    const id = n.btf__find_by_name_kind(btf, section, BTF_KIND_DATASEC) as number;
    if (id < 0) return [];
    // struct btf_type { u32 name_off; u32 info; u32 size; } then vlen × struct btf_var_secinfo { u32 type, offset, size; }.
    const head = copyOut(n.btf__type_by_id(btf, id) as bigint, 12);
    const vlen = head.readUInt32LE(4) & 0xffff;
    const all = copyOut(n.btf__type_by_id(btf, id) as bigint, 12 + 12 * vlen);
    const out: DataVariable[] = [];
    for (let i = 0; i < vlen; i++) {
      const at = 12 + 12 * i;
      const varType = all.readUInt32LE(at);
      const varHead = copyOut(n.btf__type_by_id(btf, varType) as bigint, 4);
      out.push({
        name: n.btf__name_by_offset(btf, varHead.readUInt32LE(0)) as string,
        offset: all.readUInt32LE(at + 4),
        size: all.readUInt32LE(at + 8),
      });
    }
    return out;
  }

  /**
   * bpf_object__load: creates (or reuses pinned) maps, relocates and verifies
   * every program. A verifier rejection becomes a BpfError whose message
   * ends with the log's last lines and whose verifierLog holds all of it.
   */
  load(): void {
    const obj = this.#obj('load');
    this.#mustNotBeLoaded('load');
    const { result: r, log } = withLibbpfLog(() => lib().bpf_object__load(obj) as number);
    if (r < 0) throw loadError(this.label, r, log);
    this.#loaded = true;
  }

  /** After load: a handle on map `name` (lent: valid until this object closes). */
  map(name: string): BpfMap {
    if (!this.#loaded) throw new BpfError(`use map ${name} of ${this.label}: object is not loaded`, EINVAL, { hint: 'call load() first' });
    const n = lib();
    const m = this.#mapPtr('use map of', name);
    const fd = n.bpf_map__fd(m) as number;
    if (fd < 0) throw bpfError(`use map ${name} of ${this.label}`, fd, 'map');
    return lendMap(
      fd,
      { name, type: n.bpf_map__type(m), keySize: n.bpf_map__key_size(m), valueSize: n.bpf_map__value_size(m), maxEntries: n.bpf_map__max_entries(m) },
      this.#life,
    );
  }

  /** After load: a handle on program `name` (lent). */
  program(name: string): BpfProgram {
    if (!this.#loaded) throw new BpfError(`use program ${name} of ${this.label}: object is not loaded`, EINVAL, { hint: 'call load() first' });
    const n = lib();
    const p = n.bpf_object__find_program_by_name(this.#obj('use program of'), name) as bigint | null;
    if (!p) {
      throw new BpfError(`use program ${name} of ${this.label}: no such program`, ENOENT, {
        hint: `programs: ${this.programs().map((x) => x.name).join(', ')}`,
      });
    }
    const fd = n.bpf_program__fd(p) as number;
    if (fd < 0) throw bpfError(`use program ${name} of ${this.label}`, fd, 'load', { hint: 'was it loaded? (autoload off?)' });
    return lendProgram(fd, name, n.bpf_program__section_name(p) as string, n.bpf_program__type(p) as number, this.#life);
  }

  /** Frees the object: its map and program fds close (pinned maps and attached programs live on in the kernel). */
  close(): void {
    if (this.#life.closed) return;
    this.#life.closed = true;
    lib().bpf_object__close(this.#ptr);
    this.#ptr = 0n;
  }
}

/** Turns a failed bpf_object__load and what libbpf printed meanwhile into one BpfError. */
function loadError(label: string, ret: number, log: string): BpfError {
  const errno = Math.abs(ret);
  const { failed, logs } = parseProgramLoadLogs(log);
  const prog = failed[0] ?? logs[0]?.program;
  if (prog) {
    const progLog = logs.find((l) => l.program === prog)?.log ?? '';
    const tail = lastLogLines(progLog, 3);
    const why = tail.length ? `verifier rejected it; last lines of the log: ${tail.join(' | ')}` : 'rejected by the kernel (no verifier log)';
    return new BpfError(`load ${label}: program ${prog}: ${errnoName(errno)} (${why})`, errno, {
      verifierLog: progLog || log,
      hint: errno === 1 ? 'is this root?' : undefined,
    });
  }
  const last = lastLibbpfWarning(log);
  const mapName = last?.match(/map '([^']+)'/)?.[1];
  const where = mapName ? `: map ${mapName}` : '';
  return bpfError(`load ${label}${where}`, errno, 'load', last ? { detail: last } : {});
}

// ---------------------------------------------------------------------------
// Ring buffers

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const MAP_FAILED = (1n << 64n) - 1n;
const F_DUPFD_CLOEXEC = 1030;
const SC_PAGESIZE = 30;
/** Record header bits (include/uapi/linux/bpf.h): still being written; discarded by the producer. */
const BPF_RINGBUF_BUSY_BIT = 0x80000000;
const BPF_RINGBUF_DISCARD_BIT = 0x40000000;
const BPF_RINGBUF_HDR_SZ = 8;
/** Bytes copied out per step at most (a batch of records is copied in one piece). */
const RINGBUF_COPY_STEP = 256 << 10;

/** Event-loop readiness of a ring buffer (libuv poll of the map's fd). */
export interface Readiness {
  /** Stops watching; the ring buffer itself stays open. */
  stop(): void;
  /** Lets the process exit while this is the only thing left in the event loop. */
  unref(): void;
  ref(): void;
}

/**
 * A consumer of one BPF_MAP_TYPE_RINGBUF map, reading the kernel's memory
 * directly, as libbpf's ring_buffer does but without a native callback per
 * record: the map is mmap()ed (the consumer position page read-write; the
 * producer position page and the data pages, which the kernel maps twice in a
 * row so a record that wraps is contiguous, read-only). consume() reads the
 * producer position, walks the record headers up to the first one still
 * being written, copies the whole run of records out in one piece, gives the
 * space back to the kernel (consumer position), then hands each record to
 * onSample as a Buffer over that copy (never over kernel memory: handlers may
 * keep it). Discarded records are skipped. watch() asks libuv to call back
 * when the map's fd is readable (the kernel's ring buffer poll: data waiting).
 */
export class RingBuffer {
  readonly mapName: string;
  readonly #onSample: (data: Buffer) => void;
  #fd: number;
  readonly #page: number;
  readonly #size: number;
  readonly #mask: number;
  #consPtr: bigint;
  #prodPtr: bigint;
  /** consumer_pos (u64, ours to write). */
  readonly #consPos: BigUint64Array;
  /** producer_pos (u64, the kernel's). */
  readonly #prodPos: BigUint64Array;
  /** The data pages, twice in a row. */
  readonly #data: Uint8Array;
  readonly #words: Int32Array;
  #poll: koffiNode.PollHandle | null = null;
  #closed = false;

  constructor(map: BpfMap, onSample: (data: Buffer) => void) {
    const what = `open ring buffer ${map.name}`;
    const size = map.maxEntries;
    if (size <= 0 || (size & (size - 1)) !== 0) throw new BpfError(`${what}: max_entries ${size} is not a power of two (is it a ring buffer map?)`, EINVAL);
    const n = lib();
    const fd = n.fcntl(mapFd(map, 'read ring buffer'), F_DUPFD_CLOEXEC, 0) as number;
    if (fd < 0) throw bpfError(what, koffi.errno() || EBADF, 'ringbuf');
    this.#fd = fd;
    this.mapName = map.name;
    this.#onSample = onSample;
    this.#page = Number(n.sysconf(SC_PAGESIZE)) || 4096;
    this.#size = size;
    this.#mask = size - 1;
    const cons = n.mmap(null, this.#page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0n) as bigint;
    if (cons === MAP_FAILED || !cons) {
      const errno = koffi.errno() || EINVAL;
      closeFd(fd);
      throw bpfError(`${what}: mmap consumer page`, errno, 'ringbuf');
    }
    const prodLen = this.#page + 2 * size;
    const prod = n.mmap(null, prodLen, PROT_READ, MAP_SHARED, fd, BigInt(this.#page)) as bigint;
    if (prod === MAP_FAILED || !prod) {
      const errno = koffi.errno() || EINVAL;
      n.munmap(cons, this.#page);
      closeFd(fd);
      throw bpfError(`${what}: mmap data pages`, errno, 'ringbuf');
    }
    this.#consPtr = cons;
    this.#prodPtr = prod;
    this.#consPos = new BigUint64Array(koffi.view(cons, 8));
    const prodView = koffi.view(prod, prodLen);
    this.#prodPos = new BigUint64Array(prodView, 0, 1);
    this.#data = new Uint8Array(prodView, this.#page, 2 * size);
    this.#words = new Int32Array(prodView, this.#page, (2 * size) >> 2);
  }

  /**
   * Reads every available record (handing each to onSample); returns how
   * many. Never blocks. Records a handler threw on are counted; the first
   * errors are re-thrown after the whole run was delivered.
   */
  consume(): number {
    if (this.#closed) throw new BpfError(`read ring buffer ${this.mapName}: ring buffer is closed`, EBADF);
    let count = 0;
    let errors: unknown[] | undefined;
    for (;;) {
      const cons = Number(Atomics.load(this.#consPos, 0));
      const prod = Number(Atomics.load(this.#prodPos, 0));
      if (cons >= prod) break;
      // Walk the headers: where each record starts and how long it is, up to the first still being written.
      const start = cons & this.#mask;
      let pos = cons;
      const offs: number[] = [];
      while (pos < prod && pos - cons < RINGBUF_COPY_STEP) {
        const at = pos & this.#mask;
        const len = Atomics.load(this.#words, at >> 2);
        if (len & BPF_RINGBUF_BUSY_BIT) break;
        const size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
        if (!(len & BPF_RINGBUF_DISCARD_BIT)) offs.push(pos - cons, size);
        pos += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7;
      }
      if (pos === cons) break;
      // One copy of the run (contiguous: the data pages are mapped twice), then the space goes back to the kernel.
      const chunk = Buffer.allocUnsafeSlow(pos - cons);
      chunk.set(this.#data.subarray(start, start + (pos - cons)));
      Atomics.store(this.#consPos, 0, BigInt(pos));
      for (let i = 0; i < offs.length; i += 2) {
        const o = offs[i]! + BPF_RINGBUF_HDR_SZ;
        count++;
        try {
          this.#onSample(chunk.subarray(o, o + offs[i + 1]!));
        } catch (err) {
          // Keep consuming; the first failures are re-thrown below.
          errors ??= [];
          if (errors.length < 16) errors.push(err);
        }
      }
    }
    if (errors?.length === 1) throw errors[0];
    if (errors) throw new AggregateError(errors, `read ring buffer ${this.mapName}: ${errors.length} sample handlers threw`);
    return count;
  }

  /** Calls `onReadable` from the event loop whenever records are waiting (or, with an Error, when polling fails). */
  watch(onReadable: (err?: Error) => void): Readiness {
    if (this.#closed) throw new BpfError(`watch ring buffer ${this.mapName}: ring buffer is closed`, EBADF);
    if (this.#poll) throw new BpfError(`watch ring buffer ${this.mapName}: already watched`, EINVAL);
    // koffi 3.3 calls back with (status, events) although its .d.ts says (events): take both.
    const handle = koffi.node.poll(this.#fd, { readable: true }, ((status: unknown) => {
      if (typeof status === 'number' && status < 0) onReadable(new BpfError(`watch ring buffer ${this.mapName}: poll failed`, -status));
      else onReadable();
    }) as never);
    if (!handle) throw new BpfError(`watch ring buffer ${this.mapName}: libuv poll failed`, EINVAL);
    this.#poll = handle;
    return {
      stop: () => {
        if (this.#poll === handle) {
          handle.close();
          this.#poll = null;
        }
      },
      unref: () => handle.unref(),
      ref: () => handle.ref(),
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops watching and unmaps the ring buffer (the map stays). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#poll?.close();
    this.#poll = null;
    const n = lib();
    n.munmap(this.#prodPtr, this.#page + 2 * this.#size);
    n.munmap(this.#consPtr, this.#page);
    this.#prodPtr = this.#consPtr = 0n;
    closeFd(this.#fd);
    this.#fd = -1;
  }
}

// ---------------------------------------------------------------------------
// Feature probes (raw; probes.ts names and reports them)

/** Outcome of one libbpf probe: supported, unsupported, or could not tell (errno). */
export type ProbeOutcome = { supported: boolean; errno?: number };

function probeOutcome(r: number): ProbeOutcome {
  if (r === 1) return { supported: true };
  if (r === 0) return { supported: false };
  return { supported: false, errno: -r };
}

/**
 * Can this process use bpf(2) at all? libbpf's probes answer "unsupported"
 * when the real problem is a missing privilege, so probes.ts asks this first.
 */
export function probeBpfSyscall(): ProbeOutcome {
  const fd = lib().bpf_map_create(2 /* ARRAY */, 'bl_probe', 4, 4, 1, null) as number;
  if (fd < 0) return { supported: false, errno: -fd };
  closeFd(fd);
  return { supported: true };
}

/** libbpf_probe_bpf_prog_type. */
export function probeProgType(progType: number): ProbeOutcome {
  return probeOutcome(lib().libbpf_probe_bpf_prog_type(progType, null) as number);
}

/** libbpf_probe_bpf_map_type. */
export function probeMapType(mapType: number): ProbeOutcome {
  return probeOutcome(lib().libbpf_probe_bpf_map_type(mapType, null) as number);
}

/** libbpf_probe_bpf_helper: may programs of `progType` call helper `helperId`? */
export function probeHelper(progType: number, helperId: number): ProbeOutcome {
  return probeOutcome(lib().libbpf_probe_bpf_helper(progType, helperId, null) as number);
}
