/**
 * `beeline ui`: the web UI (service map, flow table, suggested policy) on a
 * loopback port, from the lab's relay (or any relay with --server). Like
 * `cilium hubble ui`, without a port-forward: the server reaches the relay
 * over its unix socket.
 */
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../common/errors.js';
import { untilSignal } from '../common/signal.js';
import { repoRoot } from '../common/version.js';
import { resolveLabName } from '../lab/state.js';
import { UI_DEFAULT_PORT } from '../ui/defaults.js';
import { startUiServer } from '../ui/server.js';
import { resolveServer, serverOption } from './observe.js';
import { labOption } from './options.js';


export function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n > 65535) throw new UsageError(`--port ${v}: not a port`, `0-65535 (0: any free port; default ${UI_DEFAULT_PORT})`);
  return n;
}

export function registerUi(program: Command): void {
  program
    .command('ui')
    .description('serve the web UI (service map, flows, suggested policy) on a loopback port and print its URL; like cilium hubble ui')
    .addOption(labOption())
    .addOption(serverOption())
    .option('--address <ip>', 'where to listen (127.0.0.1: only this machine)', '127.0.0.1')
    .option('--port <port>', `the port (0: any free one)`, String(UI_DEFAULT_PORT))
    .addOption(new Option('--url-file <path>', 'also write the URL to this file once listening (lab up reads it)').hideHelp())
    .action(async (o: { lab?: string; server?: string; address: string; port: string; urlFile?: string }) => {
      const relay = resolveServer(o);
      const lab = o.server === undefined ? resolveLabName(o.lab) : o.lab;
      const ui = await startUiServer({
        relay,
        ...(lab ? { lab } : {}),
        address: o.address,
        port: parsePort(o.port),
        staticDir: join(repoRoot, 'dist', 'ui'),
        log: (m) => process.stderr.write(`ui: ${m}\n`),
      });
      process.stdout.write(`beeline ui: ${ui.url} (relay ${relay})\n`);
      if (o.urlFile) writeFileSync(o.urlFile, ui.url + '\n');
      await untilSignal();
      await ui.close();
    });
}
