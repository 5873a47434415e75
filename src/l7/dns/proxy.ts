/**
 * The node's DNS proxy, independent of how queries reach it: the agent's
 * transparent UDP socket calls {@link DnsProxy.handleDatagram} with each
 * query and its original destination, its transparent TCP listener hands
 * each accepted connection to {@link DnsProxy.handleTcp}. What the proxy
 * does with one query, as Cilium's DNS proxy (pkg/fqdn/dnsproxy) does:
 *
 * 1. **Decode, strictly** (./wire.ts). A malformed query is answered FORMERR
 *    when its 12-byte header is readable (same id and opcode, RD copied, no
 *    question), otherwise dropped; logged either way. A message with QR set
 *    (a response, not a query) is dropped, as miekg/dns's default accept
 *    function ignores responses (answering them invites reflection loops).
 *    An opcode other than QUERY is answered NOTIMP, a count of questions
 *    other than 1 FORMERR (miekg/dns's accept function, which Cilium's proxy
 *    uses; ./wire.ts queryProblem).
 * 2. **Decide.** `rulesFor` gives the DNS rules of the pod's endpoint for
 *    this server and port; none known (no redirect for that client) is
 *    REFUSED and logged, never forwarded. A name the rules deny is REFUSED
 *    (./wire.ts buildRefusal: same id, the question, RA set), never
 *    forwarded, and recorded as a denied request.
 * 3. **Forward unchanged** to the original destination (the cluster DNS pod
 *    the pod asked), from the node's own address, over the protocol the pod
 *    used. UDP: a pool of upstream sockets, each keeping its queries in
 *    flight by (server address, port, query id); the query is sent as
 *    received (its id included: no remapping, so the answer is relayed byte
 *    for byte without rewriting), and a query whose id is already in flight
 *    to that server on every socket of the pool goes out on a new socket
 *    (at most `maxUpstreamSockets`; beyond that SERVFAIL). Answers are
 *    matched by source address and port and id, in whatever order they
 *    come, and must carry the query's question (case-insensitive), or they
 *    are ignored as strays. TCP: one upstream connection per client
 *    connection, opened at its first allowed query, queries pipelined and
 *    answers matched by id (RFC 7766 lets a server answer out of order).
 *    A query not answered within `upstreamTimeoutMs` (default 10 s, Cilium's
 *    proxy forward timeout) is answered SERVFAIL and its state freed.
 * 4. **Parse the answer, strictly.** A malformed answer is SERVFAIL to the
 *    pod, logged. The addresses learned are the A records of the query name
 *    and of the names of its CNAME chain (followed from the query name
 *    through the answer section, at most 16 links); AAAA records of those
 *    names are parsed and recorded in flows but not learned: the datapath
 *    is IPv4 only. The TTL is the least TTL of the records used (CNAMEs of
 *    the chain and the A records; RFC 2181: a TTL with the top bit set is 0).
 * 5. **Learn, then release.** An answer with addresses is held until
 *    `learn` (the agent: FQDN cache, toFQDNs selectors, ipcache of the
 *    node) has settled, so the datapath knows the addresses before the
 *    pod's first connection to them; then it is sent to the pod unchanged,
 *    byte for byte. If `learn` fails or does not settle within
 *    `learnTimeoutMs` (default 100 ms, Cilium's
 *    `--tofqdns-proxy-response-max-delay`), by default (`learnFailure:
 *    'servfail'`) the pod gets SERVFAIL instead of an answer whose addresses
 *    its first connection could be dropped on (the resolver retries; the
 *    failure is logged and recorded): issue 13 requires that the first
 *    connection after an answer is never dropped. Cilium itself releases
 *    the answer after the delay anyway ("Timed out waiting for datapath
 *    updates of FQDN IP information; returning response", counted in
 *    fqdn_datapath_update_timeout_total); `learnFailure: 'release'` does
 *    the same, with a warning.
 *
 * Every query and answer is recorded (`record`) for flows: the request when
 * it is forwarded or denied, the response when it is sent (answer, or the
 * SERVFAIL the proxy made).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { DnsWireError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { Origin } from '../../policy/types.js';
import type { DnsRuleMatcher } from './rules.js';
import { normaliseDnsName } from './pattern.js';
import {
  buildRefusal, decodeDnsMessage, DNS_HEADER_LENGTH, DNS_RCODE, DnsTcpDecoder, encodeDnsMessage, frameTcp,
  queryProblem, type DnsMessage,
} from './wire.js';

/** An address and port. */
export interface DnsPeer {
  address: string;
  port: number;
}

