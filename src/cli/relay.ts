/**
 * `beeline relay`: the cluster-wide Observer (hubble-relay's part) and the
 * ServiceMap service, merging every node agent's flows. `lab up` starts one
 * per lab; it can also run by hand against any set of nodes.
 */
import { Command } from 'commander';
import { UsageError } from '../common/errors.js';
import { logger } from '../common/log.js';
import { untilSignal } from '../common/signal.js';
import { parseDuration } from '../common/duration.js';
import { version } from '../common/version.js';
import { startGrpcServer } from '../api/grpc.js';
import { Relay, RELAY_DEFAULTS, type RelayPeer } from '../observer/relay.js';
import { labObserverPeers, relaySocketPath } from '../lab/observer-paths.js';

/** `name=address` of a --peer flag (address: unix:///path or host:port). */
export function parsePeer(text: string): RelayPeer {
  const eq = text.indexOf('=');
  const name = eq > 0 ? text.slice(0, eq) : '';
  const address = eq > 0 ? text.slice(eq + 1) : '';
  if (!name || !address || !(address.startsWith('unix:') || /^[^/]+:\d+$/.test(address))) {
    throw new UsageError(`relay --peer ${text}: expected NAME=ADDRESS, the address unix:///path/observer.sock or host:port`);
  }
  return { name, address };
}

/** A --listen address: unix:///path or host:port (a bare path is taken as a unix socket). */
export function parseListen(text: string): string {
  if (text.startsWith('unix:')) return text;
  if (text.startsWith('/')) return `unix://${text}`;
  if (/^[^/]*:\d+$/.test(text)) return text;
  throw new UsageError(`relay --listen ${text}: expected unix:///path/relay.sock or host:port (127.0.0.1:4245)`);
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function registerRelay(program: Command): void {
  program
    .command('relay')
    .description("run the relay: one Observer (GetFlows, ServerStatus, GetNodes) and ServiceMap for all nodes (started by lab up)")
    .option('--listen <address>', 'where to serve, repeatable: unix:///path/relay.sock or 127.0.0.1:4245 (default with --lab: the lab\'s relay/observer.sock)', collect, [])
    .option('--peer <name=address>', "a node's Observer, repeatable: node1=unix:///run/beeline/labs/demo/nodes/node1/observer.sock", collect, [])
    .option('--lab <name>', "the nodes of this lab (re-read on every request)")
    .option('--sort-buffer <duration>', 'how long a flow may wait for older ones from a quieter node', `${RELAY_DEFAULTS.sortBufferMs}ms`)
    .option('--sort-buffer-len <n>', 'flows held for sorting before the nodes ahead are paused', String(RELAY_DEFAULTS.maxSortBuffer))
    .option('--dial-timeout <duration>', 'how long a node may take to answer before it counts as unavailable', `${RELAY_DEFAULTS.dialTimeoutMs}ms`)
    .action(async (o: { listen: string[]; peer: string[]; lab?: string; sortBuffer: string; sortBufferLen: string; dialTimeout: string }) => {
      const fixed = o.peer.map(parsePeer);
      if (!o.lab && fixed.length === 0) throw new UsageError('relay: no nodes to relay', 'give --lab NAME or one --peer NAME=ADDRESS per node');
      const listen = o.listen.map(parseListen);
      if (listen.length === 0) {
        if (!o.lab) throw new UsageError('relay: no --listen address', 'e.g. --listen unix:///run/beeline/relay.sock or --listen 127.0.0.1:4245');
        listen.push(`unix://${relaySocketPath(o.lab)}`);
      }
      const maxSortBuffer = Number(o.sortBufferLen);
      if (!Number.isInteger(maxSortBuffer) || maxSortBuffer < 1) throw new UsageError(`relay --sort-buffer-len ${o.sortBufferLen}: expected a positive integer`);
      const lab = o.lab;
      const peers = (): RelayPeer[] => {
        const all = lab ? labObserverPeers(lab) : [];
        // --peer next to --lab adds nodes (or overrides one by name).
        const byName = new Map(all.map((p) => [p.name, p]));
        for (const p of fixed) byName.set(p.name, p);
        return [...byName.values()];
      };
      // A lab that is not up is a mistake now; later, a failing lookup only means no nodes for that request.
      const first = peers();
      const log = logger('relay');
      const relay = new Relay({
        peers,
        version,
        sortBufferMs: parseDuration(o.sortBuffer, '--sort-buffer'),
        maxSortBuffer,
        dialTimeoutMs: parseDuration(o.dialTimeout, '--dial-timeout'),
        log,
      });
      const server = await startGrpcServer(listen, [relay.service(), relay.serviceMapService()]);
      log.info('serving', { addresses: server.addresses.join(','), peers: first.map((p) => p.name).join(',') });
      await untilSignal();
      log.info('stopping');
      await server.close();
    });
}
