/**
 * Handing mesh leaves to the node proxies (issue 15, piece E2). One store
 * object per node and ServiceAccount, kind BeelineCertificateRequest
 * (beeline.io/v1alpha1, cluster-scoped, store-only: a CRD in Kubernetes mode,
 * a key under /beeline in kvstore mode):
 *
 *   spec:   nodeName, namespace, serviceAccount, publicKey (PEM SPKI, ECDSA P-256), ttlSeconds
 *   status: publicKeyDigest (sha256 of the spec key the leaf carries),
 *           certificate, bundle (PEM), notAfter, renewAt; or error
 *
 * The agent (MeshCertificates) makes a key per ServiceAccount of its local
 * pods, keeps the private key on the node (in memory, and in the proxy's
 * certificate file, mode 0600; never in the store), writes the public key in
 * the request, and installs the leaf the operator (CertificateSigner) writes
 * back into the status. At `renewAt` (half the leaf's life) it makes a new
 * key and asks again; the new leaf goes into the running proxy through
 * `install` (the runtime API's `set ssl cert` + `commit ssl cert`, no
 * reload). A request whose ServiceAccount has no local pod any more is deleted.
 */
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MeshCaError, StoreAlreadyExistsError, StoreConflictError, StoreNotFoundError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { Informer, Store, StoreObject } from '../store/store.js';
import { meshServerName, type MeshCa } from './ca.js';

export const CERT_REQUEST_KIND = 'BeelineCertificateRequest';
export const CERT_REQUEST_API_VERSION = 'beeline.io/v1alpha1';
/** The label naming the requesting node (an agent watches its own requests). */
export const CERT_REQUEST_NODE_LABEL = 'beeline.io/node';

export interface CertificateRequestSpec {
  nodeName: string;
  namespace: string;
  serviceAccount: string;
  publicKey: string;
  ttlSeconds?: number;
}

export interface CertificateRequestStatus {
  publicKeyDigest?: string;
  certificate?: string;
  bundle?: string;
  notAfter?: string;
  renewAt?: string;
  error?: string;
}

const digest = (pem: string) => createHash('sha256').update(pem.trim()).digest('hex');

/** The request's name: `<node>.<namespace>.<serviceaccount>`, or `<node>.<hash>` when that is longer than a name may be. */
export function certificateRequestName(node: string, namespace: string, serviceAccount: string): string {
  const full = `${node}.${namespace}.${serviceAccount}`;
  return full.length <= 253 ? full : `${node.slice(0, 200)}.${createHash('sha256').update(`${namespace}/${serviceAccount}`).digest('hex').slice(0, 32)}`;
}

/**
 * The operator's side: signs every request whose key has no leaf yet (or
 * whose leaf is for another key), writing the status. Who may ask for which
 * identity is not checked (any agent can ask for any ServiceAccount).
 */
export class CertificateSigner {
  private informer: Informer | undefined;
  private readonly busy = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Leaves issued, and requests refused. */
  readonly stats = { issued: 0, refused: 0 };

  constructor(
    private readonly store: Store,
    private readonly ca: MeshCa,
    private readonly log: Pick<Logger, 'info' | 'warn'>,
    private readonly resyncMs = 30_000,
  ) {}

