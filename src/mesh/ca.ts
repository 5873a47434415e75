/**
 * The mesh certificate authority: run by the operator, it issues short-lived
 * X.509 leaves (X.509-SVIDs) naming workloads by SPIFFE ID,
 * `spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>`, for mutual TLS
 * between node proxies (issue 15, piece D; not wired into any proxy yet).
 *
 * Its state is one store-only ConfigMap (default kube-system/beeline-mesh-ca):
 * the CA certificate in clear, its ECDSA P-256 private key encrypted with
 * AES-256-GCM under a 32-byte key read from a file (mode 0600), and during a
 * rollover the previous CA certificate with the time its last leaf expires.
 * The first operator creates the object (create-only: a racing operator meets
 * AlreadyExists and loads the winner's); a key that does not decrypt is
 * MeshCaError, never a reason to make a new CA.
 *
 * Certificates are built and signed with @peculiar/x509 over Node's WebCrypto:
 * Node's crypto verifies certificates but cannot build them, and the openssl
 * CLI of Debian 12 (3.0) cannot set a lifetime shorter than a day.
 */
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509';
import { createCipheriv, createDecipheriv, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { open } from 'node:fs/promises';
import { MeshCaError, StoreAlreadyExistsError } from '../common/errors.js';
import { dns1123LabelError, dns1123SubdomainError } from '../k8s/names.js';
import type { Store, StoreObject } from '../store/store.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export const MESH_CA_NAMESPACE = 'kube-system';
export const MESH_CA_NAME = 'beeline-mesh-ca';
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
/** A leaf's lifetime unless the caller asks for another. */
export const DEFAULT_LEAF_TTL_SECONDS = 3600;
/** The longest leaf issued; a rolled-over CA stays in the bundle this long. */
export const DEFAULT_MAX_LEAF_TTL_SECONDS = 24 * 3600;
/** A CA certificate's lifetime. */
export const DEFAULT_CA_TTL_SECONDS = 365 * 24 * 3600;
/** The key file's size: an AES-256 key. */
export const CA_KEY_FILE_BYTES = 32;

const EC: EcKeyImportParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
/** Bound into the GCM tag with the certificate, so neither can be swapped alone. */
const AAD_PREFIX = 'beeline-mesh-ca/v1\n';
const ENC_VERSION = 'v1';

export interface MeshCaOptions {
  store: Store;
  /** Path of the 32-byte key that encrypts the CA key at rest (mode 0600 or stricter). */
  keyFile: string;
  /** Default `cluster.local`. */
  trustDomain?: string;
  namespace?: string;
  name?: string;
  caTtlSeconds?: number;
  maxLeafTtlSeconds?: number;
  /** The clock (tests). */
  now?: () => Date;
}

export interface IssueRequest {
  namespace: string;
  serviceAccount: string;
  /** A PKCS#10 request (PEM); its signature is checked and only its public key is used. */
  csrPem?: string;
  /** Or the public key itself (PEM SPKI or a KeyObject). Exactly one of the two. */
  publicKey?: string | KeyObject;
  /** Default 1 h, at most `maxLeafTtlSeconds`. */
  ttlSeconds?: number;
  /**
   * DNS names to add as SANs after the SPIFFE ID (the node proxies' TLS
   * server name of the identity, meshServerName). Each a DNS name, at most 253 bytes.
   */
  dnsNames?: readonly string[];
}

export interface IssuedLeaf {
  spiffeId: string;
  /** The leaf, PEM. */
  certificatePem: string;
  /** The CA certificates a peer must trust now (current, plus the previous during a rollover), PEM. */
  bundlePem: string;
  notBefore: Date;
  notAfter: Date;
  /** When to ask for the next one: half the lifetime. */
  renewAt: Date;
}

/** `spiffe://<td>/ns/<ns>/sa/<sa>`, its parts checked (MeshCaError naming the bad one). */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  checkTrustDomain(trustDomain);
  const nsErr = dns1123LabelError(namespace);
  if (nsErr) throw new MeshCaError(`mesh ca: namespace ${JSON.stringify(namespace)}: ${nsErr}`);
  const saErr = dns1123SubdomainError(serviceAccount);
  if (saErr) throw new MeshCaError(`mesh ca: service account ${JSON.stringify(serviceAccount)}: ${saErr}`);
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/**
 * The TLS server name a node proxy presents for a service account:
 * `<sa>.<ns>.sa.beeline.mesh` (the namespace is the label just before
 * `sa.beeline.mesh`, so the name is unambiguous although the service account
 * may hold dots). A client proxy sends it as SNI and verifies it.
 */
export function meshServerName(namespace: string, serviceAccount: string): string {
  spiffeId(DEFAULT_TRUST_DOMAIN, namespace, serviceAccount); // checks both names
  const name = `${serviceAccount}.${namespace}.${MESH_SERVER_NAME_SUFFIX}`;
  if (name.length > 253) throw new MeshCaError(`mesh ca: server name of ${namespace}/${serviceAccount} is longer than 253 bytes`);
  return name;
}

/** The DNS suffix of meshServerName. */
export const MESH_SERVER_NAME_SUFFIX = 'sa.beeline.mesh';

function checkTrustDomain(td: string): void {
  // SPIFFE: lower-case letters, digits, '.', '-', '_'; at most 255 bytes.
  if (!/^[a-z0-9._-]{1,255}$/.test(td)) {
    throw new MeshCaError(`mesh ca: trust domain ${JSON.stringify(td)}: must be 1-255 of lower-case letters, digits, '.', '-', '_'`);
  }
}

/**
 * Reads the at-rest key: exactly 32 bytes, not readable or writable by group
 * or others. Read through one descriptor so the mode checked is the file read.
 */
export async function readCaKeyFile(path: string): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new MeshCaError(`mesh ca: read key file ${path}: ${(e as Error).message}`, { hint: 'make one with `head -c 32 /dev/urandom > FILE && chmod 600 FILE`', cause: e });
  }
  try {
    const st = await fh.stat();
    if ((st.mode & 0o077) !== 0) {
      throw new MeshCaError(`mesh ca: key file ${path}: mode ${(st.mode & 0o777).toString(8).padStart(4, '0')} lets group or others read it`, { hint: `chmod 600 ${path}` });
    }
    const key = await fh.readFile();
    if (key.length !== CA_KEY_FILE_BYTES) {
      throw new MeshCaError(`mesh ca: key file ${path}: ${key.length} bytes, must be exactly ${CA_KEY_FILE_BYTES}`, { hint: 'make one with `head -c 32 /dev/urandom > FILE && chmod 600 FILE`' });
    }
    return key;
  } finally {
    await fh.close();
  }
}

