/**
 * wrk (Debian's `wrk`, C) as the load generator of the services and policy
 * benchmarks: it drives a C server (the lab's nginx-native image) harder than
 * `beeline loadgen` (Node.js) can on a 2-core machine, so the datapath under
 * test, not the generator, sets the rate. The benchmarks run it in the client
 * pod (`beeline exec … -- taskset -c CPU wrk …`) with the script below.
 *
 * wrk connects every thread to one address, so the script gives each thread
 * its own target (round-robin over the targets) and runs one connection per
 * thread (`-t N -c N`): N connections in flight over min(N, targets) targets.
 * With `Connection: close` every request is a new TCP connection
 * (connection-per-request); without it the connections are kept alive
 * (request/response).
 *
 * wrk's own latency starts when the request is written, after the connection
 * is up, so it does not see what a Service translation costs at connect time
 * (socket LB in connect(), iptables/nftables on the SYN). With one connection
 * per thread the script measures that too, with a monotonic clock through
 * LuaJIT's FFI: `connect` is from one response to the next request's write
 * on the same thread (close, socket, connect, the handshake, the event loop),
 * `total` from one response to the next (connect + request + response).
 * `done` prints one JSON line with these percentiles, wrk's own, the error
 * counts and wrk's CPU time (utime + stime of the whole process from
 * /proc/self/stat), so a saturated generator shows.
 */
import type { LoadCounts } from './loadgen.js';

export interface WrkOptions {
  /** "host:port" targets; thread i connects to targets[i mod targets.length]. */
  targets: string[];
  /** Connections in flight (and threads, unless `threads` says otherwise). */
  connections: number;
  /**
   * Threads, when fewer than the connections (keep-alive benchmarks of one
   * proxy: `-t 1 -c 32`). The script's connect/total timings assume one
   * connection per thread; with several per thread only wrk's own latency
   * (requestP50Ms/requestP99Ms) means what it says.
   */
  threads?: number;
  seconds: number;
  /** One TCP connection per request (`Connection: close`); else keep-alive. */
  close: boolean;
  /** Path of the Lua script (written by the caller from wrkScript()). */
  script: string;
  /** Pin wrk to this CPU (taskset -c). */
  cpu?: number;
  /** A request not answered within this is a timeout error (default 2 s, wrk's). */
  timeoutSeconds?: number;
}

/**
 * What one wrk run measured (errors: connect, read, write and timeout errors plus non-2xx/3xx
 * responses). connect*: response → next request written on the same connection slot, i.e.
 * close + connect + handshake (close mode only); total*: response → next response on the same
 * slot (connect + request + response in close mode, the request alone with keep-alive).
 */
export interface WrkResult extends LoadCounts {
  generator: 'wrk';
  /** wrk's own latency: request written → response complete. */
  requestP50Ms: number;
  requestP99Ms: number;
  elapsedMs: number;
  concurrency: number;
  targets: number;
  /** wrk's CPU time (all threads) over the run, and its share of one core. */
  cpuMs: number;
  cpuPercent: number;
  /** Samples behind the connect/total percentiles. */
  samples: number;
}

/** What the script requests, and how fast. */
export interface WrkScriptOptions {
  /** The request's path (default "/"). */
  path?: string;
  /**
   * Pacing (wrk has no rate option): each thread sends this many requests
   * per second over its connections. Every connection, before each request,
   * claims the thread's next send slot (slots 1/rate apart) and waits for it
   * through wrk's delay() hook, so the rate holds whatever the latency, as
   * long as enough connections are idle. wrk takes whole milliseconds: the
   * wait is rounded up or down at random with the odds that keep its mean;
   * wrk's timers fire up to a millisecond late, so slots missed meanwhile
   * are still sent (at once), up to 2 ms of them; older ones are dropped,
   * so a stalled server does not get a burst after the stall.
   */
  ratePerThread?: number;
}

