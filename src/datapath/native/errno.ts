/**
 * errno → BpfError. libbpf (1.x, "strict" mode) returns `-errno` from every
 * call that fails; this file turns that number into a message that reads as an
 * operation path plus a hint, cilium/ebpf style:
 *   `load datapath build/bpf/host.bpf.o: create map bl_metrics: EPERM (is this root? is bpffs mounted?)`
 * Pure: no libbpf, no koffi, so it is unit-tested without root.
 */
import { constants } from 'node:os';
import { BpfError } from '../../common/errors.js';

/** Kernel-internal errno values that leak out of bpf(2) but are not in libc's table. */
const KERNEL_ONLY: Record<number, string> = {
  512: 'ERESTARTSYS',
  524: 'ENOTSUPP', // not EOPNOTSUPP: the BPF subsystem returns this one for "not implemented"
};

let byNumber: Map<number, string> | undefined;

/** `EPERM` for 1, `ENOTSUPP` for 524, `errno 9999` for anything unknown. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  if (!byNumber) {
    byNumber = new Map();
    for (const [name, value] of Object.entries(constants.errno)) {
      // Aliases share numbers (EWOULDBLOCK = EAGAIN, EDEADLOCK = EDEADLK): keep the first, canonical one.
      if (!byNumber.has(value)) byNumber.set(value, name);
    }
    for (const [value, name] of Object.entries(KERNEL_ONLY)) byNumber.set(Number(value), name);
  }
  return byNumber.get(n) ?? `errno ${n}`;
}

/** The positive errno value of a name, e.g. `errnoOf('ENOENT') === 2`. */
export function errnoOf(name: string): number {
  const table = constants.errno as Record<string, number>;
  if (name in table) return table[name]!;
  for (const [value, n] of Object.entries(KERNEL_ONLY)) if (n === name) return Number(value);
  throw new Error(`unknown errno name ${name}`);
}

export const EPERM = 1;
export const ENOENT = 2;
export const EBADF = 9;
export const EAGAIN = 11;
export const EACCES = 13;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const E2BIG = 7;
export const EOPNOTSUPP = 95;
export const ENOTSUPP = 524;

/** What kind of operation failed; picks the hint for an ambiguous errno. */
export type OperationKind =
  | 'open' // bpf_object__open_file
  | 'load' // bpf_object__load (maps created, programs verified)
  | 'map' // lookup / update / delete / iterate
  | 'pin' // bpf_obj_pin / bpf_obj_get / pin paths
  | 'tc' // tc hook / filter netlink operations
  | 'ringbuf'
  | 'probe'
  | 'test_run'
  | 'other';

/** A short hint for an errno, or undefined when the errno says it all. */
export function hintFor(errno: number, kind: OperationKind = 'other'): string | undefined {
  switch (Math.abs(errno)) {
    case EPERM:
      return 'is this root? is bpffs mounted?';
    case EACCES:
      if (kind === 'load') return 'the verifier rejected a program';
      return 'permission denied: is this root? (lockdown or an LSM may also refuse BPF)';
    case ENOENT:
      if (kind === 'open') return 'no such file: did `make bpf` run?';
      if (kind === 'pin') return 'nothing is pinned at that path';
      if (kind === 'tc') return 'no such hook or filter: was it attached?';
      return undefined;
    case ENODEV:
      return 'no such network interface in this network namespace';
    case EEXIST:
      if (kind === 'map') return 'the key exists and BPF_NOEXIST was given';
      if (kind === 'pin') return 'something is already pinned at that path';
      if (kind === 'tc') return 'a filter with that handle and priority exists (attach with replace)';
      return undefined;
    case E2BIG:
      if (kind === 'map') return 'the map is full (max_entries reached)';
      return 'argument too big for this kernel';
    case EINVAL:
      if (kind === 'load') return 'a pinned map with a different layout? an object built for another ABI?';
      if (kind === 'pin') return 'is the pin directory on a bpffs mount?';
      if (kind === 'test_run') return 'packet shorter than an Ethernet header, or a context the program type rejects';
      if (kind === 'map') return 'key or value size does not match the map, or bad flags';
      return 'invalid argument';
    case EOPNOTSUPP:
    case ENOTSUPP:
      return 'the kernel lacks this feature (see `beeline probe`)';
    case ENOSPC:
      if (kind === 'test_run') return 'the output buffer is too small (raise dataSizeOut)';
      return undefined;
    case EBADF:
      return 'used after close?';
    case EAGAIN:
      return 'resource temporarily unavailable (retry)';
    default:
      return undefined;
  }
}

/**
 * Builds the BpfError for a failed libbpf call. `ret` may be the negative
 * return value or the positive errno.
 */
export function bpfError(
  operation: string,
  ret: number,
  kind: OperationKind = 'other',
  extra: { hint?: string; verifierLog?: string; detail?: string } = {},
): BpfError {
  const errno = Math.abs(ret);
  const detail = extra.detail ? `: ${extra.detail}` : '';
  const hint = extra.hint ?? hintFor(errno, kind);
  const opts: { hint?: string; verifierLog?: string } = {};
  if (hint !== undefined) opts.hint = hint;
  if (extra.verifierLog !== undefined) opts.verifierLog = extra.verifierLog;
  return new BpfError(`${operation}: ${errnoName(errno)}${detail}`, errno, opts);
}

/**
 * The last `n` meaningful lines of a verifier log. The kernel ends a rejected
 * program's log with the reason and, after it, a `processed N insns` summary
 * line; both matter, so blank lines are dropped but nothing else.
 */
export function lastLogLines(log: string, n = 3): string[] {
  return log
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
    .slice(-n);
}

/** One program's verifier log, as libbpf prints it on a failed load. */
export interface ProgramLoadLog {
  program: string;
  log: string;
}

/**
 * Pulls the per-program verifier logs out of libbpf's captured output.
 * libbpf 1.1 prints, at warning level:
 *   `libbpf: prog 'NAME': BPF program load failed: Permission denied`
 *   `libbpf: prog 'NAME': -- BEGIN PROG LOAD LOG --\n…\n-- END PROG LOAD LOG --`
 */
export function parseProgramLoadLogs(libbpfOutput: string): { failed: string[]; logs: ProgramLoadLog[] } {
  const failed: string[] = [];
  for (const m of libbpfOutput.matchAll(/prog '([^']+)': BPF program load failed/g)) {
    if (!failed.includes(m[1]!)) failed.push(m[1]!);
  }
  const logs: ProgramLoadLog[] = [];
  for (const m of libbpfOutput.matchAll(/prog '([^']+)': -- BEGIN PROG LOAD LOG --\n([\s\S]*?)-- END PROG LOAD LOG --/g)) {
    logs.push({ program: m[1]!, log: m[2]! });
  }
  return { failed, logs };
}

/** The most telling line of libbpf's own output (the last warning), for non-verifier load failures. */
export function lastLibbpfWarning(libbpfOutput: string): string | undefined {
  const lines = libbpfOutput
    .split('\n')
    .map((l) => l.replace(/^libbpf: /, '').trim())
    .filter((l) => l !== '' && !/^-- (BEGIN|END) PROG LOAD LOG --$/.test(l));
  // libbpf ends every failed load with the generic "failed to load object 'X'"; the line before says why.
  const specific = lines.filter((l) => !/^failed to load object /.test(l));
  return specific.pop() ?? lines.pop();
}