/** What the proxy asks `rulesFor` about one query. */
export interface DnsQueryTarget {
  /** The pod's address (the endpoint's IPv4). */
  client: string;
  /** The original destination: the DNS server the pod asked. */
  server: string;
  port: number;
  protocol: 'udp' | 'tcp';
}

/** The rules that apply to a query, and who is asking (for flows). */
export interface DnsRedirect<E> {
  matcher: DnsRuleMatcher;
  /** Whatever identifies the pod's endpoint for the agent's flows (an endpoint id, …). */
  endpoint: E;
  /** The pod's security identity, when the agent knows it (0 / absent: flows look it up). */
  sourceIdentity?: number;
  /** The server's security identity, likewise. */
  destinationIdentity?: number;
}

/** What the proxy asks the agent to learn before it releases an answer. */
export interface DnsLearnRequest {
  /** The pod's address (the endpoint's IPv4). */
  client: string;
  /** The query name then every CNAME target of its chain, lower case and fully qualified. */
  names: string[];
  /** The IPv4 addresses of the A records of those names, de-duplicated, in answer order. */
  ips: string[];
  /** The least TTL of the records used, seconds. */
  ttl: number;
}

/** One query or answer, for flows (./flows.ts). */
export interface DnsProxyRecord<E = unknown> {
  type: 'request' | 'response';
  /** When: the query's arrival (request), the answer's release (response); ms since the epoch. */
  timeMs: number;
  protocol: 'udp' | 'tcp';
  client: DnsPeer;
  /** The original destination (the DNS server). */
  server: DnsPeer;
  /** From rulesFor; undefined when no redirect was known. */
  endpoint: E | undefined;
  sourceIdentity: number;
  destinationIdentity: number;
  /** The query id. */
  id: number;
  /** The query name, presentation form as sent. */
  query: string;
  /** The question's type (A = 1, AAAA = 28, …). */
  qtypes: number[];
  /**
   * forwarded: allowed and sent on (request) or answered by the server
   * (response); denied: REFUSED by policy (request, the only record of it);
   * error: the proxy answered the error itself (SERVFAIL after an upstream
   * timeout, a malformed answer, a failed learn; FORMERR / NOTIMP / REFUSED
   * for a query it could not decide on).
   */
  verdict: 'forwarded' | 'denied' | 'error';
  /** The policies whose rules allowed the name (empty when denied or unknown). */
  allowedBy: Origin[];
  /** Response: the RCODE the pod got. */
  rcode?: number;
  /** Response: the A and AAAA addresses of the chain, as in the answer. */
  ips?: string[];
  /** Response: the least TTL of the records used. */
  ttl?: number;
  /** Response: the CNAME targets of the chain, in order. */
  cnames?: string[];
  /** Response: the types of the answer section's records, in order. */
  rrtypes?: number[];
  /** Response: from the query's arrival to the answer's release, ms. */
  latencyMs?: number;
  /** Why the proxy answered an error itself. */
  reason?: string;
}

