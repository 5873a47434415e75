/**
 * The node proxy's mutual-TLS transport between nodes (issue 15, piece E2):
 * a pure renderer of the HAProxy configuration section (NodeProxy.setSection
 * 'mtls') and its files. No I/O.
 *
 * Client side, `bl_mtls_out` (mode tcp, `bind 0.0.0.0:<outPort> transparent`):
 * the datapath hands it the pod connections whose destination requires
 * authentication, addresses kept. The client pod's address picks its
 * ServiceAccount (map src → `s<i>`), the destination pod's address the node
 * that hosts it (map dst → `n<j>`) and the name that pod's proxy must present
 * (map dst → meshServerName of its ServiceAccount); the backend
 * `bl_mtls_s<i>_n<j>` has one server, that node's IP on inPort, with TLS 1.3
 * only, the client ServiceAccount's certificate, `verify required` against
 * the mesh CA bundle, that SNI (HAProxy then checks the server certificate's
 * name against it) and `send-proxy-v2` (the PROXY header, sent before the
 * TLS handshake and so readable on the wire, carries the client pod's address
 * and the original destination; the HTTP never is). A connection whose
 * source or destination no map knows is reset.
 *
 * Server side, `bl_mtls_in` (mode http, `bind <nodeIp>:<inPort> ssl crt-list
 * … verify required … ssl-min-ver TLSv1.3 accept-proxy`): the certificate
 * the client asked for by SNI (one crt-list line per local ServiceAccount);
 * the client's SPIFFE ID is read from its certificate's URI SAN by a Lua
 * fetch over `ssl_c_der` (HAProxy 2.6 has no SAN fetch); a request for a
 * destination that is not a local pod of the ServiceAccount the SNI named is
 * refused (421); the rest goes to the PROXY header's destination from the
 * client pod's address (`usesrc clientip`). Each request is logged as an
 * HttpAccessRecord (direction ingress) with `mtlsPeer`, the SPIFFE ID; a
 * connection refused at the handshake is logged too (HAProxy 2.6 logs an
 * embryonic session with the frontend's log-format) with `tlsError`, the
 * reason (`fc_err_str`: "SSL client CA chain cannot be verified", …).
 */
import { HttpRuleError } from '../../common/errors.js';
import { meshServerName } from '../../mesh/ca.js';
import { HAPROXY_RECORDS_RING, RECORD_MAX_BYTES, logFormat } from './haproxy.js';

/** The section's name in NodeProxy. */
export const MTLS_SECTION = 'mtls';

/** Files of the section, under `<stateDir>/mtls/`. */
export const MTLS_FILES = {
  dir: 'mtls',
  bundle: 'mtls/bundle.pem',
  lua: 'mtls/spiffe.lua',
  crtList: 'mtls/in.crtlist',
  srcSa: 'mtls/src-sa.map',
  dstNode: 'mtls/dst-node.map',
  dstName: 'mtls/dst-name.map',
  localName: 'mtls/local-name.map',
} as const;

/** A pod by address and ServiceAccount. */
export interface MtlsWorkload {
  ip: string;
  namespace: string;
  serviceAccount: string;
}

/** A destination requiring authentication: a pod, its ServiceAccount and its node's IP (this node's own for a local pod). */
export interface MtlsTarget extends MtlsWorkload {
  nodeIp: string;
}

/** A ServiceAccount certificate on this node: the PEM file (leaf then private key) the certificate manager keeps. */
export interface MtlsCertificate {
  namespace: string;
  serviceAccount: string;
  file: string;
}

export interface MtlsSectionInput {
  /** The proxy's state directory (absolute); the section's files go under `mtls/`. */
  stateDir: string;
  /** This node's IP: the server side binds it. */
  nodeIp: string;
  outPort: number;
  inPort: number;
  /** The CA certificates to trust (MeshCa bundlePem). */
  bundlePem: string;
  /** This node's ServiceAccount certificates. A pod whose ServiceAccount has none is neither client nor server. */
  certificates: readonly MtlsCertificate[];
  /** This node's pods. */
  local: readonly MtlsWorkload[];
  /** The pods (any node) whose ingress requires authentication. */
  targets: readonly MtlsTarget[];
  /** The identities map of the main configuration (records' srcIdentity/dstIdentity). */
  identitiesFile: string;
  /** false (tests): the client listener binds 127.0.0.1 without `transparent`, the server side forwards without `usesrc`. Default true. */
  transparent?: boolean;
}

export interface MtlsSection {
  config: string;
  files: { path: string; content: string }[];
}

