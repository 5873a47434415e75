/**
 * DNS messages on the wire (RFC 1035 §4, RFC 3596 for AAAA), what a DNS proxy
 * needs of them: the header, the questions, and the records of the three
 * other sections with A, AAAA and CNAME parsed and every other type kept as
 * its bytes; building the answer that refuses a query; and DNS over TCP
 * framing (RFC 1035 §4.2.2, RFC 7766) as a stream decoder.
 *
 * Strict, because a policy decides on what this returns: any message that is
 * not well formed is refused whole with a DnsWireError (its `reason` says
 * which check failed), never guessed at, and decoding never throws anything
 * else and never loops (every compression pointer must point before the
 * labels that contain it, and a name may follow at most 126 of them, as
 * miekg/dns allows). Limits: a label at most 63 octets, a name at most 255
 * octets on the wire (RFC 1035 §2.3.4), labels of type 01/10 refused.
 *
 * Names are returned in presentation form as Cilium's DNS proxy (miekg/dns)
 * sees them, fully qualified, case as sent: `api.example.test.`, the root
 * `.`. A label byte that is a `.`, a space, `\`, `"`, `'`, `(`, `)`, `;` or
 * `@` is escaped as `\.`, and a byte outside printable ASCII as `\DDD`
 * (decimal): a label holding a dot can never read as two labels, so a name
 * the upstream resolver looks up is the name the policy matched.
 *
 * Why not dns-packet (npm): it reads labels as UTF-8 without escaping
 * (a label `a.b` under `test` decodes as `a.b.test`, the same string as three
 * labels, and bytes that are not UTF-8 become U+FFFD) and accepts a record
 * whose length runs past the message; it throws plain `Error`s. The tests
 * use it as an independent encoder and decoder to check this one against.
 */
import { DnsWireError, type DnsWireReason } from '../../common/errors.js';
import { parseCIDR } from '../../k8s/names.js';
import { formatIpv4, formatIpv6 } from '../../observer/packet.js';

/** Record and query types this module names (IANA DNS parameters). */
export const DNS_TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
/** The Internet class. */
export const DNS_CLASS_IN = 1;
/** Response codes (RFC 1035 §4.1.1, RFC 6895). */
export const DNS_RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** The standard query opcode. */
export const DNS_OPCODE_QUERY = 0;
/** The fixed header's length. */
export const DNS_HEADER_LENGTH = 12;
/** The longest name on the wire, length octets and root included (RFC 1035 §2.3.4). */
export const DNS_MAX_NAME_WIRE_LENGTH = 255;
/** The longest label (RFC 1035 §2.3.4). */
export const DNS_MAX_LABEL_LENGTH = 63;
/** How many compression pointers one name may follow (miekg/dns maxCompressionPointers). */
export const DNS_MAX_POINTERS = 126;

/** The header's fields (RFC 1035 §4.1.1; AD and CD from RFC 4035). Counts are those of the message's arrays. */
export interface DnsHeader {
  id: number;
  /** QR: true in a response. */
  qr: boolean;
  opcode: number;
  /** AA: authoritative answer. */
  aa: boolean;
  /** TC: truncated (a UDP answer too long; the client retries over TCP). */
  tc: boolean;
  /** RD: recursion desired (set by the client, copied into the answer). */
  rd: boolean;
  /** RA: recursion available (set by a recursive resolver). */
  ra: boolean;
  /** The reserved Z bit. */
  z: boolean;
  /** AD: authentic data. */
  ad: boolean;
  /** CD: checking disabled. */
  cd: boolean;
  /** The 4-bit RCODE of the header (an OPT record may extend it; that stays in the OPT record). */
  rcode: number;
}

/** One question. */
export interface DnsQuestion {
  /** Presentation form, fully qualified, case as sent. */
  name: string;
  type: number;
  class: number;
}

/** A record's data: A, AAAA (class IN) and CNAME parsed, any other type as its bytes. */
export type DnsRecordData =
  | { kind: 'A'; address: string }
  | { kind: 'AAAA'; address: string }
  | { kind: 'CNAME'; target: string }
  /**
   * The RDATA bytes as on the wire. Names inside them (NS, MX, SOA, …) may
   * hold compression pointers into the message they came from, so such bytes
   * are only meaningful there: the proxy forwards answers as received and
   * never re-encodes them.
   */
  | { kind: 'opaque'; rdata: Uint8Array };