/** What the proxy needs from the agent. */
export interface DnsProxyDeps<E> {
  /** The DNS rules for a query; undefined: no redirect is known for that client (REFUSED, logged, never forwarded). */
  rulesFor(q: DnsQueryTarget): DnsRedirect<E> | undefined;
  /** Makes the addresses known to the datapath; awaited before the answer is released. */
  learn(a: DnsLearnRequest): Promise<void> | void;
  /** Flows. */
  record(r: DnsProxyRecord<E>): void;
  log: Logger;
  /** Upstream answer timeout, ms (default 10,000). */
  upstreamTimeoutMs?: number;
  /** How long `learn` may take, ms (default 100, Cilium's --tofqdns-proxy-response-max-delay). */
  learnTimeoutMs?: number;
  /** When `learn` fails or times out: answer SERVFAIL (default), or release the answer anyway as Cilium does. */
  learnFailure?: 'servfail' | 'release';
  /** The node address upstream sockets bind (default: any, the route's source address). */
  localAddress?: string;
  /** Upper bound of the UDP upstream socket pool (default 64). */
  maxUpstreamSockets?: number;
  /** A client TCP connection idle this long is closed, ms (default 30,000; RFC 7766 §6.2.3). */
  tcpIdleTimeoutMs?: number;
  /** The clock (ms since the epoch); default Date.now. */
  now?: () => number;
}

/** Counters of what the proxy did (for status and tests). */
export interface DnsProxyStats {
  queries: number;
  forwarded: number;
  answered: number;
  denied: number;
  /** REFUSED because no redirect was known for the client. */
  unknownClient: number;
  formerr: number;
  notimp: number;
  /** Dropped: unreadable header, or a response sent as a query. */
  dropped: number;
  servfail: number;
  upstreamTimeouts: number;
  malformedAnswers: number;
  learnFailures: number;
  /** Answers from upstream matching no query in flight. */
  strays: number;
}

/** One query's state while its answer is awaited. */
interface Pending {
  /** `decoded`: the answer as matched (decoded once); an Error when it is malformed. */
  done(answer: Uint8Array | undefined, reason?: string, decoded?: DnsMessage | Error): void;
  /** The question, to check the answer against. */
  name: string;
  type: number;
  cls: number;
}

interface UpstreamSocket {
  sock: UdpSocket;
  ready: Promise<void>;
  /** Bound: send at once, without waiting on `ready`. */
  bound: boolean;
  /** `address|port|id` → the query in flight. */
  pending: Map<string, Pending>;
  closed: boolean;
}

const MAX_CNAME_CHAIN = 16;

/** What an answer says about the query's name: see the file comment, step 4. */
export interface DnsAnswerSummary {
  /** Query name then CNAME targets, lower case, fully qualified. */
  names: string[];
  /** CNAME targets in chain order, as in the answer. */
  cnames: string[];
  /** A addresses of the chain (learned). */
  ipv4: string[];
  /** AAAA addresses of the chain (recorded only). */
  ipv6: string[];
  /** Least TTL of the records used; 0 when none. */
  ttl: number;
  /** The answer section's record types, in order. */
  rrtypes: number[];
}

/** The addresses, CNAME chain and TTL an answer gives for its (first) question's name. */
export function summariseAnswer(answer: DnsMessage, qname: string): DnsAnswerSummary {
  const first = normaliseDnsName(qname);
  const names = [first];
  const cnames: string[] = [];
  const inChain = new Set(names);
  let ttl = Number.POSITIVE_INFINITY;
  const ttlOf = (t: number) => (t >= 0x80000000 ? 0 : t);
  let current = first;
  for (let i = 0; i < MAX_CNAME_CHAIN; i++) {
    const c = answer.answers.find((r) => r.data.kind === 'CNAME' && normaliseDnsName(r.name) === current);
    if (!c || c.data.kind !== 'CNAME') break;
    const target = normaliseDnsName(c.data.target);
    if (inChain.has(target)) break; // a CNAME loop: stop at the repeat
    ttl = Math.min(ttl, ttlOf(c.ttl));
    cnames.push(c.data.target);
    names.push(target);
    inChain.add(target);
    current = target;
  }
  const ipv4: string[] = [];
  const ipv6: string[] = [];
  for (const r of answer.answers) {
    if ((r.data.kind !== 'A' && r.data.kind !== 'AAAA') || !inChain.has(normaliseDnsName(r.name))) continue;
    const list = r.data.kind === 'A' ? ipv4 : ipv6;
    if (!list.includes(r.data.address)) list.push(r.data.address);
    ttl = Math.min(ttl, ttlOf(r.ttl));
  }
  return { names, cnames, ipv4, ipv6, ttl: Number.isFinite(ttl) ? ttl : 0, rrtypes: answer.answers.map((r) => r.type) };
}

