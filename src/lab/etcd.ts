/**
 * The lab's etcd: Debian's etcd server, listening on unix sockets only (client
 * and peer), so it opens no TCP port anywhere and processes in every lab
 * namespace reach it through the filesystem.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { LabStepError } from '../common/errors.js';
import { withTimeout } from '../common/timeout.js';
import { startDaemon, type OwnedProcess } from './process.js';

export interface EtcdHandle {
  socket: string;
  /** Client endpoint as a URL (`unix:///abs/path:2379`). */
  endpoint: string;
  dataDir: string;
  process: OwnedProcess;
}

/**
 * Operations per transaction the lab's etcd accepts (etcd's default: 128).
 * `apply -f` writes a file as one transaction of one compare and one put per
 * object, so this is the most objects one file can have; the request size
 * below is usually the tighter bound. See docs/store.md, "Big files".
 */
export const LAB_ETCD_MAX_TXN_OPS = 100_000;

/**
 * Bytes per request the lab's etcd accepts (etcd's default: 1.5 MiB): one
 * file's transaction, ~700 bytes per small object, so ~45,000 HTTPRoutes or
 * 10,000 objects of ~3 KiB. Above 10 MiB etcd logs at start that this exceeds
 * its recommendation (large requests delay others); a lab has one member and no
 * peers to fall behind. Clients must take messages this large in
 * (src/common/etcd.ts).
 */
export const LAB_ETCD_MAX_REQUEST_BYTES = 32 * 1024 * 1024;

/** etcd 3.4 wants `unix://host:port` and creates the socket file `host:port` in its working directory. */
export function etcdEndpoint(dir: string): { socket: string; endpoint: string } {
  const socket = join(dir, 'etcd.sock:2379');
  return { socket, endpoint: `unix://${socket}` };
}

export function startEtcd(lab: string, dir: string, netns: string, cgroupDir: string): EtcdHandle {
  mkdirSync(dir, { recursive: true });
  const dataDir = join(dir, 'data');
  const { socket, endpoint } = etcdEndpoint(dir);
  const proc = startDaemon({
    role: 'etcd',
    netns,
    cgroupDir,
    cwd: dir,
    log: join(dir, 'etcd.log'),
    cmd: [
      'etcd',
      '--name', lab,
      '--data-dir', dataDir,
      '--logger', 'zap',
      '--log-outputs', 'stderr',
      '--listen-client-urls', 'unix://etcd.sock:2379',
      '--advertise-client-urls', 'unix://etcd.sock:2379',
      '--listen-peer-urls', 'unix://peer.sock:2380',
      '--initial-advertise-peer-urls', 'unix://peer.sock:2380',
      '--initial-cluster', `${lab}=unix://peer.sock:2380`,
      '--initial-cluster-state', 'new',
      '--auto-compaction-mode', 'revision',
      '--auto-compaction-retention', '10000',
      // One `apply -f` file is one transaction (src/store/etcd.ts applyBatch).
      '--max-txn-ops', String(LAB_ETCD_MAX_TXN_OPS),
      '--max-request-bytes', String(LAB_ETCD_MAX_REQUEST_BYTES),
    ],
  });
  return { socket, endpoint, dataDir, process: proc };
}

/** Asks etcd for its status; resolves with its version and revision or rejects within `timeoutMs`. */
export async function etcdStatus(endpoint: string, timeoutMs = 2000): Promise<{ version: string; revision: string; dbSize: string }> {
  const client = new Etcd3({ hosts: endpoint, dialTimeout: timeoutMs });
  try {
    const st = await withTimeout(client.maintenance.status(), timeoutMs);
    return { version: st.version, revision: String(st.header.revision), dbSize: String(st.dbSize) };
  } finally {
    client.close();
  }
}

/** Waits until etcd answers, or throws naming its log. */
export async function waitEtcd(h: EtcdHandle, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      await etcdStatus(h.endpoint, 1000);
      return;
    } catch (e) {
      last = (e as Error).message;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new LabStepError(`start etcd: not ready after ${timeoutMs / 1000}s: ${last}`, { hint: `see ${h.process.log}` });
}