/** iv(12) | tag(16) | ciphertext, base64, prefixed with the format version. */
function seal(key: Buffer, plain: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return `${ENC_VERSION}:${Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64')}`;
}

function unseal(key: Buffer, sealed: string, aad: string, where: string): Buffer {
  const [ver, b64] = sealed.split(':', 2);
  const raw = Buffer.from(b64 ?? '', 'base64');
  if (ver !== ENC_VERSION || raw.length < 29) throw new MeshCaError(`mesh ca: ${where}: encrypted key is malformed`);
  try {
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]);
  } catch (e) {
    throw new MeshCaError(`mesh ca: ${where}: the CA key does not decrypt (wrong key file, or the stored key or certificate was altered)`, {
      hint: 'use the key file the CA was created with; no new CA is made over the stored one',
      cause: e,
    });
  }
}

/** What the ConfigMap's `data` holds. */
interface CaData {
  'ca.crt': string;
  'ca.key.enc': string;
  /** The CA before the last rollover, kept in the bundle until `previous.until`. */
  'previous.crt'?: string;
  'previous.until'?: string;
}

/** A positive 128-bit serial (hex). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

/** Whole seconds: X.509 times have no fraction, so what we return is what the certificate says. */
function floorSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

async function newCaCertificate(now: Date, ttlSeconds: number, trustDomain: string): Promise<{ cert: x509.X509Certificate; privateKey: CryptoKey }> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = floorSeconds(now);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `O=beeline, CN=beeline mesh CA ${trustDomain} ${notBefore.toISOString()}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + ttlSeconds * 1000),
    signingAlgorithm: EC,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, privateKey: keys.privateKey };
}

/** The P-256 public key of a CSR (signature checked) or of the key given. */
async function leafPublicKey(req: IssueRequest): Promise<CryptoKey> {
  if ((req.csrPem === undefined) === (req.publicKey === undefined)) throw new MeshCaError('mesh ca: issue: give exactly one of csrPem and publicKey');
  let key: KeyObject;
  try {
    if (req.csrPem !== undefined) {
      const csr = new x509.Pkcs10CertificateRequest(req.csrPem);
      if (!(await csr.verify())) throw new MeshCaError('mesh ca: issue: the CSR signature does not verify');
      key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
    } else key = typeof req.publicKey === 'string' ? createPublicKey(req.publicKey) : req.publicKey!;
  } catch (e) {
    if (e instanceof MeshCaError) throw e;
    throw new MeshCaError(`mesh ca: issue: cannot read the ${req.csrPem !== undefined ? 'CSR' : 'public key'}: ${(e as Error).message}`, { cause: e });
  }
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new MeshCaError(`mesh ca: issue: the key must be an ECDSA P-256 public key, not ${key.type} ${key.asymmetricKeyType ?? '?'} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trimEnd());
  }
  return webcrypto.subtle.importKey('spki', key.export({ type: 'spki', format: 'der' }), EC, true, ['verify']);
}