/** The proxy. See the file comment. */
export class DnsProxy<E = unknown> {
  readonly #deps: DnsProxyDeps<E>;
  readonly #upstreamTimeoutMs: number;
  readonly #learnTimeoutMs: number;
  readonly #maxSockets: number;
  readonly #tcpIdleMs: number;
  readonly #now: () => number;
  readonly #sockets: UpstreamSocket[] = [];
  readonly #tcp = new Set<Socket>();
  #next = 0;
  #closed = false;
  readonly #stats: DnsProxyStats = {
    queries: 0, forwarded: 0, answered: 0, denied: 0, unknownClient: 0, formerr: 0, notimp: 0, dropped: 0, servfail: 0,
    upstreamTimeouts: 0, malformedAnswers: 0, learnFailures: 0, strays: 0,
  };

  constructor(deps: DnsProxyDeps<E>) {
    this.#deps = deps;
    this.#upstreamTimeoutMs = deps.upstreamTimeoutMs ?? 10_000;
    this.#learnTimeoutMs = deps.learnTimeoutMs ?? 100;
    this.#maxSockets = deps.maxUpstreamSockets ?? 64;
    this.#tcpIdleMs = deps.tcpIdleTimeoutMs ?? 30_000;
    this.#now = deps.now ?? Date.now;
  }

  /** A copy of the counters. */
  stats(): DnsProxyStats {
    return { ...this.#stats };
  }

  /** Queries in flight to upstream servers over UDP. */
  get pendingUdp(): number {
    return this.#sockets.reduce((n, s) => n + s.pending.size, 0);
  }

  /** How many UDP upstream sockets the pool holds. */
  get upstreamSockets(): number {
    return this.#sockets.length;
  }

  /**
   * One query received over UDP from `client`, sent by it to `origDst`;
   * `reply` sends an answer back to the client (from `origDst`). Never throws.
   */
  handleDatagram(query: Buffer | Uint8Array, client: DnsPeer, origDst: DnsPeer, reply: (answer: Buffer) => void): void {
    this.#handle(query, client, origDst, 'udp', reply, (q, p) => this.#forwardUdp(q, origDst, p));
  }

  /**
   * One DNS-over-TCP connection from a client, accepted for `origDst`:
   * messages split across segments, several per connection, pipelined; the
   * answers are written as they are ready. A framing error (a length below
   * 12 or the stream cut inside a message) closes the connection.
   */
  handleTcp(socket: Socket, origDst: DnsPeer): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#tcp.add(socket);
    const client: DnsPeer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const decoder = new DnsTcpDecoder();
    const upstream = new TcpUpstream(origDst, this.#deps.localAddress, this.#deps.log);
    // A client may half-close after its last query (RFC 7766 §6.2.1 lets it): answer what is in
    // flight, then close our side.
    socket.allowHalfOpen = true;
    let outstanding = 0;
    let clientDone = false;
    const reply = (answer: Buffer) => {
      outstanding--;
      if (!socket.destroyed && socket.writable) socket.write(frameTcp(answer));
      if (clientDone && outstanding === 0) socket.end();
    };
    socket.on('end', () => {
      clientDone = true;
      if (outstanding === 0) socket.end();
    });
    socket.setTimeout(this.#tcpIdleMs, () => socket.end());
    socket.on('data', (segment: Buffer) => {
      let messages: Uint8Array[];
      try {
        messages = decoder.push(segment);
      } catch (e) {
        this.#deps.log.warn('DNS over TCP: bad frame, closing the connection', { client: `${client.address}:${client.port}`, error: (e as Error).message });
        this.#stats.dropped++;
        socket.destroy();
        return;
      }
      for (const m of messages) {
        outstanding++;
        if (!this.#handle(m, client, origDst, 'tcp', reply, (q, p) => upstream.send(q, p, this.#upstreamTimeoutMs))) outstanding--;
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#tcp.delete(socket);
      upstream.close();
    });
  }

  /** Closes the upstream sockets and client TCP connections; queries in flight are dropped. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const s of this.#tcp) s.destroy();
    this.#tcp.clear();
    const socks = this.#sockets.splice(0);
    for (const s of socks) {
      for (const p of s.pending.values()) p.done(undefined, 'proxy closed');
      s.pending.clear();
    }
    await Promise.all(socks.map((s) => new Promise<void>((r) => {
      if (s.closed) return r();
      s.closed = true;
      s.sock.close(() => r());
    })));
  }

  // ---- one query ----

  #handle(raw: Uint8Array, client: DnsPeer, origDst: DnsPeer, protocol: 'udp' | 'tcp', reply: (b: Buffer) => void,
    forward: (query: Uint8Array, pending: Pending) => string | undefined): boolean {
    const st = this.#stats;
    st.queries++;
    const started = this.#now();
    const log = this.#deps.log;
    const who = `${client.address}:${client.port}`;
    let msg: DnsMessage;
    try {
      msg = decodeDnsMessage(raw);
    } catch (e) {
      if (!(e instanceof DnsWireError)) throw e;
      if (raw.length < DNS_HEADER_LENGTH || (raw[2]! & 0x80) !== 0) {
        st.dropped++;
        log.warn('DNS proxy: malformed message dropped', { client: who, protocol, error: e.message });
        return false;
      }
      st.formerr++;
      log.warn('DNS proxy: malformed query answered FORMERR', { client: who, protocol, error: e.message });
      reply(headerOnlyAnswer(raw, DNS_RCODE.FORMERR));
      return true;
    }
    if (msg.header.qr) {
      st.dropped++;
      log.warn('DNS proxy: a response sent as a query, dropped', { client: who, protocol, id: msg.header.id });
      return false;
    }
    const problem = queryProblem(msg);
    if (problem) {
      if (problem.rcode === DNS_RCODE.NOTIMP) st.notimp++;
      else st.formerr++;
      log.warn('DNS proxy: query not decided on', { client: who, protocol, id: msg.header.id, reason: problem.reason, rcode: problem.rcode });
      reply(encodeAnswer(buildRefusal(msg, { rcode: problem.rcode })));
      return true;
    }
    const q = msg.questions[0]!;
    const base = {
      protocol, client, server: origDst, id: msg.header.id, query: q.name, qtypes: [q.type],
    };
    let redirect: DnsRedirect<E> | undefined;
    try {
      redirect = this.#deps.rulesFor({ client: client.address, server: origDst.address, port: origDst.port, protocol });
    } catch (e) {
      // The agent could not say: treated as no redirect (refused), never as allowed.
      log.error('DNS proxy: looking up the DNS rules failed', { client: who, error: (e as Error).message });
    }
    if (!redirect) {
      st.unknownClient++;
      log.warn('DNS proxy: no DNS redirect known for the client, REFUSED', { client: who, server: `${origDst.address}:${origDst.port}`, protocol, query: q.name });
      reply(encodeAnswer(buildRefusal(msg)));
      return true;
    }
    const ids = { endpoint: redirect.endpoint, sourceIdentity: redirect.sourceIdentity ?? 0, destinationIdentity: redirect.destinationIdentity ?? 0 };
    const verdict = redirect.matcher.match(q.name);
    if (!verdict.allowed) {
      st.denied++;
      reply(encodeAnswer(buildRefusal(msg)));
      this.#record({ ...base, ...ids, type: 'request', timeMs: started, verdict: 'denied', allowedBy: [] });
      return true;
    }
    this.#record({ ...base, ...ids, type: 'request', timeMs: started, verdict: 'forwarded', allowedBy: verdict.allowedBy });
    const fail = (reason: string) => {
      st.servfail++;
      log.warn('DNS proxy: SERVFAIL', { client: who, server: `${origDst.address}:${origDst.port}`, protocol, query: q.name, reason });
      reply(encodeAnswer(buildRefusal(msg, { rcode: DNS_RCODE.SERVFAIL })));
      const now = this.#now();
      this.#record({ ...base, ...ids, type: 'response', timeMs: now, verdict: 'error', allowedBy: verdict.allowedBy, rcode: DNS_RCODE.SERVFAIL, latencyMs: now - started, reason });
    };
    const pending: Pending = {
      name: normaliseDnsName(q.name), type: q.type, cls: q.class,
      done: (answer, reason, decoded) => {
        if (!answer) {
          if (reason === 'proxy closed') return;
          if (reason === 'upstream timeout') st.upstreamTimeouts++;
          fail(reason ?? 'no answer');
          return;
        }
        const parsed = decoded ?? decodeOrError(answer);
        if (parsed instanceof Error) {
          st.malformedAnswers++;
          fail(`malformed answer: ${parsed.message}`);
          return;
        }
        const sum = summariseAnswer(parsed, q.name);
        const release = () => {
          if (this.#closed) return;
          st.answered++;
          reply(Buffer.from(answer.buffer, answer.byteOffset, answer.byteLength));
          const now = this.#now();
          this.#record({
            ...base, ...ids, type: 'response', timeMs: now, verdict: 'forwarded', allowedBy: verdict.allowedBy,
            rcode: parsed.header.rcode, ips: [...sum.ipv4, ...sum.ipv6], ttl: sum.ttl, cnames: sum.cnames, rrtypes: sum.rrtypes, latencyMs: now - started,
          });
        };
        if (sum.ipv4.length === 0) {
          release();
          return;
        }
        const learned = this.#learn({ client: client.address, names: sum.names, ips: sum.ipv4, ttl: sum.ttl });
        if (!learned) {
          release();
          return;
        }
        learned.then(release, (e: Error) => {
          st.learnFailures++;
          if (this.#deps.learnFailure === 'release') {
            log.warn('DNS proxy: learning the answer\'s addresses failed; returning the answer', { client: who, query: q.name, error: e.message });
            release();
            return;
          }
          fail(`learning the answer's addresses failed: ${e.message}`);
        });
      },
    };
    const refused = forward(raw, pending);
    if (refused !== undefined) {
      fail(refused);
      return true;
    }
    st.forwarded++;
    return true;
  }

  /** learn, bounded by learnTimeoutMs. */
  #learn(a: DnsLearnRequest): Promise<void> | undefined {
    let p: Promise<void> | void;
    try {
      p = this.#deps.learn(a);
    } catch (e) {
      p = Promise.reject(e);
    }
    // Learned at once (nothing new, or written synchronously): no timer, no promise on the answer's path.
    if (!p) return undefined;
    const pending = p;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not done within ${this.#learnTimeoutMs} ms`)), this.#learnTimeoutMs);
      pending.then(() => { clearTimeout(timer); resolve(); }, (e: unknown) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); });
    });
  }

  #record(r: DnsProxyRecord<E>): void {
    try {
      this.#deps.record(r);
    } catch (e) {
      this.#deps.log.error('DNS proxy: recording a flow failed', { error: (e as Error).message });
    }
  }

  // ---- UDP upstream ----

  /** Sends the query on a pool socket with its id free for that server; a reason when it cannot. */
  #forwardUdp(query: Uint8Array, server: DnsPeer, pending: Pending): string | undefined {
    if (this.#closed) return 'proxy closed';
    const id = (query[0]! << 8) | query[1]!;
    const key = `${server.address}|${server.port}|${id}`;
    let s: UpstreamSocket | undefined;
    const n = this.#sockets.length;
    for (let i = 0; i < n; i++) {
      const c = this.#sockets[(this.#next + i) % n]!;
      if (!c.pending.has(key)) {
        s = c;
        break;
      }
    }
    this.#next = n ? (this.#next + 1) % n : 0;
    if (!s) {
      if (n >= this.#maxSockets) return `query id ${id} already in flight to ${server.address}:${server.port} on all ${n} upstream sockets`;
      s = this.#openSocket();
    }
    const sock = s;
    const timer = setTimeout(() => {
      if (sock.pending.get(key) !== entry) return;
      sock.pending.delete(key);
      pending.done(undefined, 'upstream timeout');
    }, this.#upstreamTimeoutMs);
    const entry: Pending = {
      ...pending,
      done: (answer, reason, decoded) => {
        clearTimeout(timer);
        pending.done(answer, reason, decoded);
      },
    };
    sock.pending.set(key, entry);
    const send = () => {
      if (sock.closed) return;
      sock.sock.send(query, server.port, server.address, (err) => {
        if (!err || sock.pending.get(key) !== entry) return;
        sock.pending.delete(key);
        entry.done(undefined, `sending to ${server.address}:${server.port}: ${err.message}`);
      });
    };
    if (sock.bound) {
      send();
      return undefined;
    }
    sock.ready.then(send, (err: Error) => {
      if (sock.pending.get(key) !== entry) return;
      sock.pending.delete(key);
      entry.done(undefined, `upstream socket: ${err.message}`);
    });
    return undefined;
  }

  #openSocket(): UpstreamSocket {
    const sock = createSocket({ type: 'udp4' });
    const s: UpstreamSocket = {
      sock, pending: new Map(), closed: false, bound: false,
      ready: new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ port: 0, ...(this.#deps.localAddress ? { address: this.#deps.localAddress } : {}) }, () => {
          sock.off('error', reject);
          s.bound = true;
          resolve();
        });
      }),
    };
    s.ready.catch(() => undefined);
    sock.on('error', (err) => this.#deps.log.warn('DNS proxy: upstream socket error', { error: err.message }));
    sock.on('message', (m, rinfo) => {
      if (m.length < 2) {
        this.#stats.strays++;
        return;
      }
      const key = `${rinfo.address}|${rinfo.port}|${(m[0]! << 8) | m[1]!}`;
      const p = s.pending.get(key);
      const d = p && answers(m, p);
      if (!p || !d) {
        this.#stats.strays++;
        this.#deps.log.debug('DNS proxy: stray answer ignored', { from: `${rinfo.address}:${rinfo.port}`, bytes: m.length });
        return;
      }
      s.pending.delete(key);
      p.done(m, undefined, d);
    });
    this.#sockets.push(s);
    return s;
  }
}

