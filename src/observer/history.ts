/**
 * Flow history beyond the ring: every flow the node exports goes to a
 * JSON-lines file in Hubble's export format (one `observer.GetFlowsResponse`
 * per line, protobuf JSON with proto field names, as `hubble-export-file-path`
 * writes it), rotated like lumberjack rotates Hubble's files, and read back so
 * a GetFlows range that starts before the ring's oldest flow continues
 * seamlessly from disk.
 *
 * Files, for `path` = /var/run/beeline/hubble/events.log:
 *   events.log                               the active file, appended to
 *   events-2026-12-06T08-12-29.123.log       backups: renamed at rotation, UTC
 *   events-2026-12-06T08-12-31.004.log.gz    (with `compress`) gzipped backups
 * The timestamp (lumberjack's `2006-01-02T15-04-05.000`) is when the file was
 * rotated, so backups sort oldest first by name time. At most `maxBackups`
 * backups stay; older ones are deleted.
 *
 * The reader assumes what the exporter gives it: within the files, flows are
 * in the order the node saw them, so a file's first and last line bound its
 * times. Each yielded flow is still checked against the range on its own.
 */
import { createReadStream, createWriteStream, closeSync, fstatSync, openSync, readdirSync, readSync, statSync, type WriteStream } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, dirname, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGunzip, createGzip, gunzipSync } from 'node:zlib';
import { fromProtoJson, parseTimestampJson, toProtoJsonString } from '../api/proto.js';
import { FlowExportConfigError } from '../common/errors.js';
import type { Flow, FlowFilter, FlowHistoryReader, FlowPredicate } from './types.js';

/** Hubble's default `hubble-export-file-max-size-mb` (10), in bytes. */
export const DEFAULT_EXPORT_MAX_SIZE_BYTES = 10 * 1024 * 1024;
/** Hubble's default `hubble-export-file-max-backups`. */
export const DEFAULT_EXPORT_MAX_BACKUPS = 5;
/** Lines waiting for the disk, in bytes, before new flows are dropped. */
export const DEFAULT_EXPORT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Longest line the reader accepts (a flow is ~0.5-2 KiB of JSON). */
export const DEFAULT_HISTORY_MAX_LINE_BYTES = 1024 * 1024;

/** One write to the file carries at most this much (many lines, one syscall). */
const WRITE_BATCH_BYTES = 256 * 1024;
/** How much of a file's head or tail is read to find its first or last line. */
const EDGE_READ_BYTES = 64 * 1024;
/** After the file could not be opened, flows are dropped this long before trying again. */
const REOPEN_BACKOFF_MS = 1000;

// ---------------------------------------------------------------------------
// File naming (lumberjack's)

/** One file of the history: the active file or a backup. */
export interface HistoryFile {
  path: string;
  /** The active file (`path` itself), still being appended to. */
  active: boolean;
  /** Backups: rotation time from the name, ms since the epoch. */
  rotatedMs?: number;
  gzip: boolean;
}

function splitName(path: string): { dir: string; prefix: string; ext: string } {
  const base = basename(path);
  const ext = extname(base);
  return { dir: dirname(path), prefix: base.slice(0, base.length - ext.length), ext };
}

/** lumberjack's backup time format, `2006-01-02T15-04-05.000`, in UTC. */
function backupStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/:/g, '-').replace(/Z$/, '');
}

