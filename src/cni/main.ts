/**
 * Entry point of bin/beeline-cni: environment and stdin in, result or error
 * object on stdout, exit status 0 or 1, as a container runtime calls it.
 *
 * Runs once per pod start, so it starts lean: stdin and stdout are read and
 * written with plain fd calls; process.stdin/stdout would first build stream
 * objects and load the modules behind them (a few ms per ADD, measured by
 * bench/control-plane.ts's cni arm).
 */
import { readFileSync, writeSync } from 'node:fs';
import { defaultDeps, runPlugin } from './plugin.js';

async function readStdin(): Promise<string> {
  try {
    return readFileSync(0, 'utf8');
  } catch (e) {
    // A non-blocking stdin (EAGAIN) is read as a stream.
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    let text = '';
    process.stdin.setEncoding('utf8');
    for await (const chunk of process.stdin) text += chunk as string;
    return text;
  }
}

function writeStdout(text: string, done: () => void): void {
  const buf = Buffer.from(text);
  try {
    for (let off = 0; off < buf.length; ) off += writeSync(1, buf, off);
  } catch (e) {
    // A non-blocking stdout that is full (EAGAIN): let the stream wait for it.
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    process.stdout.write(buf, done);
    return;
  }
  done();
}

const deps = defaultDeps();
deps.trace?.('loaded');
const out = await runPlugin(process.env, readStdin, deps);
writeStdout(out.stdout, () => {
  deps.trace?.('done');
  process.exit(out.exitCode);
});