/** The SPIFFE ID of the client certificate (its URI SAN `spiffe://…`), a Lua sample fetch `lua.spiffe_id` over `ssl_c_der`. */
export const SPIFFE_LUA = `-- Written by beeline (src/l7/http/mtls.ts): the SPIFFE ID of the peer's
-- certificate, its URI SAN that starts with spiffe:// (HAProxy 2.6 has no SAN fetch).
local function tlv(s, i)
  local tag = s:byte(i); local l = s:byte(i+1); local h = 2
  if l >= 0x80 then local n = l - 0x80; l = 0; for k = 1, n do l = l * 256 + s:byte(i+1+k) end; h = 2 + n end
  return tag, i + h, l
end
local function san_uri(der)
  local oid = "\\x06\\x03\\x55\\x1d\\x11"
  local p = der:find(oid, 1, true); if not p then return nil end
  local i = p + #oid
  local tag, vs, len = tlv(der, i)
  if tag == 0x01 then i = vs + len; tag, vs, len = tlv(der, i) end -- critical flag
  if tag ~= 0x04 then return nil end
  local t2, seq, slen = tlv(der, vs)
  if t2 ~= 0x30 then return nil end
  local j, e = seq, seq + slen
  while j < e do
    local gt, gv, gl = tlv(der, j)
    if gt == 0x86 then local u = der:sub(gv, gv + gl - 1); if u:sub(1, 9) == "spiffe://" then return u end end
    j = gv + gl
  end
  return nil
end
core.register_fetches("spiffe_id", function(txn)
  local der = txn.f:ssl_c_der()
  if not der or der == "" then return nil end
  return san_uri(der)
end)
`;

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function checkIp(what: string, ip: string): void {
  if (!IPV4.test(ip)) throw new HttpRuleError(`mtls config: ${what}: ${JSON.stringify(ip)} is not an IPv4 address`);
}

function checkPort(what: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new HttpRuleError(`mtls config: ${what} ${port} out of range`);
}

