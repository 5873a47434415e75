/**
 * The recorded Star Wars flows (test/fixtures/ui, see its README): the UI's
 * tests, the service map's and the UI benchmark read them through here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Flow } from '../../src/api/generated/flow/Flow.js';
import { repoRoot } from '../../src/common/version.js';

export function recordedFlows(): Flow[] {
  return readFileSync(join(repoRoot, 'test/fixtures/ui/starwars-flows.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { flow: Flow }).flow);
}