function decodeOrError(m: Uint8Array): DnsMessage | Error {
  try {
    return decodeDnsMessage(m);
  } catch (e) {
    if (e instanceof DnsWireError) return e;
    throw e;
  }
}

/**
 * The decoded answer when `m` can be the answer to the pending query: QR
 * set and the same question; or the decoding error when it is not decodable
 * at all (malformed: the query gets SERVFAIL rather than wait for a
 * timeout). Undefined for a well-formed message that is no answer to it (a
 * late answer to a former query with the same id).
 */
function answers(m: Uint8Array, p: Pending): DnsMessage | Error | undefined {
  const d = decodeOrError(m);
  if (d instanceof Error) return d;
  if (!d.header.qr) return undefined;
  const q = d.questions[0];
  // A server may answer FORMERR etc. without the question (RFC 1035 allows it).
  if (!q) return d.header.rcode !== DNS_RCODE.NOERROR ? d : undefined;
  return q.type === p.type && q.class === p.cls && normaliseDnsName(q.name) === p.name ? d : undefined;
}

/** An answer of the header alone (for a query whose questions cannot be read): id and opcode kept, RD copied. */
function headerOnlyAnswer(raw: Uint8Array, rcode: number): Buffer {
  const out = Buffer.alloc(DNS_HEADER_LENGTH);
  out[0] = raw[0]!;
  out[1] = raw[1]!;
  const opcode = (raw[2]! >> 3) & 0xf;
  out[2] = 0x80 | (opcode << 3) | (raw[2]! & 0x01); // QR, opcode, RD
  out[3] = 0x80 | (rcode & 0xf); // RA, RCODE
  return out;
}