  async start(): Promise<void> {
    this.informer = this.store.informer(CERT_REQUEST_KIND);
    this.informer.on('add', (o) => void this.sign(o));
    this.informer.on('update', (o) => void this.sign(o));
    this.informer.on('error', (e) => this.log.warn('certificate requests: watch error', { error: e.message }));
    await this.informer.start();
    for (const o of this.informer.list()) void this.sign(o);
    // A write that failed (the store was away) is tried again.
    this.timer = setInterval(() => { for (const o of this.informer?.list() ?? []) void this.sign(o); }, this.resyncMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.informer?.stop();
  }

  /** Signs one request if it needs it; never throws. */
  async sign(obj: StoreObject): Promise<void> {
    const spec = obj.spec as Partial<CertificateRequestSpec> | undefined;
    const status = (obj.status ?? {}) as CertificateRequestStatus;
    if (!spec?.publicKey || !spec.namespace || !spec.serviceAccount) return;
    const want = digest(spec.publicKey);
    if (status.publicKeyDigest === want) return;
    const key = `${obj.metadata.name} ${want}`;
    if (this.busy.has(key)) return;
    this.busy.add(key);
    try {
      let next: CertificateRequestStatus;
      try {
        const leaf = await this.ca.issue({
          namespace: spec.namespace,
          serviceAccount: spec.serviceAccount,
          publicKey: spec.publicKey,
          dnsNames: [meshServerName(spec.namespace, spec.serviceAccount)],
          ...(spec.ttlSeconds ? { ttlSeconds: spec.ttlSeconds } : {}),
        });
        next = { publicKeyDigest: want, certificate: leaf.certificatePem, bundle: leaf.bundlePem, notAfter: leaf.notAfter.toISOString(), renewAt: leaf.renewAt.toISOString() };
        this.stats.issued++;
        this.log.info('mesh certificate issued', { request: obj.metadata.name, spiffeId: leaf.spiffeId, notAfter: next.notAfter });
      } catch (e) {
        if (!(e instanceof MeshCaError)) throw e;
        next = { publicKeyDigest: want, error: e.message };
        this.stats.refused++;
        this.log.warn('mesh certificate refused', { request: obj.metadata.name, error: e.message });
      }
      await this.store.updateStatus({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { ...obj.metadata }, spec: obj.spec, status: next });
    } catch (e) {
      // A conflict: the agent asked again meanwhile; its update comes as an event.
      if (!(e instanceof StoreConflictError || e instanceof StoreNotFoundError)) this.log.warn('certificate request: status not written', { request: obj.metadata.name, error: (e as Error).message });
    } finally {
      this.busy.delete(key);
    }
  }
}

/** A ServiceAccount's certificate as the proxy loads it. */
export interface InstalledCertificate {
  namespace: string;
  serviceAccount: string;
  /** The PEM file: leaf, then private key (mode 0600). */
  file: string;
  notAfter: Date;
  renewAt: Date;
}

export interface MeshCertificatesOptions {
  store: Store;
  nodeName: string;
  /** Where the certificate files go (the proxy's state directory's `certs/`). */
  dir: string;
  /** Leaf lifetime asked for (default: the CA's default, 1 h). */
  ttlSeconds?: number;
  log: Pick<Logger, 'info' | 'warn'>;
  /**
   * A leaf replaced one the running proxy holds: put it in without a reload
   * (`set ssl cert` + `commit ssl cert`). Rejecting: the file is rewritten
   * all the same and `changed` is called (a reload loads it).
   */
  install: (file: string, pem: string) => Promise<void>;
  /**
   * The set of certificates or the bundle changed (a new ServiceAccount, one
   * gone, a new CA bundle): render again; `reload`: a new leaf could not be put
   * in the running proxy, which must reload even if the configuration is the same.
   */
  changed: (certs: InstalledCertificate[], bundlePem: string | undefined, reload: boolean) => void;
  /** The clock (tests). */
  now?: () => Date;
}

interface Slot {
  namespace: string;
  serviceAccount: string;
  name: string;
  /** The key the request names now (waiting for its leaf, or installed). */
  key: KeyObject;
  publicPem: string;
  installed?: InstalledCertificate;
  /** sha256 of the installed leaf. */
  certDigest?: string;
  renewTimer?: NodeJS.Timeout;
}

/** The agent's side: one request per local ServiceAccount; leaves installed as they come. */
export class MeshCertificates {
  private informer: Informer | undefined;
  private readonly slots = new Map<string, Slot>();
  private bundle: string | undefined;
  private stopped = false;
  /** Leaves installed in place (runtime API), files rewritten, requests written. */
  readonly stats = { rotated: 0, installed: 0, requests: 0, lastError: undefined as string | undefined };

  constructor(private readonly o: MeshCertificatesOptions) {}

  async start(): Promise<void> {
    mkdirSync(this.o.dir, { recursive: true, mode: 0o700 });
    this.informer = this.o.store.informer(CERT_REQUEST_KIND, { labelSelector: `${CERT_REQUEST_NODE_LABEL}=${this.o.nodeName}` });
    this.informer.on('add', (obj) => void this.received(obj));
    this.informer.on('update', (obj) => void this.received(obj));
    this.informer.on('error', (e) => this.o.log.warn('mesh certificates: watch error', { error: e.message }));
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.slots.values()) if (s.renewTimer) clearTimeout(s.renewTimer);
    await this.informer?.stop();
  }

  /** The certificates the proxy can load now. */
  certificates(): InstalledCertificate[] {
    return [...this.slots.values()].flatMap((s) => (s.installed ? [s.installed] : [])).sort((a, b) => a.file.localeCompare(b.file));
  }

  get bundlePem(): string | undefined {
    return this.bundle;
  }

  /** The ServiceAccounts (`namespace/name`) of this node's pods: new ones are asked for, gone ones dropped. */
  async setServiceAccounts(accounts: Iterable<string>): Promise<void> {
    const want = new Set(accounts);
    let dropped = false;
    for (const [k, s] of this.slots) {
      if (want.has(k)) continue;
      if (s.renewTimer) clearTimeout(s.renewTimer);
      this.slots.delete(k);
      if (s.installed) {
        rmSync(s.installed.file, { force: true });
        dropped = true;
      }
      await this.o.store.delete(CERT_REQUEST_KIND, undefined, s.name, { ignoreNotFound: true }).catch((e: Error) => this.o.log.warn('mesh certificates: request not deleted', { request: s.name, error: e.message }));
    }
    if (dropped) this.o.changed(this.certificates(), this.bundle, false);
    for (const k of want) {
      if (this.slots.has(k)) continue;
      const [namespace, serviceAccount] = k.split('/') as [string, string];
      const slot: Slot = { namespace, serviceAccount, name: certificateRequestName(this.o.nodeName, namespace, serviceAccount), ...newKey() };
      this.slots.set(k, slot);
      await this.request(slot);
    }
  }

