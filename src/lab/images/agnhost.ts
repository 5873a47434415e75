// registry.k8s.io/e2e-test-images/agnhost: the Kubernetes e2e Swiss-army image.
// beeline implements the subcommands demo manifests use: netexec, serve-hostname, pause.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { request as httpRequest, type ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { ANY_HOST, type Builtin, type BuiltinContext, type Running, closeServer, goLogTime, httpServer, idle, listen, parseFlags, podHostname, remoteAddr, send, str } from './common.js';

const log = (ctx: BuiltinContext, msg: string) => ctx.out(`${goLogTime()} ${msg}`);

/** Go's time.Now().String(): "2006-01-02 15:04:05.999999999 -0700 MST m=+0.000000001". */
export function goNow(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const tz = `${off >= 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  const frac = `${p(d.getMilliseconds(), 3)}000000`.replace(/0+$/, '');
  const zone = off === 0 ? 'UTC' : tz;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${frac ? '.' + frac : ''} ${tz} ${zone} m=+${process.uptime().toFixed(9)}`;
}

function parseGoDuration(s: string): number | undefined {
  if (s === '' || s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed += m[0].length;
  }
  return consumed === s.length && consumed > 0 ? total : undefined;
}

function dialHttp(host: string, port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const path = '/' + request.replace(/^\//, '');
    const r = httpRequest({ host, port, path, method: 'GET', timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error(`Get "http://${host}:${port}${path}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
    r.on('error', reject);
    r.end();
  });
}

function dialUdp(host: string, port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`reading from udp connection failed. err:'read udp ${host}:${port}: i/o timeout'`));
    }, 5000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m.toString('utf8'));
    });
    s.on('error', (e) => {
      clearTimeout(t);
      s.close();
      reject(new Error(`udp connection write failed. err:${e.message}`));
    });
    s.send(request, port, host);
  });
}

function udpServer(ctx: BuiltinContext, port: number, hostname: string): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.on('message', (msg, rinfo) => {
      const text = msg.toString('utf8').trim();
      const parts = text.split(' ');
      const client = `${rinfo.address}:${rinfo.port}`;
      let reply: string | undefined;
      if (parts[0] === 'hostname' || parts[0] === 'hostName') reply = hostname;
      else if (parts[0] === 'echo') reply = parts.slice(1).join(' ');
      else if (parts[0] === 'clientip') reply = client;
      log(ctx, `UDP ${text} from ${client}`);
      if (reply !== undefined) s.send(reply, rinfo.port, rinfo.address);
    });
    s.once('error', reject);
    s.bind(port, ctx.listenHost ?? ANY_HOST, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

/** agnhost netexec: HTTP (--http-port, 8080) and UDP (--udp-port, 8081; -1 disables) test endpoints. */
export const netexec: Builtin = async (args, ctx) => {
  const { flags } = parseFlags(args, { 'http-port': 'string', 'udp-port': 'string', 'sctp-port': 'string', 'http-override': 'string', 'udp-listen-addresses': 'string', 'tls-cert-file': 'string', 'tls-private-key-file': 'string' });
  const httpPort = Number(str(flags['http-port']) ?? 8080);
  const udpPort = Number(str(flags['udp-port']) ?? 8081);
  const override = str(flags['http-override']);
  const hostname = podHostname(ctx.env);
  const text = { 'Content-Type': 'text/plain; charset=utf-8' };
  let udp: UdpSocket | undefined;

  const exitLater = (code: number, waitMs: number) => {
    setTimeout(() => ctx.exit(code), waitMs).unref();
  };

  const route = async (method: string, path: string, q: URLSearchParams, res: ServerResponse, remote: string) => {
    switch (path) {
      case '/clientip':
        log(ctx, 'GET /clientip');
        return send(res, 200, remote, text);
      case '/echo': {
        const msg = q.get('msg') ?? '';
        const code = q.get('code') ?? '';
        log(ctx, `GET /echo?msg=${msg}&code=${code}`);
        if (code !== '' && !/^-?\d+$/.test(code)) return send(res, 200, `argument 'code' must be an integer or empty, got "${code}"\n`, text);
        return send(res, code === '' ? 200 : Number(code), msg, text);
      }
      case '/hostname':
      case '/hostName':
        log(ctx, `GET ${path}`);
        return send(res, 200, hostname, text);
      case '/healthz':
        log(ctx, 'GET /healthz');
        return send(res, 200, '', text);
      case '/shutdown':
        log(ctx, 'GET /shutdown');
        send(res, 200, '', text);
        return exitLater(0, 0);
      case '/exit': {
        const code = q.get('code') ?? '';
        const timeout = q.get('timeout') ?? '';
        const wait = q.get('wait') ?? '';
        log(ctx, `GET /exit?code=${code}&timeout=${timeout}&wait=${wait}`);
        const t = parseGoDuration(timeout);
        if (t === undefined) return send(res, 200, `argument 'timeout' must be a valid golang duration or empty, got "${timeout}"\n`, text);
        const w = parseGoDuration(wait);
        if (w === undefined) return send(res, 200, `argument 'wait' must be a valid golang duration or empty, got "${wait}"\n`, text);
        if (code !== '' && !/^\d+$/.test(code)) return send(res, 200, `argument 'code' must be an integer [0-127] or empty, got "${code}"\n`, text);
        send(res, 200, '', text);
        return exitLater(Number(code || 0), w);
      }
      case '/redirect': {
        const location = q.get('location') ?? '';
        const code = Number(q.get('code') || 303);
        log(ctx, `GET /redirect?location=${location}&code=${code}`);
        return send(res, code, '', { Location: location });
      }
      case '/dial': {
        const host = q.get('host') ?? '';
        const port = q.get('port') ?? '';
        const request = q.get('request') ?? '';
        const protocol = (q.get('protocol') ?? '').toLowerCase();
        const triesParam = q.get('tries') ?? '';
        log(ctx, `GET /dial?host=${host}&protocol=${protocol}&port=${port}&request=${request}&tries=${triesParam}`);
        const tries = triesParam ? Number(triesParam) : 1;
        if (!Number.isInteger(tries)) return send(res, 400, `tries parameter is invalid. strconv.Atoi: parsing "${triesParam}": invalid syntax\n`, text);
        if (!request) return send(res, 400, 'request parameter not specified. <nil>\n', text);
        if (!/^\d+$/.test(port)) return send(res, 400, `host and/or port param are invalid. address ${host}:${port}: invalid port\n`, text);
        if (protocol !== '' && protocol !== 'http' && protocol !== 'udp') return send(res, 400, `unsupported protocol. ${protocol}\n`, text);
        const dial = protocol === 'udp' ? dialUdp : dialHttp;
        const responses: string[] = [];
        const errors: string[] = [];
        let last = '';
        for (let i = 0; i < tries; i++) {
          try {
            last = await dial(host, Number(port), request);
            responses.push(last);
          } catch (e) {
            last = '';
            errors.push((e as Error).message);
          }
        }
        const output: Record<string, string[]> = {};
        if (last.length > 0) output.responses = responses;
        if (errors.length > 0) output.errors = errors;
        return send(res, 200, JSON.stringify(output), text);
      }
      case '/shell':
        // Real agnhost runs /bin/sh -c <cmd> inside its container. beeline's pods are host
        // processes with the whole host filesystem, so this is refused.
        log(ctx, `GET /shell?cmd=${q.get('shellCommand') ?? q.get('cmd') ?? ''}`);
        return send(res, 417, JSON.stringify({ error: 'beeline: /shell is not available in the lab (pods share the host filesystem)' }), text);
      case '/upload':
        log(ctx, 'GET /upload');
        return send(res, 200, JSON.stringify({ error: 'Unable to upload file.' }), text);
      default:
        void method;
        log(ctx, 'GET /');
        return send(res, 200, `NOW: ${goNow()}`, text);
    }
  };

  const server = httpServer(async (req, res) => {
    req.resume();
    const url = new URL(override ?? req.url ?? '/', 'http://x');
    await route(req.method ?? 'GET', url.pathname, url.searchParams, res, remoteAddr(req));
  });
  const port = await listen(server, ctx.listenHost ?? ANY_HOST, ctx.listenPort ?? httpPort);
  log(ctx, `Started HTTP server on port ${port}`);
  const ports = [port];
  if (udpPort !== -1) {
    udp = await udpServer(ctx, udpPort, hostname);
    ports.push(udp.address().port);
    log(ctx, `Started UDP server on port  ${udp.address().port}`);
  }
  return {
    ports,
    close: async () => {
      udp?.close();
      await closeServer(server);
    },
  };
};

/** agnhost serve-hostname: the hostname over HTTP (default), or raw --tcp / --udp, on --port (9376). */
export const serveHostname: Builtin = async (args, ctx) => {
  const { flags } = parseFlags(args, { tcp: 'bool', udp: 'bool', http: 'bool', close: 'bool', port: 'string' });
  const doTcp = flags.tcp === true;
  const doUdp = flags.udp === true;
  const doHttp = flags.http !== false;
  const port = ctx.listenPort ?? Number(str(flags.port) ?? 9376);
  const host = ctx.listenHost ?? ANY_HOST;
  const hostname = podHostname(ctx.env);
  if (doHttp && (doTcp || doUdp)) {
    log(ctx, "Can't server TCP/UDP mode and HTTP mode at the same time");
    ctx.exit(1);
    return { ports: [], close: async () => {} };
  }
  const closers: (() => Promise<void>)[] = [];
  const ports: number[] = [];
  if (doTcp) {
    const tcp = createTcpServer((c) => {
      log(ctx, `TCP request from ${c.remoteAddress}:${c.remotePort}`);
      c.on('error', () => {});
      c.end(hostname);
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, host, () => resolve());
    });
    ports.push((tcp.address() as { port: number }).port);
    closers.push(() => new Promise((r) => tcp.close(() => r())));
  }
  if (doUdp) {
    const s = createSocket('udp4');
    s.on('message', (_m, rinfo) => {
      log(ctx, `UDP request from ${rinfo.address}:${rinfo.port}`);
      s.send(hostname, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(doTcp ? ports[0]! : port, host, () => resolve());
    });
    if (!doTcp) ports.push(s.address().port);
    closers.push(async () => {
      s.close();
    });
  }
  if (doHttp) {
    const server = httpServer((req, res) => {
      req.resume();
      log(ctx, `HTTP request from ${remoteAddr(req)}`);
      send(res, 200, hostname, { 'Content-Type': 'text/plain; charset=utf-8', ...(flags.close ? { Connection: 'close' } : {}) });
    });
    ports.push(await listen(server, host, port));
    closers.push(() => closeServer(server));
  }
  log(ctx, `Serving on port ${ports[0]}.`);
  return {
    ports,
    close: async () => {
      await Promise.all(closers.map((c) => c()));
    },
  };
};

/** The pause container (registry.k8s.io/pause, agnhost pause): sleep until signalled. */
export const pause: Builtin = async () => idle();

const SUBCOMMANDS: Record<string, Builtin> = { netexec, 'serve-hostname': serveHostname, pause };

/** agnhost <subcommand> [flags]: dispatch; other subcommands are not implemented by beeline. */
export const agnhost: Builtin = async (args, ctx): Promise<Running> => {
  const [sub, ...rest] = args;
  const impl = sub === undefined ? undefined : SUBCOMMANDS[sub];
  if (!impl) {
    ctx.err(sub === undefined ? 'Error: agnhost needs a subcommand' : `Error: unknown command "${sub}" for "app"`);
    ctx.err(`beeline implements these agnhost subcommands: ${Object.keys(SUBCOMMANDS).join(', ')}`);
    ctx.exit(1);
    return { ports: [], close: async () => {} };
  }
  return impl(rest, ctx);
};