function encodeAnswer(m: DnsMessage): Buffer {
  const b = encodeDnsMessage(m);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * One client connection's upstream TCP connection: opened at the first
 * query, pipelined, answers matched by id. Closed with the client's.
 */
class TcpUpstream {
  #sock: Socket | undefined;
  #decoder = new DnsTcpDecoder();
  readonly #pending = new Map<number, Pending>();
  #closed = false;

  constructor(private readonly server: DnsPeer, private readonly localAddress: string | undefined, private readonly log: Logger) {}

  /** Sends a query; a reason when it cannot. */
  send(query: Uint8Array, pending: Pending, timeoutMs: number): string | undefined {
    if (this.#closed) return 'client connection closed';
    const id = (query[0]! << 8) | query[1]!;
    if (this.#pending.has(id)) return `query id ${id} already in flight on this connection`;
    const timer = setTimeout(() => {
      if (this.#pending.get(id) !== entry) return;
      this.#pending.delete(id);
      pending.done(undefined, 'upstream timeout');
    }, timeoutMs);
    const entry: Pending = { ...pending, done: (a, r, d) => { clearTimeout(timer); pending.done(a, r, d); } };
    this.#pending.set(id, entry);
    this.#socket().write(frameTcp(query));
    return undefined;
  }

  #socket(): Socket {
    if (this.#sock && !this.#sock.destroyed) return this.#sock;
    const sock = connect({ host: this.server.address, port: this.server.port, ...(this.localAddress ? { localAddress: this.localAddress } : {}) });
    this.#sock = sock;
    this.#decoder = new DnsTcpDecoder();
    const decoder = this.#decoder;
    sock.setNoDelay(true);
    sock.on('data', (seg: Buffer) => {
      let messages: Uint8Array[];
      try {
        messages = decoder.push(seg);
      } catch (e) {
        this.log.warn('DNS proxy: bad frame from the upstream server, closing', { server: `${this.server.address}:${this.server.port}`, error: (e as Error).message });
        sock.destroy();
        return;
      }
      for (const m of messages) {
        const id = (m[0]! << 8) | m[1]!;
        const p = this.#pending.get(id);
        const d = p && answers(m, p);
        if (!p || !d) continue;
        this.#pending.delete(id);
        p.done(m, undefined, d);
      }
    });
    sock.on('error', (e) => this.log.warn('DNS proxy: upstream TCP connection failed', { server: `${this.server.address}:${this.server.port}`, error: e.message }));
    sock.on('close', () => {
      if (this.#sock === sock) this.#sock = undefined;
      // Queries sent on this connection get no answer now: SERVFAIL them.
      for (const [id, p] of [...this.#pending]) {
        this.#pending.delete(id);
        p.done(undefined, this.#closed ? 'proxy closed' : 'upstream connection closed');
      }
    });
    return sock;
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) p.done(undefined, 'proxy closed');
    this.#pending.clear();
    this.#sock?.destroy();
  }
}