  /** Writes the request with the slot's current public key. */
  private async request(slot: Slot): Promise<void> {
    const spec: CertificateRequestSpec = { nodeName: this.o.nodeName, namespace: slot.namespace, serviceAccount: slot.serviceAccount, publicKey: slot.publicPem, ...(this.o.ttlSeconds ? { ttlSeconds: this.o.ttlSeconds } : {}) };
    const metadata = { name: slot.name, labels: { [CERT_REQUEST_NODE_LABEL]: this.o.nodeName, 'app.kubernetes.io/part-of': 'beeline' } };
    for (let attempt = 0; attempt < 5 && !this.stopped; attempt++) {
      try {
        const cur = await this.o.store.get(CERT_REQUEST_KIND, undefined, slot.name);
        if (cur) await this.o.store.update({ apiVersion: CERT_REQUEST_API_VERSION, kind: CERT_REQUEST_KIND, metadata: { ...cur.metadata, labels: metadata.labels }, spec });
        else await this.o.store.create({ apiVersion: CERT_REQUEST_API_VERSION, kind: CERT_REQUEST_KIND, metadata, spec });
        this.stats.requests++;
        return;
      } catch (e) {
        if (!(e instanceof StoreConflictError || e instanceof StoreAlreadyExistsError)) {
          this.stats.lastError = (e as Error).message;
          this.o.log.warn('mesh certificates: request not written; retrying in 5 s', { request: slot.name, error: this.stats.lastError });
          this.schedule(slot, 5000);
          return;
        }
      }
    }
  }

  private schedule(slot: Slot, ms: number): void {
    if (this.stopped) return;
    if (slot.renewTimer) clearTimeout(slot.renewTimer);
    slot.renewTimer = setTimeout(() => {
      slot.renewTimer = undefined;
      if (this.slots.get(`${slot.namespace}/${slot.serviceAccount}`) !== slot) return;
      // At half-life: a new key, asked for again; the current leaf serves until the new one is in.
      Object.assign(slot, newKey());
      void this.request(slot);
    }, Math.min(Math.max(ms, 0), 2 ** 31 - 1));
  }

  /** A request's object changed: install its leaf if it is for the key the slot waits on. */
  private async received(obj: StoreObject): Promise<void> {
    const spec = obj.spec as CertificateRequestSpec | undefined;
    const st = (obj.status ?? {}) as CertificateRequestStatus;
    if (!spec) return;
    const slot = this.slots.get(`${spec.namespace}/${spec.serviceAccount}`);
    if (!slot || slot.name !== obj.metadata.name) return;
    if (st.publicKeyDigest !== digest(slot.publicPem)) return;
    if (st.error || !st.certificate) {
      this.stats.lastError = st.error ?? 'no certificate';
      this.o.log.warn('mesh certificates: the operator refused the request', { request: slot.name, error: this.stats.lastError });
      return;
    }
    if (slot.certDigest === digest(st.certificate)) return; // this leaf is in already
    slot.certDigest = digest(st.certificate);
    const pem = `${st.certificate.trim()}\n${slot.key.export({ type: 'pkcs8', format: 'pem' }).toString()}`;
    const file = join(this.o.dir, `${spec.namespace}_${spec.serviceAccount}.pem`);
    const notAfter = new Date(st.notAfter ?? 0);
    const renewAt = new Date(st.renewAt ?? 0);
    const first = slot.installed === undefined;
    const bundleChanged = st.bundle !== undefined && st.bundle !== this.bundle;
    if (st.bundle !== undefined) this.bundle = st.bundle;
    // A file already there: the running proxy may hold it (a renewal, or an agent restarted under a running proxy).
    const hadFile = existsSync(file);
    writeFileSync(`${file}.tmp`, pem, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    slot.installed = { namespace: spec.namespace, serviceAccount: spec.serviceAccount, file, notAfter, renewAt };
    this.schedule(slot, renewAt.getTime() - (this.o.now ?? (() => new Date()))().getTime());
    let reload = false;
    if (hadFile) {
      try {
        await this.o.install(file, pem);
        this.stats.rotated++;
        this.o.log.info('mesh certificate put in the running proxy', { file, notAfter: notAfter.toISOString() });
      } catch (e) {
        // Not loaded there (a new section not yet applied), or the proxy is away: a reload loads the file.
        reload = true;
        this.o.log.warn('mesh certificates: not put in place; reloading', { file, error: (e as Error).message });
      }
    }
    if (!first && !bundleChanged && !reload) return;
    this.stats.installed++;
    this.o.changed(this.certificates(), this.bundle, reload);
  }
}

function newKey(): { key: KeyObject; publicPem: string } {
  const k = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { key: k.privateKey, publicPem: k.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}