/** The mesh CA; get one with `MeshCa.open`. */
export class MeshCa {
  private constructor(
    private readonly opts: Required<Omit<MeshCaOptions, 'store' | 'keyFile'>> & { store: Store },
    private readonly atRestKey: Buffer,
    private cert: x509.X509Certificate,
    private privateKey: CryptoKey,
    private previous: { cert: x509.X509Certificate; until: Date } | undefined,
  ) {}

  /**
   * Loads the CA from the store, creating it on first start. A racing
   * operator's CA wins over ours when it was created first.
   */
  static async open(options: MeshCaOptions): Promise<MeshCa> {
    const opts = {
      store: options.store,
      trustDomain: options.trustDomain ?? DEFAULT_TRUST_DOMAIN,
      namespace: options.namespace ?? MESH_CA_NAMESPACE,
      name: options.name ?? MESH_CA_NAME,
      caTtlSeconds: options.caTtlSeconds ?? DEFAULT_CA_TTL_SECONDS,
      maxLeafTtlSeconds: options.maxLeafTtlSeconds ?? DEFAULT_MAX_LEAF_TTL_SECONDS,
      now: options.now ?? (() => new Date()),
    };
    checkTrustDomain(opts.trustDomain);
    const key = await readCaKeyFile(options.keyFile);
    const existing = await opts.store.get('ConfigMap', opts.namespace, opts.name);
    if (existing) return MeshCa.load(opts, key, existing);
    const { cert, privateKey } = await newCaCertificate(opts.now(), opts.caTtlSeconds, opts.trustDomain);
    const data = await caData(key, cert, privateKey, undefined);
    try {
      await opts.store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: opts.namespace, name: opts.name, labels: { 'app.kubernetes.io/part-of': 'beeline' } }, data: { ...data } });
    } catch (e) {
      if (!(e instanceof StoreAlreadyExistsError)) throw e;
      const winner = await opts.store.get('ConfigMap', opts.namespace, opts.name);
      if (!winner) throw e;
      return MeshCa.load(opts, key, winner);
    }
    return new MeshCa(opts, key, cert, privateKey, undefined);
  }

  private static async load(opts: MeshCa['opts'], key: Buffer, obj: StoreObject): Promise<MeshCa> {
    const where = `${opts.namespace}/${opts.name}`;
    const data = (obj as { data?: Partial<CaData> }).data ?? {};
    const crt = data['ca.crt'];
    const enc = data['ca.key.enc'];
    if (typeof crt !== 'string' || typeof enc !== 'string') throw new MeshCaError(`mesh ca: ${where}: ConfigMap lacks ca.crt or ca.key.enc`, { hint: 'it is not a beeline mesh CA; no new CA is made over it' });
    const pkcs8 = unseal(key, enc, AAD_PREFIX + crt, where);
    let cert: x509.X509Certificate;
    let privateKey: CryptoKey;
    try {
      cert = new x509.X509Certificate(crt);
      privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, EC, true, ['sign']);
    } catch (e) {
      throw new MeshCaError(`mesh ca: ${where}: stored CA does not parse: ${(e as Error).message}`, { cause: e });
    }
    const prev = data['previous.crt'] && data['previous.until'] ? { cert: new x509.X509Certificate(data['previous.crt']), until: new Date(data['previous.until']) } : undefined;
    return new MeshCa(opts, key, cert, privateKey, prev);
  }

  get trustDomain(): string {
    return this.opts.trustDomain;
  }

  /** The current CA certificate, PEM. */
  get certificatePem(): string {
    return this.cert.toString('pem') + '\n';
  }

  /** The CAs to trust: the current one, plus the previous one until its last leaf expires. */
  get bundlePem(): string {
    const now = this.opts.now();
    const certs = [this.cert];
    if (this.previous && now < this.previous.until) certs.push(this.previous.cert);
    return certs.map((c) => c.toString('pem') + '\n').join('');
  }

  /** Issues a leaf for the workload's SPIFFE ID, for TLS server and client auth. */
  async issue(req: IssueRequest): Promise<IssuedLeaf> {
    const id = spiffeId(this.opts.trustDomain, req.namespace, req.serviceAccount);
    const ttl = req.ttlSeconds ?? DEFAULT_LEAF_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > this.opts.maxLeafTtlSeconds) {
      throw new MeshCaError(`mesh ca: issue ${id}: lifetime ${ttl} s: must be a whole number of seconds from 1 to ${this.opts.maxLeafTtlSeconds}`);
    }
    for (const n of req.dnsNames ?? []) {
      if (n.length > 253 || !/^(?:\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(n)) {
        throw new MeshCaError(`mesh ca: issue ${id}: DNS name ${JSON.stringify(n)} is not a lower-case DNS name`);
      }
    }
    const publicKey = await leafPublicKey(req);
    const notBefore = floorSeconds(this.opts.now());
    const notAfter = new Date(notBefore.getTime() + ttl * 1000);
    if (notAfter > this.cert.notAfter) throw new MeshCaError(`mesh ca: issue ${id}: the leaf would outlive the CA (${this.cert.notAfter.toISOString()})`, { hint: 'roll the CA over' });
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: '', // X.509-SVID: the identity is the URI SAN alone
      issuer: this.cert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: EC,
      publicKey,
      signingKey: this.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        // critical: the subject is empty (RFC 5280 4.2.1.6)
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: id }, ...(req.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value }))], true),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
      ],
    });
    return {
      spiffeId: id,
      certificatePem: leaf.toString('pem') + '\n',
      bundlePem: this.bundlePem,
      notBefore,
      notAfter,
      renewAt: new Date(notBefore.getTime() + (ttl * 1000) / 2),
    };
  }

  /**
   * Rolls the CA over: a new key and certificate sign from now on; the old
   * certificate stays in the bundle until the last leaf it may have signed
   * expires (now + the longest leaf lifetime). The write is conditional on
   * the version read, so two operators rolling at once do not both win; the
   * loser gets StoreConflictError (or MeshCaError when it read the winner's
   * CA) and should `open` again. Refused while the previous rollover's CA is
   * still in the bundle.
   */
  async rollover(): Promise<void> {
    const { store, namespace, name, now } = this.opts;
    const obj = await store.get('ConfigMap', namespace, name);
    if (!obj) throw new MeshCaError(`mesh ca: rollover: ${namespace}/${name} is gone`);
    if ((obj as { data?: Partial<CaData> }).data?.['ca.crt'] !== this.certificatePem) {
      throw new MeshCaError(`mesh ca: rollover: ${namespace}/${name} holds another CA than this one loaded (rolled over elsewhere?)`, { hint: 'open the CA again' });
    }
    if (this.previous && now() < this.previous.until) {
      // A second rollover now would drop the previous CA while its leaves are still valid.
      throw new MeshCaError(`mesh ca: rollover: the last rollover is still in progress until ${this.previous.until.toISOString()}`);
    }
    const { cert, privateKey } = await newCaCertificate(now(), this.opts.caTtlSeconds, this.opts.trustDomain);
    const previous = { cert: this.cert, until: new Date(now().getTime() + this.opts.maxLeafTtlSeconds * 1000) };
    const data = await caData(this.atRestKey, cert, privateKey, previous);
    await store.update({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...obj.metadata }, data: { ...data } });
    this.cert = cert;
    this.privateKey = privateKey;
    this.previous = previous;
  }
}

async function caData(key: Buffer, cert: x509.X509Certificate, privateKey: CryptoKey, previous: { cert: x509.X509Certificate; until: Date } | undefined): Promise<CaData> {
  const crt = cert.toString('pem') + '\n';
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', privateKey));
  const data: CaData = { 'ca.crt': crt, 'ca.key.enc': seal(key, pkcs8, AAD_PREFIX + crt) };
  if (previous) {
    data['previous.crt'] = previous.cert.toString('pem') + '\n';
    data['previous.until'] = previous.until.toISOString();
  }
  return data;
}
