#!/usr/bin/env node
// Entry point of the `beeline` executable (bin/beeline runs this file).
import { main } from './program.js';

// Long-running commands (agent) resolve only when they have shut down.
process.exit(await main(process.argv.slice(2)));