/** One resource record. */
export interface DnsRecord {
  /** Owner name, presentation form. */
  name: string;
  type: number;
  /** The class; for OPT (type 41) the requestor's UDP payload size. */
  class: number;
  /**
   * The TTL in seconds as sent (uint32). RFC 2181 §8: a value with the top
   * bit set is to be read as 0; whoever caches applies that. For OPT the
   * extended RCODE and flags.
   */
  ttl: number;
  data: DnsRecordData;
}

/** A whole message. */
export interface DnsMessage {
  header: DnsHeader;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

const fail = (reason: DnsWireReason, message: string, offset: number): never => {
  throw new DnsWireError(reason, `decode DNS message: ${message} at byte ${offset}`, offset);
};

// ---- decode ----

/**
 * Decodes one DNS message. Throws DnsWireError (and nothing else) when it is
 * malformed. Bytes after the last record are ignored, as resolvers do.
 */
export function decodeDnsMessage(buf: Uint8Array): DnsMessage {
  if (buf.length < DNS_HEADER_LENGTH) fail('short-header', `${buf.length} bytes, shorter than the 12-byte header`, 0);
  const u16 = (o: number) => (buf[o]! << 8) | buf[o + 1]!;
  const flags = u16(2);
  const header: DnsHeader = {
    id: u16(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    z: (flags & 0x0040) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: flags & 0xf,
  };
  const [qd, an, ns, ar] = [u16(4), u16(6), u16(8), u16(10)];
  let off = DNS_HEADER_LENGTH;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) {
    const n = decodeName(buf, off);
    off = n.end;
    if (off + 4 > buf.length) fail('truncated', `question ${i} ends after its name`, off);
    questions.push({ name: n.name, type: u16(off), class: u16(off + 2) });
    off += 4;
  }
  const section = (count: number, what: string): DnsRecord[] => {
    const out: DnsRecord[] = [];
    for (let i = 0; i < count; i++) {
      const r = decodeRecord(buf, off, `${what} record ${i}`);
      out.push(r.record);
      off = r.end;
    }
    return out;
  };
  const answers = section(an, 'answer');
  const authorities = section(ns, 'authority');
  const additionals = section(ar, 'additional');
  return { header, questions, answers, authorities, additionals };
}

function decodeRecord(buf: Uint8Array, start: number, what: string): { record: DnsRecord; end: number } {
  const n = decodeName(buf, start);
  let off = n.end;
  if (off + 10 > buf.length) fail('truncated', `${what} ends inside its fixed fields`, off);
  const type = (buf[off]! << 8) | buf[off + 1]!;
  const cls = (buf[off + 2]! << 8) | buf[off + 3]!;
  const ttl = ((buf[off + 4]! << 24) | (buf[off + 5]! << 16) | (buf[off + 6]! << 8) | buf[off + 7]!) >>> 0;
  const rdlength = (buf[off + 8]! << 8) | buf[off + 9]!;
  off += 10;
  const end = off + rdlength;
  if (end > buf.length) fail('truncated', `${what}: RDATA of ${rdlength} bytes runs past the message's end`, off);
  let data: DnsRecordData;
  if (type === DNS_TYPE.A && cls === DNS_CLASS_IN) {
    if (rdlength !== 4) fail('bad-rdata', `${what}: A RDATA is ${rdlength} bytes, not 4`, off);
    data = { kind: 'A', address: formatIpv4(buf, off) };
  } else if (type === DNS_TYPE.AAAA && cls === DNS_CLASS_IN) {
    if (rdlength !== 16) fail('bad-rdata', `${what}: AAAA RDATA is ${rdlength} bytes, not 16`, off);
    data = { kind: 'AAAA', address: formatIpv6(buf, off) };
  } else if (type === DNS_TYPE.CNAME) {
    // The name must end exactly where RDATA does; pointers may reach back before it.
    const t = decodeName(buf.subarray(0, end), off);
    if (t.end !== end) fail('bad-rdata', `${what}: CNAME RDATA is ${rdlength} bytes, its name ${t.end - off}`, off);
    data = { kind: 'CNAME', target: t.name };
  } else {
    data = { kind: 'opaque', rdata: buf.slice(off, end) };
  }
  return { record: { name: n.name, type, class: cls, ttl, data }, end };
}

/** A byte that stands for itself in presentation form (miekg/dns escapes the others). */
function plainByte(b: number): boolean {
  return b > 0x20 && b < 0x7f && b !== 0x2e && b !== 0x5c && b !== 0x22 && b !== 0x27 && b !== 0x28 && b !== 0x29 && b !== 0x3b && b !== 0x40;
}

/**
 * Decodes the name at `start`; `end` is where the bytes of the name proper
 * end (after its first pointer, if it has one). Throws DnsWireError.
 */
export function decodeName(buf: Uint8Array, start: number): { name: string; end: number } {
  let off = start;
  /** Where the labels being read began: a pointer must point before it (strictly backwards, so no loop). */
  let segment = start;
  let end = -1;
  let wire = 1; // the root octet
  let pointers = 0;
  let name = '';
  for (;;) {
    if (off >= buf.length) fail('truncated', 'name runs past the end of the message', off);
    const len = buf[off]!;
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (off + 1 >= buf.length) fail('truncated', 'compression pointer cut short', off);
      const target = ((len & 0x3f) << 8) | buf[off + 1]!;
      if (target >= segment) fail('bad-pointer', `compression pointer to ${target} does not point before its name (at ${segment})`, off);
      if (++pointers > DNS_MAX_POINTERS) fail('too-many-pointers', `name follows more than ${DNS_MAX_POINTERS} compression pointers`, off);
      if (end < 0) end = off + 2;
      off = target;
      segment = target;
      continue;
    }
    if (kind !== 0) fail('bad-label-type', `label type 0x${kind.toString(16)} is not in use`, off);
    if (len === 0) {
      if (end < 0) end = off + 1;
      return { name: name === '' ? '.' : name, end };
    }
    // len ≤ 63 here: the top two bits are clear.
    wire += len + 1;
    if (wire > DNS_MAX_NAME_WIRE_LENGTH) fail('name-too-long', `name longer than ${DNS_MAX_NAME_WIRE_LENGTH} octets`, off);
    if (off + 1 + len > buf.length) fail('truncated', `label of ${len} bytes runs past the end of the message`, off);
    for (let i = off + 1; i <= off + len; i++) {
      const b = buf[i]!;
      if (plainByte(b)) name += String.fromCharCode(b);
      else if (b > 0x20 && b < 0x7f) name += `\\${String.fromCharCode(b)}`;
      else name += `\\${b.toString().padStart(3, '0')}`;
    }
    name += '.';
    off += 1 + len;
  }
}