/** The Lua script for `targets` (each "host:port"). */
export function wrkScript(targets: string[], opts: WrkScriptOptions = {}): string {
  const path = opts.path ?? '/';
  if (!/^\/[\x21-\x7e]*$/.test(path)) throw new Error(`wrk path ${JSON.stringify(path)}: want an absolute path of printable characters`);
  const rate = opts.ratePerThread;
  if (rate !== undefined && !(rate > 0 && Number.isFinite(rate))) throw new Error(`wrk rate ${rate}: want a positive number of requests per second`);
  const delayFn =
    rate === undefined
      ? ''
      : `
-- pacing: ${rate} requests/s per thread, a send slot every ${1000 / rate} ms; missed slots kept for 2 ms
local interval_ms, next_ms = ${1000 / rate}, nil
function delay()
  local t = now_us() / 1000
  if next_ms == nil or next_ms < t - 2 then next_ms = t - 2 end
  local wait = next_ms - t
  next_ms = next_ms + interval_ms
  if wait <= 0 then return 0 end
  return math.floor(wait + math.random())
end
`;
  const list = targets
    .map((t) => {
      const i = t.lastIndexOf(':');
      if (i <= 0 || !/^\d+$/.test(t.slice(i + 1))) throw new Error(`wrk target ${JSON.stringify(t)}: want host:port`);
      return `{${JSON.stringify(t.slice(0, i))}, ${JSON.stringify(t.slice(i + 1))}}`;
    })
    .join(', ');
  return `-- Generated by beeline (src/lab/wrk.ts): per-thread targets, connect/total timing, JSON summary.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bl_timespec;
int clock_gettime(int clk, bl_timespec *tp);
long sysconf(int name);
]]
local ts = ffi.new("bl_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

-- main state: one target per thread, round-robin
local targets = {${list}}
local threads = {}
function setup(thread)
  local t = targets[(#threads % #targets) + 1]
  thread.addr = wrk.lookup(t[1], t[2])[1]
  table.insert(threads, thread)
end

-- thread states (one connection each): globals, so done() can read them
conn_us = {}
total_us = {}
local req, sent, last
function init(args)
  req = wrk.format("GET", ${JSON.stringify(path)})
end${delayFn}
function request()
  local t = now_us()
  if last then conn_us[#conn_us + 1] = t - last end
  sent = t
  return req
end
function response(status, headers, body)
  local t = now_us()
  if last then total_us[#total_us + 1] = t - last elseif sent then total_us[#total_us + 1] = t - sent end
  last = t
end

local function pct(xs, p)
  if #xs == 0 then return -1 end
  local i = math.ceil(#xs * p / 100)
  if i < 1 then i = 1 end
  return xs[i]
end
local function cpu_ticks()
  local f = io.open("/proc/self/stat")
  if not f then return -1 end
  local s = f:read("*a")
  f:close()
  local rest = s:sub(s:find(")", 1, true) + 2)
  local fields = {}
  for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
  -- after "pid (comm) ": state is field 3, utime 14, stime 15
  return tonumber(fields[12]) + tonumber(fields[13])
end
function done(summary, latency, requests)
  local conn, total = {}, {}
  for _, t in ipairs(threads) do
    for _, v in ipairs(t:get("conn_us") or {}) do conn[#conn + 1] = v end
    for _, v in ipairs(t:get("total_us") or {}) do total[#total + 1] = v end
  end
  table.sort(conn)
  table.sort(total)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"request_p50_us":%d,"request_p99_us":%d,"connect_p50_us":%.1f,"connect_p99_us":%.1f,"total_p50_us":%.1f,"total_p99_us":%.1f,' ..
    '"samples":%d,"threads":%d,"cpu_ticks":%d,"clk_tck":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), pct(conn, 50), pct(conn, 99), pct(total, 50), pct(total, 99),
    #total, #threads, cpu_ticks(), tonumber(ffi.C.sysconf(2)))) -- _SC_CLK_TCK
end
`;
}

/** The argv that runs wrk with `o` (the script at o.script must hold wrkScript(o.targets)). */
export function wrkArgv(o: WrkOptions): string[] {
  if (o.connections < 1) throw new Error('wrk: connections must be at least 1');
  const url = `http://${o.targets[0]}/`;
  return [
    ...(o.cpu === undefined ? [] : ['taskset', '-c', String(o.cpu)]),
    'wrk',
    '-t', String(Math.min(o.threads ?? o.connections, o.connections)),
    '-c', String(o.connections),
    '-d', `${o.seconds}s`,
    '--timeout', `${o.timeoutSeconds ?? 2}s`,
    ...(o.close ? ['-H', 'Connection: close'] : []),
    '-s', o.script,
    url,
  ];
}

/** Parses the JSON line the script's done() prints (wrk's own report precedes it). */
export function parseWrk(stdout: string, targets: number): WrkResult {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith('{"requests":'));
  if (!line) throw new Error(`wrk: no summary line in its output: ${stdout.trim().split('\n').slice(-3).join(' | ')}`);
  const j = JSON.parse(line) as {
    requests: number;
    duration_us: number;
    errors: Record<string, number>;
    request_p50_us: number;
    request_p99_us: number;
    connect_p50_us: number;
    connect_p99_us: number;
    total_p50_us: number;
    total_p99_us: number;
    samples: number;
    threads: number;
    cpu_ticks: number;
    clk_tck: number;
  };
  const errorKinds = Object.fromEntries(Object.entries(j.errors).filter(([, v]) => v > 0));
  const elapsedMs = j.duration_us / 1000;
  const cpuMs = (j.cpu_ticks / j.clk_tck) * 1000;
  const ms = (us: number) => (us < 0 ? NaN : us / 1000);
  return {
    generator: 'wrk',
    requests: j.requests,
    errors: Object.values(j.errors).reduce((a, b) => a + b, 0),
    errorKinds,
    rps: j.requests / (elapsedMs / 1000),
    connectP50Ms: ms(j.connect_p50_us),
    connectP99Ms: ms(j.connect_p99_us),
    totalP50Ms: ms(j.total_p50_us),
    totalP99Ms: ms(j.total_p99_us),
    requestP50Ms: ms(j.request_p50_us),
    requestP99Ms: ms(j.request_p99_us),
    elapsedMs,
    concurrency: j.threads,
    targets,
    cpuMs,
    cpuPercent: Math.round((cpuMs / elapsedMs) * 1000) / 10,
    samples: j.samples,
  };
}
