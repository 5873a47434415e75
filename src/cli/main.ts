#!/usr/bin/env node
// Entry point of the `beeline` executable (bin/beeline runs this file).
import { main } from './program.js';

// A reader that stops reading (`beeline apply -f big.yaml | head -1`) closes the pipe: the
// command still runs to its end (an apply must not stop half-way), only its output goes nowhere.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

// Long-running commands (agent) resolve only when they have shut down.
const code = await main(process.argv.slice(2));
// A pipe's reader may be slower than we are: what is still queued for stdout
// and stderr goes out before the exit (process.exit() would drop it past the
// pipe's 64 KiB). An empty write calls back once everything before it is written.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => (s.writableLength === 0 ? resolve() : s.write('', () => resolve())))));
process.exit(code);