// ---- encode ----

/**
 * The wire form of a presentation-form name (`\X` and `\DDD` escapes, the
 * trailing dot optional, `.` the root), uncompressed. Throws DnsWireError
 * ('bad-name', 'label-too-long', 'name-too-long').
 */
export function encodeName(name: string): Uint8Array {
  const bad = (reason: DnsWireReason, msg: string): never => {
    throw new DnsWireError(reason, `encode DNS name ${JSON.stringify(name)}: ${msg}`, 0);
  };
  const out: number[] = [];
  if (name === '.' || name === '') return Uint8Array.of(0);
  let label: number[] = [];
  const endLabel = () => {
    if (label.length === 0) bad('bad-name', 'empty label');
    if (label.length > DNS_MAX_LABEL_LENGTH) bad('label-too-long', `label of ${label.length} octets (at most ${DNS_MAX_LABEL_LENGTH})`);
    out.push(label.length, ...label);
    label = [];
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      endLabel();
    } else if (c === 0x5c) {
      const d = name.slice(i + 1, i + 4);
      if (/^\d{3}$/.test(d)) {
        const v = Number(d);
        if (v > 255) bad('bad-name', `escape \\${d} is not a byte`);
        label.push(v);
        i += 3;
      } else if (i + 1 < name.length) {
        label.push(name.charCodeAt(++i) & 0xff);
        if (name.charCodeAt(i) > 0xff) bad('bad-name', 'escaped character is not a byte');
      } else {
        bad('bad-name', 'ends in a lone "\\"');
      }
    } else if (c > 0x20 && c < 0x7f) {
      label.push(c);
    } else {
      bad('bad-name', `character ${JSON.stringify(name[i])} must be escaped`);
    }
  }
  if (label.length > 0) endLabel();
  out.push(0);
  if (out.length > DNS_MAX_NAME_WIRE_LENGTH) bad('name-too-long', `${out.length} octets on the wire (at most ${DNS_MAX_NAME_WIRE_LENGTH})`);
  return Uint8Array.from(out);
}

