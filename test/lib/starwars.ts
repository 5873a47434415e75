/**
 * Cilium's Star Wars demo on a 2-node lab, as the L7 suites start it:
 * examples/starwars.yaml applied unchanged, plus a manifest of the test's
 * own; and the pods of namespace empire as the tests look at them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../src/common/version.js';
import { beeline, beelineOk } from './cli.js';
import { until } from './wait.js';

export interface EmpirePod { name: string; node: string; ip: string; phase: string; restarts: number }

/** The pods of namespace empire: node, address, phase, container restarts. */
export function empirePods(env: Record<string, string>): EmpirePod[] {
  const r = beelineOk(['get', 'pods', '-n', 'empire', '-o', 'json'], env);
  const j = JSON.parse(r.stdout) as { items: { metadata: { name: string }; spec: { nodeName?: string }; status: { podIP?: string; phase?: string; containerStatuses?: { restartCount: number }[] } }[] };
  return j.items.map((p) => ({ name: p.metadata.name, node: p.spec.nodeName ?? '', ip: p.status.podIP ?? '', phase: p.status.phase ?? '', restarts: (p.status.containerStatuses ?? []).reduce((a, c) => a + c.restartCount, 0) }));
}

/**
 * A fresh 2-node lab `lab` with the Star Wars demo and `extra` (a manifest
 * of the test's own, one more pod in empire) applied; resolves with every pod
 * running once all five are.
 */
export async function starWarsLab(lab: string, extra: string): Promise<EmpirePod[]> {
  const env = { BEELINE_LAB: lab };
  beeline(['lab', 'down', '--name', lab, '-q']);
  beelineOk(['lab', 'up', '--nodes', '2', '--name', lab, '-q']);
  beelineOk(['apply', '-f', join(repoRoot, 'examples', 'starwars.yaml')], env);
  const file = join(mkdtempSync(join(tmpdir(), `bl-${lab}-`)), 'extra.yaml');
  writeFileSync(file, extra);
  beelineOk(['apply', '-f', file], env);
  return until('the Star Wars pods and the test\'s own running', () => {
    const ps = empirePods(env);
    return ps.length === 5 && ps.every((p) => p.phase === 'Running' && p.ip) ? ps : undefined;
  }, 90_000, 500);
}
