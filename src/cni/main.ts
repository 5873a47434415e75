/**
 * Entry point of bin/beeline-cni: environment and stdin in, result or error
 * object on stdout, exit status 0 or 1, as a container runtime calls it.
 */
import { defaultDeps, runPlugin } from './plugin.js';

async function readStdin(): Promise<string> {
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk as string;
  return text;
}

const out = await runPlugin(process.env, readStdin, defaultDeps());
process.stdout.write(out.stdout, () => process.exit(out.exitCode));