function encodeRdata(r: DnsRecord): Uint8Array {
  const bad = (msg: string): never => {
    throw new DnsWireError('bad-rdata', `encode DNS record ${r.name} type ${r.type}: ${msg}`, 0);
  };
  switch (r.data.kind) {
    case 'A': {
      const p = parseCIDR(r.data.address, true);
      if (!p || p.family !== 4 || p.bits !== 32 || r.data.address.includes('/')) return bad(`${JSON.stringify(r.data.address)} is not an IPv4 address`);
      return p.bytes;
    }
    case 'AAAA': {
      const p = parseCIDR(r.data.address, true);
      if (!p || p.family !== 6 || r.data.address.includes('/')) return bad(`${JSON.stringify(r.data.address)} is not an IPv6 address`);
      return p.bytes;
    }
    case 'CNAME':
      return encodeName(r.data.target);
    case 'opaque':
      return r.data.rdata;
  }
}

/**
 * Encodes a message (no name compression; counts from the arrays). Throws
 * DnsWireError for a name or address that cannot be encoded, or a message
 * over 65,535 bytes.
 */
export function encodeDnsMessage(m: DnsMessage): Uint8Array {
  const parts: Uint8Array[] = [];
  const h = m.header;
  const count = (n: number, what: string) => {
    if (n > 0xffff) throw new DnsWireError('bad-length', `encode DNS message: ${n} ${what}, more than 65535`, 0);
    return n;
  };
  const flags = (h.qr ? 0x8000 : 0) | ((h.opcode & 0xf) << 11) | (h.aa ? 0x0400 : 0) | (h.tc ? 0x0200 : 0) | (h.rd ? 0x0100 : 0)
    | (h.ra ? 0x0080 : 0) | (h.z ? 0x0040 : 0) | (h.ad ? 0x0020 : 0) | (h.cd ? 0x0010 : 0) | (h.rcode & 0xf);
  const hdr = new Uint8Array(DNS_HEADER_LENGTH);
  const dv = new DataView(hdr.buffer);
  dv.setUint16(0, h.id & 0xffff);
  dv.setUint16(2, flags);
  dv.setUint16(4, count(m.questions.length, 'questions'));
  dv.setUint16(6, count(m.answers.length, 'answers'));
  dv.setUint16(8, count(m.authorities.length, 'authority records'));
  dv.setUint16(10, count(m.additionals.length, 'additional records'));
  parts.push(hdr);
  for (const q of m.questions) {
    parts.push(encodeName(q.name));
    parts.push(Uint8Array.of(q.type >> 8, q.type & 0xff, q.class >> 8, q.class & 0xff));
  }
  for (const r of [...m.answers, ...m.authorities, ...m.additionals]) {
    parts.push(encodeName(r.name));
    const rdata = encodeRdata(r);
    if (rdata.length > 0xffff) throw new DnsWireError('bad-length', `encode DNS record ${r.name}: RDATA of ${rdata.length} bytes`, 0);
    const fixed = new Uint8Array(10);
    const f = new DataView(fixed.buffer);
    f.setUint16(0, r.type);
    f.setUint16(2, r.class);
    f.setUint32(4, r.ttl >>> 0);
    f.setUint16(8, rdata.length);
    parts.push(fixed, rdata);
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  if (total > 0xffff) throw new DnsWireError('bad-length', `encode DNS message: ${total} bytes, more than 65535`, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

// ---- answers the proxy makes ----

/** Options of {@link buildRefusal}. */
export interface RefusalOptions {
  /** The RCODE: REFUSED (default), or NXDOMAIN like Cilium's `--tofqdns-dns-reject-response-code=nameError`. */
  rcode?: number;
  /**
   * RA in the answer. Default true: the proxy answers in place of the
   * recursive cluster DNS, which sets it (dnsmasq, CoreDNS), and `dig` warns
   * "recursion requested but not available" without it. Cilium's proxy
   * (miekg/dns SetRcode) leaves it clear; pass false to do the same.
   */
  recursionAvailable?: boolean;
}

/**
 * The answer that refuses `query`, as a resolver builds it (miekg/dns
 * SetReply + SetRcode): same id and opcode, QR set, RD and CD copied from a
 * standard query, the query's first question and no records.
 */
export function buildRefusal(query: DnsMessage, options: RefusalOptions = {}): DnsMessage {
  const q = query.header;
  const standard = q.opcode === DNS_OPCODE_QUERY;
  return {
    header: {
      id: q.id, qr: true, opcode: q.opcode, aa: false, tc: false,
      rd: standard && q.rd, ra: options.recursionAvailable ?? true, z: false, ad: false, cd: standard && q.cd,
      rcode: options.rcode ?? DNS_RCODE.REFUSED,
    },
    questions: query.questions.slice(0, 1).map((x) => ({ ...x })),
    answers: [], authorities: [], additionals: [],
  };
}

/**
 * Why a decoded message is not a query the proxy can decide on, or
 * undefined when it is: QR clear, opcode QUERY, exactly one question (the
 * checks of miekg/dns's default accept function that matter for policy; it
 * answers such messages FORMERR or NOTIMP).
 */
export function queryProblem(m: DnsMessage): { rcode: number; reason: string } | undefined {
  if (m.header.qr) return { rcode: DNS_RCODE.FORMERR, reason: 'QR is set: a response, not a query' };
  if (m.header.opcode !== DNS_OPCODE_QUERY) return { rcode: DNS_RCODE.NOTIMP, reason: `opcode ${m.header.opcode} is not QUERY` };
  if (m.questions.length !== 1) return { rcode: DNS_RCODE.FORMERR, reason: `${m.questions.length} questions, not 1` };
  return undefined;
}

// ---- DNS over TCP ----

/** The 2-byte length prefix and the message, for DNS over TCP. Throws DnsWireError above 65,535 bytes. */
export function frameTcp(message: Uint8Array): Uint8Array {
  if (message.length > 0xffff) throw new DnsWireError('frame-too-large', `frame DNS message: ${message.length} bytes, more than 65535`, 0);
  const out = new Uint8Array(2 + message.length);
  out[0] = message.length >> 8;
  out[1] = message.length & 0xff;
  out.set(message, 2);
  return out;
}

/**
 * Splits a DNS-over-TCP byte stream into messages: each is a 2-byte length
 * then that many bytes (RFC 1035 §4.2.2); a message may arrive across any
 * number of segments and a segment may carry several. Yields the messages'
 * bytes undecoded (decode each with {@link decodeDnsMessage}). A length
 * below 12 (no header) or above `maxMessage` is a DnsWireError: the stream
 * cannot be resynchronised, so the connection must be closed.
 */
export class DnsTcpDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private failed: DnsWireError | undefined;
  private consumed = 0;

  constructor(private readonly maxMessage = 0xffff) {}

  /** Bytes received and not yet part of a whole message. */
  get pending(): number {
    return this.buffered;
  }

  /** Feeds one segment; returns the messages it completes, in order. */
  push(segment: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    if (segment.length > 0) {
      this.chunks.push(segment);
      this.buffered += segment.length;
    }
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.buffered < 2) return out;
      const head = this.peek(2);
      const len = (head[0]! << 8) | head[1]!;
      if (len < DNS_HEADER_LENGTH || len > this.maxMessage) {
        this.failed = new DnsWireError('bad-length', `DNS over TCP: frame length ${len} (a message is ${DNS_HEADER_LENGTH}..${this.maxMessage} bytes)`, this.consumed);
        throw this.failed;
      }
      if (this.buffered < 2 + len) return out;
      this.take(2);
      out.push(this.take(len));
      this.consumed += 2 + len;
    }
  }

  /** The first n buffered bytes, without consuming them (n ≤ buffered). */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let off = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (off === n) break;
    }
    return out;
  }

  /** Consumes and returns the first n buffered bytes (n ≤ buffered), copied. */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}
