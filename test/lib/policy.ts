/**
 * Policy suites on a lab: apply or delete manifests through the real CLI,
 * wait until every agent enforces exactly the policies in the store, and ask
 * the agents' `policy trace` (the engine that fills the maps) about
 * connections in one batch.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { agentGet, agentPost } from '../../src/agent/client.js';
import type { TraceQuery } from '../../src/agent/policy.js';
import type { AgentReply } from '../../src/agent/replies.js';
import { readState } from '../../src/lab/state.js';
import { beelineBin, beelineOk } from './cli.js';
import { until } from './wait.js';

/** `beeline apply|delete -f -` of a manifest (kubectl apply/delete). */
export function kubectl(env: Record<string, string>, verb: 'apply' | 'delete', yaml: string): void {
  const r = spawnSync(beelineBin, [verb, '-f', '-', ...(verb === 'delete' ? ['--wait=false'] : [])], { input: yaml, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, `${verb}: ${r.stderr}`);
}

const POLICY_KINDS = ['networkpolicies', 'ciliumnetworkpolicies', 'ciliumclusterwidenetworkpolicies'];

/** `Kind/ns/name@resourceVersion` of every object of these kinds in the store. */
function storeVersions(env: Record<string, string>, kinds: string[]): Set<string> {
  const out = new Set<string>();
  for (const kind of kinds) {
    const items = (JSON.parse(beelineOk(['get', kind, '-A', '-o', 'json'], env).stdout).items ?? []) as { kind: string; metadata: { namespace?: string; name: string; resourceVersion: string } }[];
    for (const i of items) out.add(`${i.kind}/${i.metadata.namespace ? `${i.metadata.namespace}/` : ''}${i.metadata.name}@${i.metadata.resourceVersion}`);
  }
  return out;
}

const sameSet = (have: readonly string[], want: Set<string>) => have.length === want.size && have.every((h) => want.has(h));

/** Every agent of the lab has the store's policies and CiliumCIDRGroups (by resourceVersion), and no recomputation pending. */
export async function waitPoliciesProgrammed(lab: string): Promise<void> {
  const env = { BEELINE_LAB: lab };
  const want = storeVersions(env, POLICY_KINDS);
  const groups = storeVersions(env, ['ciliumcidrgroups']);
  const state = readState(lab)!;
  await until(`every agent enforcing ${[...want, ...groups].join(', ') || 'no policy'}`, async () => {
    for (const a of Object.values(state.agents)) {
      const st = await agentGet<AgentReply<'GetPolicyStatus'>>(a.socket, '/v1/policy/status');
      if (!st.synced || !sameSet(st.policies, want) || !sameSet(st.cidrGroups, groups)) return false;
    }
    return true;
  }, 30_000, 100);
}

/** What `policy trace` says of a connection: allowed, and the drop reason of the first direction that denies (egress at the source first). */
export interface Traced {
  allowed: boolean;
  reason: number | undefined;
}

/** `policy trace` for a batch of queries through one node's agent (`node`, default the first). */
export async function traceBatch(lab: string, queries: TraceQuery[], node?: string): Promise<Traced[]> {
  const state = readState(lab)!;
  const agent = node ? state.agents[node] : Object.values(state.agents)[0];
  assert.ok(agent, `an agent on ${node ?? 'some node'}`);
  const answers = await agentPost<AgentReply<'TracePolicy'>>(agent.socket, '/v1/policy/trace', { queries });
  return answers.map((a) => ({ allowed: a.allowed, reason: a.egress?.dropReason ?? a.ingress?.dropReason }));
}