function parseBackupStamp(s: string): number | undefined {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)\.(\d{3})$/.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The backup name for `path` rotated at `ms`: `<prefix>-<stamp><ext>`. */
export function backupPath(path: string, ms: number): string {
  const { dir, prefix, ext } = splitName(path);
  return join(dir, `${prefix}-${backupStamp(ms)}${ext}`);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The history's files, oldest first: backups by their rotation time, then the
 * active file (if it exists). A backup present both plain and gzipped (while
 * it is being compressed) is listed once, plain.
 */
export function listHistoryFiles(path: string): HistoryFile[] {
  const { dir, prefix, ext } = splitName(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  const re = new RegExp(`^${escapeRe(prefix)}-(.{23})${escapeRe(ext)}(\\.gz)?$`);
  const backups = new Map<string, HistoryFile>();
  let active: HistoryFile | undefined;
  for (const name of names) {
    if (name === basename(path)) {
      active = { path, active: true, gzip: false };
      continue;
    }
    const m = re.exec(name);
    if (!m) continue;
    const ms = parseBackupStamp(m[1]!);
    if (ms === undefined) continue;
    const stem = m[2] ? name.slice(0, -3) : name;
    const gzip = Boolean(m[2]);
    if (backups.has(stem) && gzip) continue;
    backups.set(stem, { path: join(dir, name), active: false, rotatedMs: ms, gzip });
  }
  const out = [...backups.values()].sort((a, b) => a.rotatedMs! - b.rotatedMs! || (a.path < b.path ? -1 : 1));
  if (active) out.push(active);
  return out;
}

// ---------------------------------------------------------------------------
// Exporter

/** What the exporter writes and where (Hubble's `hubble-export-*` settings). */
export interface FlowExporterOptions {
  /** The active file (`hubble-export-file-path`); its directory is made if missing. */
  path: string;
  /** Rotate before the file would pass this size (`hubble-export-file-max-size-mb`); default 10 MiB. */
  maxSizeBytes?: number;
  /** Backups kept (`hubble-export-file-max-backups`); default 5; 0 keeps all, as lumberjack does. */
  maxBackups?: number;
  /** Gzip backups after rotation (`hubble-export-file-compress`); default false. */
  compress?: boolean;
  /** `hubble-export-allowlist`, kept for the status; `match` does the filtering. */
  allowlist?: FlowFilter[];
  /** `hubble-export-denylist`, kept for the status; `match` does the filtering. */
  denylist?: FlowFilter[];
  /** The allowlist and denylist compiled (src/observer/filter.ts); absent: every flow is exported. */
  match?: FlowPredicate;
  /** The observing node, the line's `node_name` when the flow carries none. */
  nodeName: string;
  /** Lines waiting for the disk before new flows are dropped; default 8 MiB. */
  maxBufferedBytes?: number;
}

/** The exporter and its files, for the agent's status API. */
export interface FlowExportStatus {
  path: string;
  /** Files on disk now: the active file and backups. */
  files: number;
  /** Their total size. */
  bytes: number;
  /** Flows written to the file. */
  written: number;
  /** Flows lost: the buffer was full (the disk did not keep up), a write failed, or the exporter was closed. */
  dropped: number;
  /** Flows the allowlist/denylist left out. */
  filtered: number;
  /** Rotations done. */
  rotated: number;
  /** Lines waiting for the disk. */
  buffered: number;
  /** Failed opens, writes, renames, compressions, deletions. */
  errors: number;
  lastError?: string;
  /** Lines the reader skipped because they did not parse (history.corruptLines). */
  corruptLines: number;
  maxSizeBytes: number;
  maxBackups: number;
  compress: boolean;
  allowlist: FlowFilter[];
  denylist: FlowFilter[];
}

function positiveInt(field: string, v: number | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < min) throw new FlowExportConfigError(`flow export: ${field} must be an integer >= ${min}, got ${v}`);
  return v;
}

/**
 * Writes flows to the history files. `export` is synchronous and cheap for
 * the pipeline: it encodes the line and queues it; one async loop appends
 * queued lines in batches through one write stream, rotating on the way. When
 * the disk falls behind, the queue is bounded and new flows are dropped and
 * counted, never waited for.
 */
export class FlowExporter {
  readonly path: string;
  readonly maxSizeBytes: number;
  readonly maxBackups: number;
  readonly compress: boolean;
  readonly nodeName: string;
  /** A reader over the same files (the Observer's FlowHistoryReader). */
  readonly history: FlowHistory;
  private readonly allowlist: FlowFilter[];
  private readonly denylist: FlowFilter[];
  private readonly match: FlowPredicate | undefined;
  private readonly maxBufferedBytes: number;

  private pending: string[] = [];
  /**
   * Per pending line: its length in UTF-16 units until it is about to be written (its byte length
   * for an ASCII line, a lower bound otherwise: no byte count per line on the hot path), then,
   * for a chunk that turned out not to be ASCII, its exact byte length.
   */
  private pendingLens: number[] = [];
  /** The first pending line not yet written (lines before it are written; dropped from the arrays in bulk, not one splice per write). */
  private pendingHead = 0;
  private pendingBytes = 0;
  private pumping = false;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private stream: WriteStream | undefined;
  private size = 0;
  /** The existing file ended in a partial line (a crash): start with a newline so it stays one bad line. */
  private needsNewline = false;
  private lastBackupMs = 0;
  private reopenAfter = 0;
  /** Compression and deletion of backups, one at a time after each rotation (lumberjack's mill). */
  private mill: Promise<void> = Promise.resolve();

  private counters = { written: 0, dropped: 0, filtered: 0, rotated: 0, errors: 0 };
  private lastError: string | undefined;

  constructor(opts: FlowExporterOptions) {
    if (typeof opts.path !== 'string' || opts.path === '') throw new FlowExportConfigError('flow export: path must be a file path');
    this.path = opts.path;
    this.maxSizeBytes = positiveInt('maxSizeBytes', opts.maxSizeBytes, DEFAULT_EXPORT_MAX_SIZE_BYTES, 1);
    this.maxBackups = positiveInt('maxBackups', opts.maxBackups, DEFAULT_EXPORT_MAX_BACKUPS, 0);
    this.maxBufferedBytes = positiveInt('maxBufferedBytes', opts.maxBufferedBytes, DEFAULT_EXPORT_MAX_BUFFERED_BYTES, 1);
    this.compress = opts.compress ?? false;
    this.allowlist = opts.allowlist ?? [];
    this.denylist = opts.denylist ?? [];
    this.match = opts.match;
    this.nodeName = opts.nodeName;
    this.history = new FlowHistory({ path: opts.path });
  }

  /** Queues one flow for the file. Never blocks and never throws. */
  export(flow: Flow): void {
    if (this.closed) {
      this.counters.dropped++;
      return;
    }
    if (this.reopenAfter && Date.now() < this.reopenAfter) {
      this.counters.dropped++;
      return;
    }
    // Full: drop before paying for the encoding (a line is rarely more than a few kB, so this only ever errs by one line).
    if (this.pendingBytes >= this.maxBufferedBytes) {
      this.counters.dropped++;
      return;
    }
    let line: string;
    try {
      if (this.match && !this.match(flow)) {
        this.counters.filtered++;
        return;
      }
      line = toProtoJsonString('observer.GetFlowsResponse', { flow, node_name: flow.node_name || this.nodeName, time: flow.time }) + '\n';
    } catch (err) {
      this.fail('flow export: filter or encode flow', err, 1);
      return;
    }
    const n = line.length;
    if (this.pendingBytes + n > this.maxBufferedBytes) {
      this.counters.dropped++;
      return;
    }
    this.pending.push(line);
    this.pendingLens.push(n);
    this.pendingBytes += n;
    if (!this.pumping) void this.pump();
  }

  /** Number of flows lost so far (buffer full, write failed, or after close). */
  get dropped(): number {
    return this.counters.dropped;
  }

  /** Settles when every queued line is written and backups are compressed and pruned. */
  async flush(): Promise<void> {
    while (this.pumping || this.pendingCount > 0) {
      if (!this.pumping) void this.pump();
      await new Promise<void>((r) => this.idleWaiters.push(r));
    }
    await this.mill;
  }

  /** Flushes and closes the file; flows exported afterwards are dropped. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.closeStream();
  }

  /** Counters and the files on disk now (a directory listing: for status requests, not the hot path). */
  status(): FlowExportStatus {
    let files = 0;
    let bytes = 0;
    let listed: HistoryFile[] = [];
    try {
      listed = listHistoryFiles(this.path);
    } catch {
      // an unreadable directory: the counters still tell, and lastError says why writes fail
    }
    for (const f of listed) {
      try {
        bytes += statSync(f.path).size;
        files++;
      } catch {
        // rotated or pruned while listing
      }
    }
    return {
      path: this.path,
      files,
      bytes,
      ...this.counters,
      buffered: this.pendingCount,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      corruptLines: this.history.corruptLines,
      maxSizeBytes: this.maxSizeBytes,
      maxBackups: this.maxBackups,
      compress: this.compress,
      allowlist: this.allowlist,
      denylist: this.denylist,
    };
  }

  private fail(op: string, err: unknown, droppedLines: number): void {
    this.counters.errors++;
    this.counters.dropped += droppedLines;
    this.lastError = `${op}: ${err instanceof Error ? err.message : String(err)}`;
  }

  /** Lines waiting to be written. */
  private get pendingCount(): number {
    return this.pending.length - this.pendingHead;
  }

  private dropPending(): void {
    this.counters.dropped += this.pendingCount;
    this.pending = [];
    this.pendingLens = [];
    this.pendingHead = 0;
    this.pendingBytes = 0;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.pendingCount > 0) {
        if (!this.stream) {
          try {
            await this.openStream();
          } catch (err) {
            this.fail(`flow export: open ${this.path}`, err, 0);
            this.reopenAfter = Date.now() + REOPEN_BACKOFF_MS;
            this.dropPending();
            break;
          }
        }
        // As many lines as fit in one write and in the file; a line longer
        // than the whole file limit goes alone into an empty file.
        const lead = this.needsNewline ? 1 : 0;
        let bytes = lead;
        let k = 0;
        const head = this.pendingHead;
        const count = this.pendingCount;
        while (k < count) {
          const n = this.pendingLens[head + k]!;
          const fitsFile = this.size + bytes + n <= this.maxSizeBytes || (this.size + bytes === 0 && k === 0);
          if (!fitsFile || (k > 0 && bytes + n > WRITE_BATCH_BYTES)) break;
          bytes += n;
          k++;
        }
        if (k === 0) {
          await this.rotate();
          continue;
        }
        const chunk = Buffer.from((lead ? '\n' : '') + this.pending.slice(head, head + k).join(''), 'utf8');
        if (chunk.length !== bytes) {
          // Not all ASCII: these lines get their exact byte lengths and are chosen again (never
          // more of them than before), so that the file limit holds to the byte.
          for (let i = head; i < head + k; i++) {
            const exact = Buffer.byteLength(this.pending[i]!);
            this.pendingBytes += exact - this.pendingLens[i]!;
            this.pendingLens[i] = exact;
          }
          continue;
        }
        this.pendingHead += k;
        if (this.pendingHead === this.pending.length) {
          this.pending = [];
          this.pendingLens = [];
          this.pendingHead = 0;
        } else if (this.pendingHead >= 4096 && this.pendingHead * 2 >= this.pending.length) {
          this.pending.splice(0, this.pendingHead);
          this.pendingLens.splice(0, this.pendingHead);
          this.pendingHead = 0;
        }
        this.pendingBytes -= bytes - lead;
        try {
          await this.write(chunk);
          this.needsNewline = false;
          this.size += bytes;
          this.counters.written += k;
        } catch (err) {
          this.fail(`flow export: write ${this.path}`, err, k);
          await this.closeStream();
        }
      }
    } finally {
      this.pumping = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private write(chunk: Buffer): Promise<void> {
    const s = this.stream!;
    return new Promise((resolve, reject) => {
      s.write(chunk, (err) => (err ? reject(err) : resolve()));
    });
  }

  private async openStream(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    if (this.lastBackupMs === 0) {
      for (const f of listHistoryFiles(this.path)) if (f.rotatedMs !== undefined) this.lastBackupMs = Math.max(this.lastBackupMs, f.rotatedMs);
    }
    let size = 0;
    try {
      size = (await stat(this.path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.needsNewline = false;
    if (size > 0) {
      const fh = await open(this.path, 'r');
      try {
        const b = Buffer.alloc(1);
        await fh.read(b, 0, 1, size - 1);
        this.needsNewline = b[0] !== 0x0a;
      } finally {
        await fh.close();
      }
    }
    const s = createWriteStream(this.path, { flags: 'a' });
    // Errors reach us through write callbacks; this keeps them from being unhandled.
    s.on('error', (err) => {
      this.lastError = `flow export: ${this.path}: ${err.message}`;
    });
    await once(s, 'open');
    this.stream = s;
    this.size = size;
  }

  private async closeStream(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => s.end(() => resolve()));
  }

  /** lumberjack's rotation: the active file becomes a timestamped backup; a new active file starts. */
  private async rotate(): Promise<void> {
    await this.closeStream();
    // Names have millisecond resolution; several rotations within one
    // millisecond must not overwrite each other's backups.
    const ms = Math.max(Date.now(), this.lastBackupMs + 1);
    this.lastBackupMs = ms;
    try {
      await rename(this.path, backupPath(this.path, ms));
      this.counters.rotated++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.fail(`flow export: rotate ${this.path}`, err, 0);
    }
    this.mill = this.mill.then(() => this.tidyBackups());
  }

  /** Compresses plain backups (with `compress`) and deletes the oldest beyond maxBackups. */
  private async tidyBackups(): Promise<void> {
    const backups = listHistoryFiles(this.path).filter((f) => !f.active);
    const excess = this.maxBackups > 0 ? Math.max(0, backups.length - this.maxBackups) : 0;
    for (const f of backups.slice(0, excess)) {
      for (const p of f.gzip ? [f.path] : [f.path, `${f.path}.gz`]) {
        try {
          await unlink(p);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.fail(`flow export: delete ${p}`, err, 0);
        }
      }
    }
    if (!this.compress) return;
    for (const f of backups.slice(excess)) {
      if (f.gzip) continue;
      const tmp = `${f.path}.gz.tmp`;
      try {
        await pipeline(createReadStream(f.path), createGzip(), createWriteStream(tmp));
        // Readers see either the plain or the complete gzipped file, never a partial one.
        await rename(tmp, `${f.path}.gz`);
        await unlink(f.path);
      } catch (err) {
        this.fail(`flow export: compress ${f.path}`, err, 0);
        await unlink(tmp).catch(() => undefined);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Reader

/** Where the reader looks. */
export interface FlowHistoryOptions {
  /** The exporter's active file path; backups are found beside it. */
  path: string;
  /** Longer lines are skipped as corrupt; default 1 MiB. */
  maxLineBytes?: number;
}

interface FileBounds {
  firstNs?: bigint;
  lastNs?: bigint;
}

/** A file opened for one read: the descriptor pins it against rotation and pruning while we read. */
interface PinnedFile extends HistoryFile {
  fd: number;
  ino: number;
  /** The fd belongs to a read stream now, which closes it. */
  streamed?: boolean;
}

function nsOf(ts: unknown): bigint | undefined {
  if (typeof ts !== 'string') return undefined;
  const t = parseTimestampJson(ts);
  return t ? BigInt(t.seconds) * 1_000_000_000n + BigInt(t.nanos) : undefined;
}

/**
 * The flow's time from a parsed line (0 for a flow without one, as
 * flowTimeNs has it); undefined: not a flow line, or a time that does not parse.
 */
function lineTimeNs(obj: unknown): bigint | undefined {
  if (typeof obj !== 'object' || obj === null) return undefined;
  const o = obj as { flow?: { time?: unknown }; time?: unknown };
  if (typeof o.flow !== 'object' || o.flow === null) return undefined;
  const t = o.flow.time ?? o.time;
  return t === undefined ? 0n : nsOf(t);
}

function parseLineTime(line: string): bigint | undefined {
  try {
    return lineTimeNs(JSON.parse(line));
  } catch {
    return undefined;
  }
}

/**
 * Reads the history files back (FlowHistoryReader for the Observer). Files
 * are streamed line by line; a line that does not parse (junk, or the partial
 * last line a crash left) is skipped and counted in `corruptLines`.
 */
export class FlowHistory implements FlowHistoryReader {
  readonly path: string;
  private readonly maxLineBytes: number;
  /** Backups never change once rotated: their bounds, by backup stem name. */
  private readonly bounds = new Map<string, FileBounds>();
  private corrupt = 0;

  constructor(opts: FlowHistoryOptions) {
    this.path = opts.path;
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_HISTORY_MAX_LINE_BYTES;
  }

  /** Lines skipped because they did not parse, over every read. */
  get corruptLines(): number {
    return this.corrupt;
  }

  /** The files now, oldest first. */
  files(): HistoryFile[] {
    return listHistoryFiles(this.path);
  }

  /**
   * Time of the first flow of the oldest file. Cheap: one directory listing
   * and, the first time a backup is seen, one small read of its head.
   */
  oldestNs(): bigint | undefined {
    const files = this.files();
    this.forgetGone(files);
    for (const f of files) {
      const cached = f.active ? undefined : this.bounds.get(this.stem(f))?.firstNs;
      if (cached !== undefined) return cached;
      let fd: number;
      try {
        fd = openSync(f.path, 'r');
      } catch {
        continue; // pruned or compressed since the listing; the next file is the oldest then
      }
      try {
        const first = this.firstNs({ ...f, fd, ino: 0 });
        if (first !== undefined) return first;
      } finally {
        closeSync(fd);
      }
    }
    return undefined;
  }

  /** Flows in [sinceNs, untilNs) and before beforeNs that match, oldest first. */
  async *read(range: { sinceNs: bigint; untilNs?: bigint; beforeNs?: bigint }, match: FlowPredicate): AsyncIterable<Flow> {
    const { sinceNs } = range;
    const endNs = range.untilNs === undefined ? range.beforeNs : range.beforeNs === undefined ? range.untilNs : range.untilNs < range.beforeNs ? range.untilNs : range.beforeNs;
    if (endNs !== undefined && endNs <= sinceNs) return;
    const files = this.pinFiles();
    try {
      for (const f of files) {
        const first = this.firstNs(f);
        const last = f.active ? undefined : this.lastNs(f);
        if (first === undefined && !f.gzip && fstatSync(f.fd).size === 0) continue;
        if (endNs !== undefined && first !== undefined && first >= endNs) continue;
        if (last !== undefined && last < sinceNs) continue;
        yield* this.readFile(f, sinceNs, endNs, match);
      }
    } finally {
      for (const f of files) if (!f.streamed) closeSync(f.fd);
    }
  }

  private forgetGone(files: HistoryFile[]): void {
    const stems = new Set(files.map((f) => this.stem(f)));
    for (const k of this.bounds.keys()) if (!stems.has(k)) this.bounds.delete(k);
  }

  private stem(f: HistoryFile): string {
    return f.gzip ? f.path.slice(0, -3) : f.path;
  }

  /**
   * Opens every file of the history. A rotation between listing and opening
   * moves the active file's lines into a backup we did not list: a second
   * listing finds it (by inode, so a file already open is not read twice).
   */
  private pinFiles(): PinnedFile[] {
    const pinned: PinnedFile[] = [];
    const openOne = (f: HistoryFile): PinnedFile | undefined => {
      for (const p of f.gzip || f.active ? [f.path] : [f.path, `${f.path}.gz`]) {
        try {
          const fd = openSync(p, 'r');
          return { ...f, path: p, gzip: p.endsWith('.gz'), fd, ino: fstatSync(fd).ino };
        } catch {
          // gone (pruned) or compressed meanwhile: try the .gz name, else skip
        }
      }
      return undefined;
    };
    const first = this.files();
    this.forgetGone(first);
    for (const f of first) {
      const p = openOne(f);
      if (p) pinned.push(p);
    }
    const known = new Set(first.map((f) => this.stem(f)));
    const inos = new Set(pinned.map((f) => f.ino));
    const late: PinnedFile[] = [];
    for (const f of this.files()) {
      if (f.active || known.has(this.stem(f))) continue;
      const p = openOne(f);
      if (!p) continue;
      if (inos.has(p.ino)) closeSync(p.fd);
      else late.push(p);
    }
    const activeAt = pinned.findIndex((f) => f.active);
    if (activeAt < 0) return [...pinned, ...late];
    return [...pinned.slice(0, activeAt), ...late, ...pinned.slice(activeAt)];
  }

  /**
   * The first EDGE_READ_BYTES of the (decompressed) file, or its last ones
   * (plain files only); `whole`: the read covers the file from its start.
   */
  private readEdge(f: PinnedFile, where: 'head' | 'tail'): { text: string; whole: boolean } {
    const size = fstatSync(f.fd).size;
    const n = Math.min(size, EDGE_READ_BYTES);
    const b = Buffer.alloc(n);
    const got = readSync(f.fd, b, 0, n, where === 'head' ? 0 : size - n);
    const raw = b.subarray(0, got);
    if (!f.gzip) return { text: raw.toString('utf8'), whole: n === size };
    try {
      // A prefix of a gzip stream: inflate what it holds instead of failing on the missing end.
      return { text: gunzipSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('utf8'), whole: false };
    } catch {
      return { text: '', whole: false };
    }
  }

  private firstNs(f: PinnedFile): bigint | undefined {
    const key = this.stem(f);
    if (!f.active) {
      const c = this.bounds.get(key);
      if (c?.firstNs !== undefined) return c.firstNs;
    }
    const lines = this.readEdge(f, 'head').text.split('\n');
    lines.pop(); // after the last newline: cut short by the read size, or still being written
    let found: bigint | undefined;
    for (const line of lines) {
      found = parseLineTime(line);
      if (found !== undefined) break;
    }
    if (found !== undefined && !f.active) this.bounds.set(key, { ...this.bounds.get(key), firstNs: found });
    return found;
  }

  /** A backup's last flow time; gzipped backups learn it from their first full read. */
  private lastNs(f: PinnedFile): bigint | undefined {
    const key = this.stem(f);
    const c = this.bounds.get(key);
    if (c?.lastNs !== undefined || f.gzip) return c?.lastNs;
    const { text, whole } = this.readEdge(f, 'tail');
    const lines = text.split('\n');
    let found: bigint | undefined;
    // Unless the read started at the file's start, its first piece is a cut line.
    for (let i = lines.length - 1; i >= (whole ? 0 : 1) && found === undefined; i--) found = parseLineTime(lines[i]!);
    if (found !== undefined) this.bounds.set(key, { ...this.bounds.get(key), lastNs: found });
    return found;
  }

  private async *readFile(f: PinnedFile, sinceNs: bigint, endNs: bigint | undefined, match: FlowPredicate): AsyncGenerator<Flow> {
    f.streamed = true;
    const src = createReadStream('', { fd: f.fd, start: 0 });
    const input = f.gzip ? src.pipe(createGunzip()) : src;
    // pipe() does not pass a read error on; without this the loop below would wait forever.
    if (input !== src) src.on('error', (err) => input.destroy(err));
    let rest: Buffer[] = [];
    let restLen = 0;
    let overlong = false;
    let firstNs: bigint | undefined;
    let lastNs: bigint | undefined;
    let complete = false;
    const self = this;
    // One line: parse only the time first, and the full message only for flows in range.
    function* take(line: string, trailing: boolean): Generator<Flow> {
      if (line.trim() === '') return;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch {
        // The active file's unterminated last line may still be being written.
        if (!(trailing && f.active)) self.corrupt++;
        return;
      }
      const t = lineTimeNs(obj);
      if (t === undefined) {
        // Hubble's files may hold lost_events or node_status lines: not corrupt, just not flows.
        if (typeof obj !== 'object' || obj === null || (obj as { flow?: unknown }).flow !== undefined) self.corrupt++;
        return;
      }
      firstNs ??= t;
      lastNs = t;
      if (t < sinceNs || (endNs !== undefined && t >= endNs)) return;
      let flow: Flow;
      try {
        flow = fromProtoJson('observer.GetFlowsResponse', obj).flow as Flow;
      } catch {
        self.corrupt++;
        return;
      }
      if (match(flow)) yield flow;
    }
    try {
      for await (const chunk of input as AsyncIterable<Buffer>) {
        let start = 0;
        for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, start)) {
          const piece = chunk.subarray(start, i);
          start = i + 1;
          if (overlong) {
            overlong = false;
            rest = [];
            restLen = 0;
            continue;
          }
          const line = restLen ? Buffer.concat([...rest, piece]).toString('utf8') : piece.toString('utf8');
          rest = [];
          restLen = 0;
          yield* take(line, false);
        }
        if (start < chunk.length && !overlong) {
          rest.push(chunk.subarray(start));
          restLen += chunk.length - start;
          if (restLen > this.maxLineBytes) {
            // Counted once; the rest of it is skipped up to its newline.
            this.corrupt++;
            overlong = true;
            rest = [];
            restLen = 0;
          }
        }
      }
      if (restLen && !overlong) yield* take(Buffer.concat(rest).toString('utf8'), true);
      complete = true;
    } catch {
      // A damaged gzip stream or a read error: what was read stands; the rest of the file is lost.
      this.corrupt++;
    } finally {
      src.destroy();
      if (input !== src) input.destroy();
      if (complete && !f.active && firstNs !== undefined) this.bounds.set(this.stem(f), { firstNs, lastNs });
    }
  }
}