function checkPath(what: string, p: string): void {
  if (!p.startsWith('/') || /[\s"'\\$#]/.test(p)) throw new HttpRuleError(`mtls config: ${what} ${JSON.stringify(p)}: must be an absolute path without spaces, quotes, backslashes, $ or #`);
}

const saKey = (w: { namespace: string; serviceAccount: string }) => `${w.namespace}/${w.serviceAccount}`;

/**
 * The section: undefined when there is nothing to serve (no certificate on
 * this node). Throws HttpRuleError for an input it cannot render (bad
 * address, port or path; one address with two ServiceAccounts).
 */
export function renderMtlsSection(input: MtlsSectionInput): MtlsSection | undefined {
  const transparent = input.transparent ?? true;
  const dir = input.stateDir.replace(/\/+$/, '');
  checkPath('stateDir', dir);
  checkPath('identitiesFile', input.identitiesFile);
  checkIp('nodeIp', input.nodeIp);
  checkPort('outPort', input.outPort);
  checkPort('inPort', input.inPort);
  if (input.outPort === input.inPort) throw new HttpRuleError(`mtls config: outPort and inPort are both ${input.outPort}`);
  if (!/-----BEGIN CERTIFICATE-----/.test(input.bundlePem)) throw new HttpRuleError('mtls config: the CA bundle holds no certificate');
  const path = (f: string) => `${dir}/${f}`;

  // ServiceAccounts with a certificate, in a stable order: s0, s1, … by namespace/name.
  const certs = new Map<string, MtlsCertificate>();
  for (const c of input.certificates) {
    checkPath(`certificate of ${saKey(c)}`, c.file);
    meshServerName(c.namespace, c.serviceAccount); // checks the names
    if (certs.has(saKey(c))) throw new HttpRuleError(`mtls config: two certificates for ${saKey(c)}`);
    certs.set(saKey(c), c);
  }
  if (certs.size === 0) return undefined;
  const sas = [...certs.keys()].sort();
  const saIndex = new Map(sas.map((k, i) => [k, i]));

  const uniqueByIp = <T extends MtlsWorkload>(what: string, list: readonly T[]): T[] => {
    const seen = new Map<string, T>();
    for (const w of list) {
      checkIp(`${what} ${saKey(w)}`, w.ip);
      const prev = seen.get(w.ip);
      if (prev && saKey(prev) !== saKey(w)) throw new HttpRuleError(`mtls config: ${what} ${w.ip} is both ${saKey(prev)} and ${saKey(w)}`);
      seen.set(w.ip, w);
    }
    return [...seen.values()].sort((a, b) => a.ip.localeCompare(b.ip));
  };
  const local = uniqueByIp('local pod', input.local);
  const targets = uniqueByIp('target', input.targets);
  for (const t of targets) checkIp(`node of target ${t.ip}`, t.nodeIp);
  const nodes = [...new Set(targets.map((t) => t.nodeIp))].sort();
  const nodeIndex = new Map(nodes.map((n, i) => [n, i]));

  const files = [
    { path: path(MTLS_FILES.bundle), content: input.bundlePem.endsWith('\n') ? input.bundlePem : `${input.bundlePem}\n` },
    { path: path(MTLS_FILES.lua), content: SPIFFE_LUA },
    // The server certificate by SNI: the name each carries (meshServerName) is its filter.
    { path: path(MTLS_FILES.crtList), content: sas.map((k) => `${certs.get(k)!.file} ${meshServerName(...(k.split('/') as [string, string]))}\n`).join('') },
    { path: path(MTLS_FILES.srcSa), content: local.filter((w) => saIndex.has(saKey(w))).map((w) => `${w.ip} s${saIndex.get(saKey(w))}\n`).join('') },
    { path: path(MTLS_FILES.dstNode), content: targets.map((t) => `${t.ip} n${nodeIndex.get(t.nodeIp)}\n`).join('') },
    { path: path(MTLS_FILES.dstName), content: targets.map((t) => `${t.ip} ${meshServerName(t.namespace, t.serviceAccount)}\n`).join('') },
    { path: path(MTLS_FILES.localName), content: local.filter((w) => saIndex.has(saKey(w))).map((w) => `${w.ip} ${meshServerName(w.namespace, w.serviceAccount)}\n`).join('') },
  ];
  const bundle = path(MTLS_FILES.bundle);
  const tlsClient = `ssl verify required ca-file ${bundle} ssl-min-ver TLSv1.3`;

  const out: string[] = [];
  out.push(`# mTLS between node proxies (src/l7/http/mtls.ts).
global
  lua-load ${path(MTLS_FILES.lua)}
`);

  // ---- client side ----
  const outBind = transparent ? `bind 0.0.0.0:${input.outPort} transparent` : `bind 127.0.0.1:${input.outPort}`;
  out.push(`frontend bl_mtls_out
  mode tcp
  ${outBind}
  tcp-request content set-var(sess.mtls_sa) src,map_ip(${path(MTLS_FILES.srcSa)})
  tcp-request content set-var(sess.mtls_node) dst,map_ip(${path(MTLS_FILES.dstNode)})
  tcp-request content set-var(sess.mtls_name) dst,map_ip(${path(MTLS_FILES.dstName)})
  # A client without a certificate, or a destination no node is known for: reset.
  tcp-request content reject unless { var(sess.mtls_sa) -m found } { var(sess.mtls_node) -m found } { var(sess.mtls_name) -m found }
  use_backend bl_mtls_%[var(sess.mtls_sa)]_%[var(sess.mtls_node)]
`);
  for (const [si, k] of sas.entries()) {
    for (const [ni, nodeIp] of nodes.entries()) {
      out.push(`backend bl_mtls_s${si}_n${ni}
  # ${k} to ${nodeIp}
  mode tcp
  server n${ni} ${nodeIp}:${input.inPort} ${tlsClient} crt ${certs.get(k)!.file} sni var(sess.mtls_name) send-proxy-v2
`);
    }
  }

  // ---- server side ----
  const js = (fetch: string) => `%{+Q}[${fetch},json(utf8s)]`;
  // An address the identities map lacks (it is empty while no HTTP policy needs it) is 0: the agent's caches decide.
  const format = logFormat('ingress', input.identitiesFile, [], [
    ['mtlsPeer', js('var(sess.mtls_peer)')],
    ['tlsError', js('fc_err_str')],
  ], 0);
  out.push(`frontend bl_mtls_in
  mode http
  bind ${input.nodeIp}:${input.inPort} ssl crt-list ${path(MTLS_FILES.crtList)} verify required ca-file ${bundle} ssl-min-ver TLSv1.3 accept-proxy
  log ring@${HAPROXY_RECORDS_RING} len ${RECORD_MAX_BYTES} format raw local0
  log-format ${format}
  http-request set-var(txn.t0) date(0,us)
  http-request set-var(txn.url) pathq
  http-request set-var(txn.host) req.fhdr(host)
  http-request set-var(sess.mtls_peer) lua.spiffe_id unless { var(sess.mtls_peer) -m found }
  # The destination must be a local pod of the ServiceAccount the client asked for by name.
  http-request set-var(txn.mtls_want) dst,map_ip(${path(MTLS_FILES.localName)})
  http-request set-var(txn.denied) bool(true) if !{ var(txn.mtls_want) -m found }
  http-request set-var(txn.denied) bool(true) if !{ ssl_fc_sni,strcmp(txn.mtls_want) eq 0 }
  http-request return status 421 content-type text/plain string "Misdirected request: not a pod of that service account\\r\\n" if { var(txn.denied) -m bool }
  use_backend bl_mtls_pod_h2 if { req.ver 2.0 }
  default_backend bl_mtls_pod
`);
  for (const [name, proto] of [['bl_mtls_pod', ''], ['bl_mtls_pod_h2', ' proto h2']] as const) {
    out.push(`backend ${name}
  mode http
  # The PROXY header's destination (the pod and port the client connected to), from the client pod's address.
  server pod 0.0.0.0${proto}${transparent ? '\n  source 0.0.0.0 usesrc clientip' : ''}
`);
  }
  return { config: out.join('\n'), files };
}
