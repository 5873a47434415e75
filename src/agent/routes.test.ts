import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { API_DIR, PROTOS } from '../api/proto.js';
import { AgentContractError } from '../common/errors.js';
import { agentRequest } from './client.js';
import { agentRoute, agentRoutes, mountAgentRoutes, type AgentHandlers } from './routes.js';
import { ApiServer } from './server.js';
import type { HealthReply } from './replies.js';
import type { AgentStatus, EndpointDeleteResult, IpamAllocation, MapStatus, MonitorLine } from './types.js';

/** The contract files of another api/ directory, loaded as src/api/proto.ts loads ours. */
function loadRoot(apiDir: string): protobuf.Root {
  const r = new protobuf.Root();
  r.resolvePath = (_o, target) => (target.startsWith('google/protobuf/') ? target : join(apiDir, target));
  r.loadSync(PROTOS, { keepCase: true });
  r.resolveAll();
  return r;
}

/** api/agent/agent.proto edited by `edit`, loaded from a copy. */
function editedContract(edit: (text: string) => string): protobuf.Root {
  const dir = mkdtempSync(join(tmpdir(), 'beeline-agent-api-'));
  try {
    cpSync(API_DIR, dir, { recursive: true });
    const p = join(dir, 'agent/agent.proto');
    const before = readFileSync(p, 'utf8');
    const after = edit(before);
    assert.notEqual(after, before, 'the edit changed the contract');
    writeFileSync(p, after);
    return loadRoot(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The routes the agent served before they were mounted from the contract: the contract must keep every one where it was. */
const ROUTES_BEFORE_THE_CONTRACT = [
  'GET /healthz', 'GET /v1/status', 'GET /v1/metrics/datapath', 'POST /v1/ipam/allocate', 'POST /v1/ipam/release',
  'GET /v1/endpoints', 'PUT /v1/endpoints', 'DELETE /v1/endpoints', 'GET /v1/nodes', 'GET /v1/identities',
  'GET /v1/identities/references', 'GET /v1/identity', 'GET /v1/bpf/endpoints', 'GET /v1/bpf/ipcache', 'GET /v1/bpf/ct',
  'GET /v1/services', 'GET /v1/services/status', 'GET /v1/bpf/lb', 'POST /v1/bpf/ct/gc', 'GET /v1/policy/status',
  'GET /v1/policy', 'POST /v1/policy/trace', 'GET /v1/policy/cookies', 'GET /v1/bpf/policy', 'GET /v1/observer', 'GET /v1/fqdn/cache',
];

test('the contract\'s route table: every rpc has a method and a path, none twice, and they are the routes the agent served before', () => {
  const routes = agentRoutes();
  assert.equal(routes.length, ROUTES_BEFORE_THE_CONTRACT.length);
  for (const r of routes) {
    assert.match(r.method, /^(GET|PUT|POST|DELETE)$/, r.rpc);
    assert.match(r.path, /^\/[a-z0-9/]+$/, r.rpc);
    assert.match(r.request, /^agent\./);
    assert.match(r.response, /^agent\./);
  }
  const keys = routes.map((r) => `${r.method} ${r.path}`);
  assert.equal(new Set(keys).size, keys.length, 'no method+path twice');
  assert.equal(new Set(routes.map((r) => r.rpc)).size, routes.length, 'no rpc name twice');
  assert.deepEqual([...keys].sort(), [...ROUTES_BEFORE_THE_CONTRACT].sort());
  // Bare replies are today's JSON arrays (and the two values that may be null).
  assert.deepEqual(routes.filter((r) => r.bare).map((r) => r.rpc).sort(), [
    'GetDatapathMetrics', 'GetObserverStatus', 'GetPolicyCookies', 'GetServicesStatus', 'ListBpfConntrack', 'ListBpfEndpoints',
    'ListBpfIpcache', 'ListBpfPolicy', 'ListEndpoints', 'ListFqdnCache', 'ListIdentities', 'ListIdentityReferences', 'ListNodes', 'TracePolicy',
  ]);
  assert.deepEqual(agentRoute('GetStatus'), { rpc: 'GetStatus', method: 'GET', path: '/v1/status', request: 'agent.GetStatusRequest', response: 'agent.AgentStatus', bare: false });
  assert.equal(agentRoute('DeleteEndpoint').method, 'DELETE');
});

test('a contract the HTTP layer cannot serve is refused, naming the rpc', () => {
  const cases: [string, (t: string) => string, RegExp][] = [
    ['no route', (t) => t.replace(' { option (http) = { method: "GET" path: "/v1/nodes" }; }', ' {}'), /agent\.Agent\.ListNodes: no \(agent\.http\) option/],
    ['a route twice', (t) => t.replace('path: "/v1/nodes"', 'path: "/v1/status"'), /ListNodes: GET \/v1\/status is GetStatus's route too/],
    ['an unknown method', (t) => t.replace('method: "GET" path: "/v1/nodes"', 'method: "PATCH" path: "/v1/nodes"'), /ListNodes: \(agent\.http\)\.method PATCH/],
    ['a query in the path', (t) => t.replace('path: "/v1/nodes"', 'path: "/v1/nodes?all=1"'), /ListNodes: \(agent\.http\)\.path \/v1\/nodes\?all=1/],
    ['a stream', (t) => t.replace('returns (RemoteNodeList)', 'returns (stream RemoteNodeList)'), /ListNodes: streaming rpcs/],
    ['a bare message of two fields', (t) => t.replace('repeated RemoteNode nodes = 1;', 'repeated RemoteNode nodes = 1;\n    string more = 2;'), /agent\.RemoteNodeList: \(agent\.bare\) needs exactly one field, has 2/],
  ];
  for (const [what, edit, re] of cases) {
    const root = editedContract(edit);
    assert.throws(() => agentRoutes(root), (e: unknown) => e instanceof AgentContractError && e.code === 'BL_ERR_AGENT_CONTRACT' && re.test(e.message), what);
  }
});

/** Handlers for every rpc that answer which rpc was called and what it was given. */
function echoHandlers(): AgentHandlers {
  const handlers: Record<string, unknown> = {};
  for (const r of agentRoutes()) handlers[r.rpc] = ({ body, query }: { body: unknown; query: URLSearchParams }) => ({ rpc: r.rpc, body: body ?? null, query: Object.fromEntries(query) });
  return handlers as unknown as AgentHandlers;
}

test('mounting refuses an rpc without a handler and a handler without an rpc, naming them', () => {
  const { ListNodes: _gone, ...rest } = echoHandlers();
  assert.throws(() => mountAgentRoutes(new ApiServer(), rest as AgentHandlers), (e: unknown) => e instanceof AgentContractError && /rpcs without a handler: ListNodes/.test(e.message));
  const extra = { ...echoHandlers(), ListPods: () => [] } as unknown as AgentHandlers;
  assert.throws(() => mountAgentRoutes(new ApiServer(), extra), (e: unknown) => e instanceof AgentContractError && /handlers without an rpc: ListPods/.test(e.message));
  // An edited contract with one rpc fewer: today's handlers no longer all have an rpc.
  const fewer = agentRoutes(editedContract((t) => t.replace(/\n\s*\/\/ The flow observer[^\n]*\n[^\n]*GetObserverStatus[^\n]*/, '')));
  assert.throws(() => mountAgentRoutes(new ApiServer(), echoHandlers(), fewer), /handlers without an rpc: GetObserverStatus/);
});

test('every rpc is served at its method and path, with its query and body, and errors as before', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-routes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'agent.sock');
  const api = new ApiServer();
  mountAgentRoutes(api, echoHandlers());
  await api.listen(sock);
  try {
    for (const r of agentRoutes()) {
      const body = r.method === 'POST' || r.method === 'PUT' ? { x: 1 } : undefined;
      const res = await agentRequest<{ rpc: string; body: unknown; query: Record<string, string> }>(sock, r.method, `${r.path}?a=b`, body);
      assert.equal(res.status, 200, `${r.method} ${r.path}`);
      assert.deepEqual(res.body, { rpc: r.rpc, body: body ?? null, query: { a: 'b' } });
    }
    const other = await agentRequest<{ error: { code: string } }>(sock, 'PATCH', '/v1/status');
    assert.equal(other.status, 404);
    assert.equal(other.body.error.code, 'BL_ERR_NOT_FOUND');
  } finally {
    await api.close();
  }
});

test('a hand reply type that drifts from the contract fails the build', { timeout: 120_000 }, () => {
  // A field the contract does not have, in a copy of the checks: tsc must refuse it, naming the field.
  const dir = mkdtempSync(join(tmpdir(), 'beeline-drift-'));
  const src = join(API_DIR, '../src');
  try {
    writeFileSync(join(dir, 'drift.ts'), [
      `import type { Conforms, Mirrors } from '${src}/api/conform.js';`,
      `import type { AgentStatus__Output } from '${src}/api/generated/agent/AgentStatus.js';`,
      `import type { Endpoint__Output } from '${src}/api/generated/agent/Endpoint.js';`,
      `import type { AgentStatus, EndpointModel } from '${src}/agent/types.js';`,
      'export type Same = Conforms<Mirrors<AgentStatus, AgentStatus__Output>>;',
      'export type Extra = Conforms<Mirrors<AgentStatus & { clusterName: string }, AgentStatus__Output>>;',
      "export type Retyped = Conforms<Mirrors<Omit<EndpointModel, 'identity'> & { identity: string }, Endpoint__Output>>;",
      "export type Missing = Conforms<Mirrors<Omit<EndpointModel, 'createdAt'>, Endpoint__Output>>;",
      '',
    ].join('\n'));
    const tsc = join(API_DIR, '../node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', join(dir, 'drift.ts')], { encoding: 'utf8', cwd: dir });
    const out = r.stdout + r.stderr;
    assert.notEqual(r.status, 0, out);
    const errors = out.split('\n').filter((l) => l.includes('error TS'));
    assert.equal(errors.length, 3, out);
    assert.match(errors.find((l) => l.includes('(6,'))!, /onlyInHand: "clusterName"/);
    assert.match(errors.find((l) => l.includes('(7,'))!, /identity: \{ hand: string; contract: number; \}/);
    assert.match(errors.find((l) => l.includes('(8,'))!, /onlyInContract: "createdAt"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replies derived from the contract (Reply): the message\'s fields, sub-messages present, no synthetic oneof keys', () => {
  // Each record must name every key of the TypeScript type and no other (tsc checks);
  // the test checks those keys are the proto message's fields.
  const keys = {
    'agent.AgentStatus': { node: 1, lab: 1, version: 1, health: 1, uptimeSeconds: 1, pid: 1, nodeIP: 1, podCIDR: 1, cniNetwork: 1, ipam: 1, kvstore: 1, datapath: 1, endpoints: 1, nodes: 1, proxy: 1, dnsProxy: 1, resync: 1, hostNetns: 1, netns: 1, kubernetes: 1 } satisfies Record<keyof AgentStatus, 1>,
    'agent.MapStatus': { name: 1, type: 1, maxEntries: 1, entries: 1 } satisfies Record<keyof MapStatus, 1>,
    'agent.IpamAllocation': { ip: 1, podCIDR: 1, gateway: 1, mtu: 1 } satisfies Record<keyof IpamAllocation, 1>,
    'agent.EndpointDeleteResult': { deleted: 1, id: 1 } satisfies Record<keyof EndpointDeleteResult, 1>,
    'agent.MonitorLine': { node: 1, data: 1, lost: 1 } satisfies Record<keyof MonitorLine, 1>,
    'agent.HealthReply': { health: 1 } satisfies Record<keyof HealthReply, 1>,
  };
  const root = loadRoot(API_DIR);
  for (const [name, record] of Object.entries(keys)) {
    assert.deepEqual(Object.keys(record).sort(), root.lookupType(name).fieldsArray.map((f) => f.name).sort(), name);
  }
  // Sub-messages are present (the agent always writes them): no null check to read one.
  const status = { datapath: { maps: [{ name: 'bl_ct4_global', type: 'lru_hash', maxEntries: 2 }] }, kvstore: { state: 'ok' } } as AgentStatus;
  assert.equal(status.datapath.maps[0]!.entries, undefined, 'entries stays optional (?maps=0)');
  assert.equal(status.kvstore.state, 'ok');
  // @ts-expect-error a sub-message is never null in a reply
  const none: AgentStatus['kvstore'] = null;
  assert.equal(none, null);
  // @ts-expect-error an enum is its names only (`degraded`), as the agent writes it
  const numeric: AgentStatus['health'] = 1;
  assert.equal(numeric, 1);
});
