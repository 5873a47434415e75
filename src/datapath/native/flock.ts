/**
 * The native boundary's lock files: flock(2), which Node's fs does not have,
 * is one koffi call into libc, like sockets.ts; the file's descriptor stays in
 * here. The node agent holds one for its whole life (src/agent/lock.ts).
 *
 * A flock belongs to the open file description, not to the process: two
 * opens of the same file, even in one process, exclude each other, and the
 * kernel drops the lock when that description closes: when its holder
 * releases it or dies, however it dies. Node opens files close-on-exec, so no
 * child process inherits (and keeps) the lock.
 */
import koffi from 'koffi';
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { EAGAIN, errnoName } from './errno.js';

const LOCK_EX = 2;
const LOCK_NB = 4;
const EINTR = 4;

let flockFn: ((fd: number, op: number) => number) | undefined;

function flock(): (fd: number, op: number) => number {
  flockFn ??= koffi.load('libc.so.6').func('int flock(int fd, int operation)') as (fd: number, op: number) => number;
  return flockFn;
}

/** An exclusive flock held on a file until release(). */
export interface FileLock {
  release(): void;
}

/**
 * Opens `path` (created mode 0600, never through a symlink, never truncated
 * before it is locked) and takes an exclusive flock without waiting. Locked:
 * the file's content is replaced with `content`. Held by another open of it:
 * the holder's pid as the kernel lists it in /proc/locks, else as the file
 * says (a holder writes it just after it locks). Throws an Error naming the
 * step and errno when the file cannot be opened or locked at all.
 */
export function tryLockFile(path: string, content: string): { lock: FileLock } | { heldBy: number | undefined } {
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  let r: number;
  try {
    do {
      r = flock()(fd, LOCK_EX | LOCK_NB) === 0 ? 0 : koffi.errno();
    } while (r === EINTR);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  if (r !== 0) {
    const heldBy = r === EAGAIN ? lockHolder(fd, path) : undefined;
    closeSync(fd);
    if (r === EAGAIN) return { heldBy };
    throw new Error(`flock: ${errnoName(r)}`);
  }
  ftruncateSync(fd, 0);
  writeSync(fd, content, 0);
  let open = true;
  return {
    lock: {
      release() {
        if (open) closeSync(fd);
        open = false;
      },
    },
  };
}

/** The pid holding a flock on the file open at `fd`: /proc/locks first (by device and inode), else the number in the file. */
function lockHolder(fd: number, path: string): number | undefined {
  try {
    const st = fstatSync(fd, { bigint: true });
    // /proc/locks: `1: FLOCK  ADVISORY  WRITE 1234 fe:00:5678 0 EOF` (major and minor in hex, as glibc splits a dev_t).
    const major = ((st.dev >> 8n) & 0xfffn) | ((st.dev >> 32n) & ~0xfffn);
    const minor = (st.dev & 0xffn) | ((st.dev >> 12n) & ~0xffn);
    const id = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`;
    for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f[1] === 'FLOCK' && f[5] === id && Number(f[4]) > 0) return Number(f[4]);
    }
  } catch {
    /* no /proc: the file then */
  }
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
