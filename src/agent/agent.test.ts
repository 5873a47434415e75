import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from './agent.js';
import { agentGet, agentRequest } from './client.js';
import type { DatapathInfo, MetricRow, NodeDatapath } from './datapath.js';
import type { AgentConfig, AgentStatus } from './types.js';
import { AgentUnreachableError } from '../common/errors.js';

/** A datapath that records its lifecycle: the agent's seam for tests without a kernel. */
class FakeDatapath implements NodeDatapath {
  calls: string[] = [];
  async start() {
    this.calls.push('start');
  }
  info(): DatapathInfo {
    return {
      mode: 'fake',
      attachments: [{ iface: 'eth0', direction: 'ingress', program: 'bl_from_netdev' }],
      maps: [{ name: 'bl_metrics', type: 'percpu_hash', maxEntries: 1024, entries: 1 }],
      events: { read: 3, lost: 0 },
    };
  }
  metrics(): MetricRow[] {
    return [{ reason: 0, reasonName: 'Forwarded', direction: 'ingress', packets: 2n ** 40n, bytes: 100n }];
  }
  async close() {
    this.calls.push('close');
  }
}

function config(dir: string): AgentConfig {
  return {
    lab: 't',
    node: 'node1',
    netns: 'bl-t-node1',
    stateDir: dir,
    nodeIP: '172.18.0.11',
    uplink: 'eth0',
    podCIDR: '10.0.1.0/24',
    clusterPoolCIDR: '10.0.0.0/16',
    routing: 'tunnel',
    socket: join(dir, 'agent.sock'),
    pinDir: join(dir, 'bpf'),
    bpfObjectDir: dir,
    kvstore: '',
    monitorAggregation: 'medium',
    ctMapSize: 65536,
  };
}

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never;

test('the agent serves status and datapath metrics over its unix socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-agent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dp = new FakeDatapath();
  const agent = new Agent(config(dir), dp, quiet);
  await agent.start();
  try {
    const st = await agentGet<AgentStatus>(join(dir, 'agent.sock'), '/v1/status');
    assert.equal(st.node, 'node1');
    assert.equal(st.health, 'ok');
    assert.equal(st.kvstore.state, 'disabled');
    assert.equal(st.datapath.mode, 'fake');
    assert.equal(st.datapath.attachments[0]!.program, 'bl_from_netdev');
    const m = await agentGet<{ packets: string }[]>(join(dir, 'agent.sock'), '/v1/metrics/datapath');
    assert.equal(m[0]!.packets, String(2n ** 40n), '64-bit counters keep full precision');
    const nf = await agentRequest<{ error: { code: string } }>(join(dir, 'agent.sock'), 'GET', '/v1/nope');
    assert.equal(nf.status, 404);
    assert.equal(nf.body.error.code, 'BL_ERR_NOT_FOUND');
  } finally {
    await agent.stop();
  }
  assert.deepEqual(dp.calls, ['start', 'close']);
});

test('a stopped agent is reported unreachable with a hint', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-agent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await assert.rejects(agentGet(join(dir, 'missing.sock'), '/v1/status'), (e: unknown) => e instanceof AgentUnreachableError && e.code === 'BL_ERR_AGENT_UNREACHABLE');
});
