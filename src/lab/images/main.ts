// Entry point of beeline's built-in images:
//   node dist/src/lab/images/main.js <builtin> [args...]
// Runs the named implementation in the foreground (the container's process), logs to
// stdout/stderr, and exits 0 on SIGTERM/SIGINT once its servers have closed.
import type { BuiltinContext, Running } from './common.js';
import { BUILTINS, LISTEN_OVERRIDE_ENV } from './registry.js';

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  const load = name === undefined ? undefined : BUILTINS[name];
  if (!load) {
    process.stderr.write(`beeline image: unknown built-in ${JSON.stringify(name ?? '')}; known: ${Object.keys(BUILTINS).join(', ')}\n`);
    process.exit(2);
  }
  const ctx: BuiltinContext = {
    env: process.env,
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    exit: (code) => process.exit(code),
  };
  const override = process.env[LISTEN_OVERRIDE_ENV];
  if (override) {
    const i = override.lastIndexOf(':');
    const host = (i < 0 ? override : override.slice(0, i)).replace(/^\[(.*)\]$/, '$1');
    const port = i < 0 ? '' : override.slice(i + 1);
    if (host) ctx.listenHost = host;
    if (port) ctx.listenPort = Number(port);
  }
  let running: Running | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void (running ? running.close() : Promise.resolve()).then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`beeline image ${name}: error while stopping on ${signal}: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const impl = await load();
  try {
    running = await impl(args, ctx);
  } catch (e) {
    process.stderr.write(`${name}: ${(e as Error).message}\n`);
    process.exit(1);
  }
  if (stopping) await running.close();
}

void main(process.argv.slice(2));
