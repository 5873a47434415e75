import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type IncomingMessage } from 'node:http';
import { Agent, datapathState } from './agent.js';
import { statusLines } from '../cli/status.js';
import { agentGet, agentRequest } from './client.js';
import type { DatapathInfo } from './datapath.js';
import type { AgentStatus, EndpointCreateRequest, EndpointModel, IpamAllocation, MonitorLine } from './types.js';
import { ndjsonSplitter } from '../monitor/stream.js';
import { MONITOR_QUEUE_LINES } from '../monitor/subscriber.js';
import { until } from '../../test/lib/wait.js';
import { FakeDatapath, agentTestConfig as config, fakeIpam, quiet } from '../../test/lib/fake-datapath.js';
import { AgentRunningError, AgentUnreachableError, BeelineError, CniError } from '../common/errors.js';
import { agentApi } from '../cni/agentapi.js';
import { pluginConfig, renderConflist } from '../cni/conflist.js';
import { runPlugin } from '../cni/plugin.js';
import { openNodeIpam, type NodeIpam } from './ipam.js';
import { agentCall } from './routes.js';
import { hostIfname } from '../cni/config.js';
import { FakeLinks } from '../../test/lib/fake-links.js';
import { MAP_ENTRIES_MAX_AGE_MS } from './observer.js';

async function startAgent(t: { after: (fn: () => void) => void }, dp = new FakeDatapath(), links = new FakeLinks(), ipam: (podCIDR: string) => NodeIpam = fakeIpam) {
  const dir = mkdtempSync(join(tmpdir(), 'bl-agent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const agent = new Agent(config(dir), { datapath: dp, ipam, podCIDR: async () => '10.0.1.0/24', log: quiet, podLinks: links });
  await agent.start();
  return { agent, dp, dir, links, sock: join(dir, 'agent.sock') };
}

/** The veth pair CNI makes for container `id` (in fake links), and the endpoint request for it. */
function plumb(links: FakeLinks, id: string, ip: string): EndpointCreateRequest {
  const netns = `/run/netns/${id}`;
  const host = hostIfname(id, 'eth0');
  if (!links.pods.has(netns)) links.addPod(netns);
  if (!links.hostLink(host)) links.createVeth(netns, 'eth0', host);
  return {
    containerID: id,
    ifname: 'eth0',
    netns,
    hostIfname: host,
    ipv4: ip,
    mac: links.podLink(netns, 'eth0')!.mac,
    hostMac: links.hostLink(host)!.mac,
    pod: { namespace: 'default', name: id },
  };
}

test('the agent serves status and datapath metrics over its unix socket', async (t) => {
  const { agent, dp, sock } = await startAgent(t);
  try {
    const st = await agentGet<AgentStatus>(sock, '/v1/status');
    assert.equal(st.node, 'node1');
    assert.equal(st.health, 'ok');
    assert.equal(st.kvstore.state, 'disabled');
    assert.equal(st.podCIDR, '10.0.1.0/24');
    assert.equal(st.cniNetwork, 'beeline');
    assert.equal(st.datapath.mode, 'fake');
    assert.equal(st.datapath.maps[0]!.entries, 1);
    // ?maps=0 (the CNI plugin, the kubelet): the same status without walking the maps to count entries.
    const brief = await agentGet<AgentStatus>(sock, '/v1/status?maps=0');
    assert.equal(brief.cniNetwork, 'beeline');
    assert.equal(brief.datapath.maps[0]!.entries, undefined);
    const m = await agentGet<{ packets: string }[]>(sock, '/v1/metrics/datapath');
    assert.equal(m[0]!.packets, String(2n ** 40n), '64-bit counters keep full precision');
    const nf = await agentRequest<{ error: { code: string } }>(sock, 'GET', '/v1/nope');
    assert.equal(nf.status, 404);
    assert.equal(nf.body.error.code, 'BL_ERR_NOT_FOUND');
  } finally {
    await agent.stop();
  }
  assert.deepEqual(dp.calls, ['start', 'close']);
});

test('status reports the datapath\'s health checks: degraded with the problems named, and `beeline status` prints it', async (t) => {
  const { agent, dp, sock } = await startAgent(t);
  try {
    assert.deepEqual(datapathState(undefined), { state: 'ok' }, 'nothing to check: ok');
    let st = await agentGet<AgentStatus>(sock, '/v1/status?maps=0');
    assert.equal(st.datapath.state, 'ok');
    assert.equal(st.datapath.message, undefined);
    dp.healthProblems = ['program bl_from_container is no longer attached to lxc1 ingress', 'map bl_ct4 pinned at /x: maxEntries 10, expected 20', 'a', 'b', 'c'];
    st = await agentGet<AgentStatus>(sock, '/v1/status?maps=0');
    assert.equal(st.datapath.state, 'degraded');
    assert.equal(st.datapath.message, 'program bl_from_container is no longer attached to lxc1 ingress; map bl_ct4 pinned at /x: maxEntries 10, expected 20; a; and 2 more');
    assert.equal(st.health, 'degraded', 'the agent is degraded with its datapath');
    const line = statusLines(st).find(([k]) => k === 'Datapath')![1];
    assert.match(line, /^Degraded   fake \(program bl_from_container is no longer attached to lxc1 ingress; /);
    dp.healthProblems = [];
    st = await agentGet<AgentStatus>(sock, '/v1/status?maps=0');
    assert.equal(st.datapath.state, 'ok');
    assert.equal(statusLines(st).find(([k]) => k === 'Datapath')![1], 'Ok   fake');
  } finally {
    await agent.stop();
  }
});

test('metrics scrapes read the maps\' entry counts at most once per MAP_ENTRIES_MAX_AGE_MS', async (t) => {
  // Counting entries walks every key of every map: the fake counts the walks.
  class CountingDatapath extends FakeDatapath {
    walks = 0;
    override info(opts: { countEntries?: boolean } = {}): DatapathInfo {
      if (opts.countEntries) this.walks++;
      return super.info(opts);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'bl-agent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const metricsSock = join(dir, 'metrics.sock');
  const dp = new CountingDatapath();
  const agent = new Agent({ ...config(dir), observer: { metrics: { socket: metricsSock, families: ['flow'] } } }, { datapath: dp, ipam: fakeIpam, podCIDR: async () => '10.0.1.0/24', log: quiet });
  await agent.start();
  const scrape = () =>
    new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: metricsSock, agent: false, path: '/metrics' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode}: ${body}`))));
      });
      req.on('error', reject);
      req.end();
    });
  try {
    assert.ok(MAP_ENTRIES_MAX_AGE_MS >= 10_000);
    const before = dp.walks;
    const first = await scrape();
    assert.match(first, /^beeline_bpf_map_entries\{map_name="bl_metrics"\} 1$/m);
    assert.equal(dp.walks, before + 1, 'the first scrape walks the maps');
    const second = await scrape();
    assert.match(second, /^beeline_bpf_map_pressure\{map_name="bl_metrics"\} /m);
    assert.equal(dp.walks, before + 1, 'a second scrape within the interval does not walk them again');
  } finally {
    await agent.stop();
  }
});

test('IPAM and endpoints: allocate, register, list, delete idempotently, persist across a restart', async (t) => {
  // One pool for both agents, as the real one is kept in the state directory: the restored endpoint's address is still its own.
  const pool = fakeIpam('10.0.1.0/24');
  const { agent, dp, sock, dir, links } = await startAgent(t, undefined, undefined, () => pool);
  const epReq = (id: string, ip: string) => plumb(links, id, ip);
  try {
    const a = await agentRequest<IpamAllocation>(sock, 'POST', '/v1/ipam/allocate', { owner: 'c1/eth0' });
    assert.equal(a.status, 200);
    assert.equal(a.body.ip, '10.0.1.2');
    assert.equal(a.body.gateway, '10.0.1.1');
    const again = await agentRequest<IpamAllocation>(sock, 'POST', '/v1/ipam/allocate', { owner: 'c1/eth0' });
    assert.equal(again.body.ip, '10.0.1.2', 'same owner, same address');
    const put = await agentRequest<EndpointModel>(sock, 'PUT', '/v1/endpoints', epReq('c1', a.body.ip));
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.id, 1);
    assert.equal(put.body.state, 'ready');
    assert.equal(dp.lxc.get('10.0.1.2')?.id, 1);
    const list = await agentGet<EndpointModel[]>(sock, '/v1/endpoints');
    assert.equal(list.length, 1);
    // Another container naming c1's address: IPAM gave it to c1, not to c2.
    await agentRequest(sock, 'POST', '/v1/ipam/allocate', { owner: 'c2/eth0' });
    const clash = await agentRequest<{ error: { code: string; message: string; field: string } }>(sock, 'PUT', '/v1/endpoints', epReq('c2', a.body.ip));
    assert.equal(clash.status, 403);
    assert.equal(clash.body.error.code, 'BL_ERR_ENDPOINT_ADDRESS');
    assert.equal(clash.body.error.field, 'ipv4');
    assert.match(clash.body.error.message, /ipv4: 10\.0\.1\.2 is not the address IPAM allocated to c2\/eth0 \(10\.0\.1\.3\)/);
  } finally {
    await agent.stop();
  }
  // A new agent process over the same state directory restores the endpoint into the datapath.
  const dp2 = new FakeDatapath();
  const agent2 = new Agent(config(dir), { datapath: dp2, ipam: () => pool, podCIDR: async () => '10.0.1.0/24', log: quiet, podLinks: links });
  await agent2.start();
  try {
    assert.ok(dp2.calls.includes('upsert 1 10.0.1.2'), dp2.calls.join(','));
    const del = await agentRequest<{ deleted: boolean; id: number }>(sock, 'DELETE', '/v1/endpoints?containerID=c1&ifname=eth0');
    assert.deepEqual(del.body, { deleted: true, id: 1 });
    const del2 = await agentRequest<{ deleted: boolean }>(sock, 'DELETE', '/v1/endpoints?containerID=c1&ifname=eth0');
    assert.deepEqual(del2.body, { deleted: false }, 'delete is idempotent');
    assert.equal(dp2.lxc.size, 0);
  } finally {
    await agent2.stop();
  }
});

test('bad endpoint requests name the field and program nothing', async (t) => {
  const { agent, dp, sock, links } = await startAgent(t);
  const epReq = (id: string, ip: string) => plumb(links, id, ip);
  try {
    const cases: [Partial<EndpointCreateRequest>, RegExp][] = [
      [{ ...epReq('c1', '10.0.1.9'), ipv4: '10.0.1.300' }, /ipv4: must be an IPv4 address/],
      [{ ...epReq('c1', '10.0.1.9'), mac: 'zz' }, /mac: must be a MAC address/],
      [{ ...epReq('c1', '10.0.1.9'), hostIfname: 'averyveryverylongname' }, /hostIfname: must be an interface name/],
      [{ ...epReq('c1', '10.0.1.9'), containerID: '' }, /containerID: required/],
    ];
    for (const [body, re] of cases) {
      const r = await agentRequest<{ error: { code: string; message: string } }>(sock, 'PUT', '/v1/endpoints', body);
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'BL_ERR_ENDPOINT_INVALID');
      assert.match(r.body.error.message, re);
    }
    dp.failNext = true;
    const c3 = await agentRequest<IpamAllocation>(sock, 'POST', '/v1/ipam/allocate', { owner: 'c3/eth0' });
    const failed = await agentRequest(sock, 'PUT', '/v1/endpoints', epReq('c3', c3.body.ip));
    assert.equal(failed.status, 500);
    assert.equal((await agentGet<EndpointModel[]>(sock, '/v1/endpoints')).length, 0, 'a failed programming leaves no endpoint');
    assert.equal(dp.lxc.size, 0);
    const noOwner = await agentRequest<{ error: { code: string } }>(sock, 'POST', '/v1/ipam/allocate', {});
    assert.equal(noOwner.status, 400);
  } finally {
    await agent.stop();
  }
});

test('a stopped agent is reported unreachable with a hint', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-agent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await assert.rejects(agentGet(join(dir, 'missing.sock'), '/v1/status'), (e: unknown) => e instanceof AgentUnreachableError && e.code === 'BL_ERR_AGENT_UNREACHABLE');
});

/** The body as the agent wrote it, byte for byte. */
function rawRequest(sock: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath: sock, agent: false, method, path, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

test('routes mounted from the contract answer the JSON the inline routes answered, byte for byte', async (t) => {
  const { agent, sock, links } = await startAgent(t);
  const c1 = plumb(links, 'c1', '10.0.1.2');
  // Recorded from the agent before its routes came from api/agent/agent.proto (same fake datapath and pool).
  const want: [string, string, unknown, number, string][] = [
    ['GET', '/healthz', undefined, 200, '{"health":"ok"}'],
    ['GET', '/v1/metrics/datapath', undefined, 200, '[{"reason":0,"reasonName":"Forwarded","direction":"ingress","packets":"1099511627776","bytes":"100"}]'],
    ['POST', '/v1/ipam/allocate', { owner: 'c1/eth0' }, 200, '{"ip":"10.0.1.2","podCIDR":"10.0.1.0/24","gateway":"10.0.1.1","mtu":1500}'],
    ['POST', '/v1/ipam/allocate', {}, 400, '{"error":{"code":"BL_ERR_USAGE","message":"ipam: owner: required (containerID/ifname)"}}'],
    ['PUT', '/v1/endpoints', { ...c1, labels: { app: 'web' } }, 200, `{"id":1,"containerID":"c1","ifname":"eth0","netns":"/run/netns/c1","hostIfname":"${c1.hostIfname}","hostIfindex":0,"ipv4":"10.0.1.2","mac":"02:00:00:00:00:01","hostMac":"02:00:00:00:00:02","pod":{"namespace":"default","name":"c1"},"labels":{"app":"web"},"identity":5,"state":"ready","createdAt":"T"}`],
    ['GET', '/v1/endpoints', undefined, 200, `[{"id":1,"containerID":"c1","ifname":"eth0","netns":"/run/netns/c1","hostIfname":"${c1.hostIfname}","hostIfindex":0,"ipv4":"10.0.1.2","mac":"02:00:00:00:00:01","hostMac":"02:00:00:00:00:02","pod":{"namespace":"default","name":"c1"},"labels":{"app":"web"},"identity":5,"state":"ready","createdAt":"T","policyEnforcement":{"ingress":false,"egress":false,"audit":false,"ingressDefaultDeny":false,"egressDefaultDeny":false}}]`],
    ['GET', '/v1/nodes', undefined, 200, '[]'],
    ['GET', '/v1/identity?id=1', undefined, 200, '{"id":1,"labels":["reserved:host"]}'],
    ['GET', '/v1/identity', undefined, 400, '{"error":{"code":"BL_ERR_USAGE","message":"query parameter id: required"}}'],
    ['GET', '/v1/identities/references', undefined, 200, '[]'],
    ['GET', '/v1/bpf/endpoints', undefined, 200, '[{"ip":"10.0.1.2","id":1,"ifindex":0,"mac":"02:00:00:00:00:01","nodeMac":"02:00:00:00:00:02","identity":5,"flags":0}]'],
    ['GET', '/v1/services', undefined, 200, '{"services":[],"problems":[],"lastSync":null}'],
    ['GET', '/v1/services/status', undefined, 200, 'null'],
    ['GET', '/v1/bpf/lb', undefined, 200, '{"frontends":[],"backends":[]}'],
    ['GET', '/v1/policy/status', undefined, 200, '{"synced":false,"policies":[],"cidrGroups":[],"rejected":[],"endpoints":0,"lastFlush":null,"busyMs":0,"lastError":"policy enforcement has not started","cidrIdentities":0}'],
    ['POST', '/v1/policy/trace', {}, 400, '{"error":{"code":"BL_ERR_USAGE","message":"policy trace: queries: required (a list of {src, dst, port, protocol})"}}'],
    ['GET', '/v1/bpf/policy', undefined, 200, '[]'],
    ['POST', '/v1/status', undefined, 404, '{"error":{"code":"BL_ERR_NOT_FOUND","message":"no route POST /v1/status"}}'],
    ['DELETE', '/v1/endpoints?containerID=c1&ifname=eth0', undefined, 200, '{"deleted":true,"id":1}'],
    ['DELETE', '/v1/endpoints?containerID=c1', undefined, 200, '{"deleted":false}'],
    ['POST', '/v1/ipam/release', { owner: 'c1/eth0' }, 200, '{"released":"10.0.1.2"}'],
    ['POST', '/v1/ipam/release', { owner: 'c1/eth0' }, 200, '{"released":null}'],
  ];
  try {
    for (const [method, path, body, status, text] of want) {
      const r = await rawRequest(sock, method, path, body);
      assert.equal(r.status, status, `${method} ${path}`);
      assert.equal(r.text.replace(/"createdAt":"[^"]*"/g, '"createdAt":"T"'), text, `${method} ${path}`);
    }
    // The status: the same keys in the same order (pid, version and uptime vary).
    const st = await rawRequest(sock, 'GET', '/v1/status?maps=0');
    assert.equal(
      st.text.replace(/"pid":\d+/, '"pid":P').replace(/"version":"[^"]*"/, '"version":"V"').replace(/"uptimeSeconds":\d+/, '"uptimeSeconds":U').replace(/"netns":"net:\[\d+\]"/, '"netns":"N"'),
      '{"node":"node1","lab":"t","version":"V","health":"ok","uptimeSeconds":U,"pid":P,"nodeIP":"172.18.0.11","podCIDR":"10.0.1.0/24","cniNetwork":"beeline","hostNetns":false,"netns":"N","ipam":{"used":0,"capacity":253},"kvstore":{"state":"disabled","endpoint":""},"datapath":{"state":"ok","mode":"fake","routing":"tunnel","attachments":[{"iface":"eth0","direction":"ingress","program":"bl_from_netdev"}],"maps":[{"name":"bl_metrics","type":"percpu_hash","maxEntries":1024}],"events":{"read":3,"lost":0}},"endpoints":{"count":0},"nodes":{"count":0}}',
    );
  } finally {
    await agent.stop();
  }
});

test('the CNI plugin\'s HTTP path (agentApi): a requested address is given exactly, or refused with code 106 naming it and why', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-agent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The node's real pool (src/ipam/store.ts): its refusals are what the plugin must pass on.
  const links = new FakeLinks();
  const agent = new Agent(config(dir), { datapath: new FakeDatapath(), ipam: (cidr) => openNodeIpam(dir, cidr), podCIDR: async () => '10.0.1.0/24', log: quiet, podLinks: links });
  await agent.start();
  const sock = join(dir, 'agent.sock');
  try {
    // The plugin's logic over HTTP (not the agent's in-process path): CNI_ARGS IP= honoured or refused.
    const add = async (id: string, ip: string) => {
      links.addPod(`/run/netns/${id}`);
      const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${id}`, CNI_IFNAME: 'eth0', CNI_ARGS: `IgnoreUnknown=1;IP=${ip}` };
      const out = await runPlugin(env, async () => JSON.stringify(pluginConfig(renderConflist({ agentSocket: sock }))), { agent: agentApi, links, log: () => undefined });
      return { exitCode: out.exitCode, json: JSON.parse(out.stdout) as { ips?: { address: string }[]; code?: number; msg?: string } };
    };
    const viaPlugin = await add('p1', '10.0.1.150');
    assert.equal(viaPlugin.exitCode, 0, JSON.stringify(viaPlugin.json));
    assert.equal(viaPlugin.json.ips![0]!.address, '10.0.1.150/32');
    const outside = await add('p2', '192.0.2.10');
    assert.deepEqual([outside.exitCode, outside.json.code], [1, 106]);
    assert.match(outside.json.msg!, /192\.0\.2\.10 for p2\/eth0: not in pod CIDR 10\.0\.1\.0\/24/);
    assert.equal(links.hostLink(hostIfname('p2', 'eth0')), undefined, 'nothing made');

    const api = agentApi(sock);
    const got = await api.allocateSpecific('c1/eth0', '10.0.1.200');
    assert.deepEqual(got, { ip: '10.0.1.200', podCIDR: '10.0.1.0/24', gateway: '10.0.1.1', mtu: 1500 });
    assert.equal((await api.allocateSpecific('c1/eth0', '10.0.1.200')).ip, '10.0.1.200', 'again for the same owner: the same address');
    const refused: [string, string, RegExp][] = [
      ['c2/eth0', '10.0.1.200', /10\.0\.1\.200 for c2\/eth0: already held by c1\/eth0/],
      ['c3/eth0', '192.0.2.10', /192\.0\.2\.10 for c3\/eth0: not in pod CIDR 10\.0\.1\.0\/24/],
      ['c4/eth0', '10.0.1.1', /router address of 10\.0\.1\.0\/24, reserved/],
      ['c5/eth0', 'nonsense', /nonsense/],
    ];
    for (const [owner, ip, msg] of refused) {
      await assert.rejects(api.allocateSpecific(owner, ip), (e: unknown) => e instanceof CniError && e.cniCode === 106 && msg.test(e.message) && /POST \/v1\/ipam\/allocate/.test(e.message), `${owner} ${ip}`);
    }
    const held = await agentGet<AgentStatus>(sock, '/v1/status?maps=0');
    assert.equal(held.ipam.used, 2, 'only the ones given (p1, c1)');
    const wrongType = await rawRequest(sock, 'POST', '/v1/ipam/allocate', { owner: 'c6/eth0', ip: 7 });
    assert.equal(wrongType.status, 400, wrongType.text);
    // Without an ip: any free address, as before.
    assert.match((await api.allocate('c7/eth0')).ip, /^10\.0\.1\.\d+$/);
  } finally {
    await agent.stop();
  }
});

test('status says whether the agent runs in host-netns mode and in which namespace; `beeline status` prints it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-agent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // An injected config: only `beeline agent --host-netns` sets this for real (src/lab/host-netns.test.ts).
  const agent = new Agent({ ...config(dir), hostNetns: true }, { datapath: new FakeDatapath(), ipam: fakeIpam, podCIDR: async () => '10.0.1.0/24', log: quiet, podLinks: new FakeLinks() });
  await agent.start();
  try {
    const sock = join(dir, 'agent.sock');
    const st = await agentGet<AgentStatus>(sock, '/v1/status?maps=0');
    const own = readlinkSync('/proc/self/ns/net');
    assert.equal(st.hostNetns, true);
    assert.equal(st.netns, own);
    assert.deepEqual(await agentApi(sock).hostNetns(), { hostNetns: true, netns: own });
    assert.equal(statusLines(st).find(([k]) => k === 'Netns')![1], `${own}   host-netns mode (--host-netns)`);
    assert.equal(statusLines({ ...st, hostNetns: false }).find(([k]) => k === 'Netns')![1], own);
  } finally {
    await agent.stop();
  }
});

test('clients call the agent by rpc name: the contract gives method and path; errors keep the agent\'s code', async (t) => {
  const { agent, sock } = await startAgent(t);
  try {
    const st = await agentCall(sock, 'GetStatus', { query: { maps: '0' } });
    assert.equal(st.node, 'node1');
    assert.equal(st.datapath.maps[0]!.entries, undefined, 'the query reached the agent');
    const a = await agentCall(sock, 'IpamAllocate', { body: { owner: 'c9/eth0' } });
    assert.equal(a.ip, '10.0.1.2');
    const m = await agentCall(sock, 'GetDatapathMetrics');
    assert.equal(m[0]!.packets, String(2n ** 40n), 'bigints are strings to a client');
    await assert.rejects(agentCall(sock, 'GetIdentity', { query: { id: '999' } }), (e: unknown) => e instanceof BeelineError && e.code === 'BL_ERR_USAGE' && /GetIdentity \(GET \/v1\/identity\?id=999\): identity 999: not found/.test(e.message));
    await assert.rejects(agentCall(sock, 'DeleteEndpoint'), (e: unknown) => e instanceof BeelineError && e.code === 'BL_ERR_USAGE' && /query parameter containerID: required/.test(e.message));
  } finally {
    await agent.stop();
  }
  await assert.rejects(agentCall(sock, 'GetHealth'), (e: unknown) => e instanceof AgentUnreachableError);
});

test('a monitor subscriber that does not read is not buffered without bound: it is told how many events it missed', async (t) => {
  const { agent, dp, sock } = await startAgent(t);
  const events = 50_000;
  try {
    const lines: MonitorLine[] = [];
    let res: IncomingMessage | undefined;
    const ended = new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: sock, agent: false, path: '/v1/monitor' }, (r) => {
        res = r;
        r.pause(); // a subscriber that does not read
        const split = ndjsonSplitter({ line: (l) => void lines.push(l), badLine: (text, why) => reject(new Error(`${why}: ${text}`)) });
        r.on('data', (c: Buffer) => split(c));
        r.on('end', resolve);
        r.on('close', () => resolve());
      });
      req.on('error', reject);
      req.end();
    });
    await until('the stream', () => res !== undefined, 5000, 10);
    // A record as big as the datapath's trace events: ~300 bytes of JSON a line, 15 MB in all.
    const rec = Buffer.alloc(176, 7);
    for (let i = 0; i < events; i++) dp.emit(rec);
    res!.resume();
    await until('a lost line', () => lines.some((l) => l.lost !== undefined), 10_000, 10);
    const data = lines.filter((l) => l.data !== undefined).length;
    const lost = lines.reduce((n, l) => n + (l.lost ?? 0), 0);
    assert.ok(data <= MONITOR_QUEUE_LINES + 1000, `held at most the queue and the socket's buffers (${data} delivered)`);
    assert.equal(data + lost, events, 'every event is delivered or counted in a lost line');
    // It is still subscribed: later events arrive.
    dp.emit(rec);
    await until('the next event', () => lines.filter((l) => l.data !== undefined).length === data + 1, 5000, 10);
    res!.destroy();
    await ended;
  } finally {
    await agent.stop();
  }
});

test('two agents started at the same instant on one node: one runs, the other stops before it touches the datapath', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-agent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dps = [new FakeDatapath(), new FakeDatapath()];
  const agents = dps.map((dp) => new Agent(config(dir), { datapath: dp, ipam: fakeIpam, podCIDR: async () => '10.0.1.0/24', log: quiet, podLinks: new FakeLinks() }));
  const results = await Promise.allSettled(agents.map((a) => a.start()));
  const won = results.findIndex((r) => r.status === 'fulfilled');
  try {
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results.map((r) => r.status)));
    const lost = results[1 - won] as PromiseRejectedResult;
    assert.ok(lost.reason instanceof AgentRunningError, String(lost.reason));
    assert.equal(lost.reason.code, 'BL_ERR_AGENT_RUNNING');
    assert.match(lost.reason.message, new RegExp(`agent lock .*agent\\.lock: held by pid ${process.pid}`));
    assert.deepEqual(dps[1 - won]!.calls, [], 'the second agent did not start a datapath');
    assert.deepEqual(dps[won]!.calls, ['start']);
    assert.equal((await agentGet<AgentStatus>(join(dir, 'agent.sock'), '/v1/status')).pid, process.pid, 'the first agent answers');
  } finally {
    await agents[won]?.stop();
  }
  // Its lock went with it: the next agent for the node starts.
  const next = new Agent(config(dir), { datapath: new FakeDatapath(), ipam: fakeIpam, podCIDR: async () => '10.0.1.0/24', log: quiet, podLinks: new FakeLinks() });
  await next.start();
  await next.stop();
});

test('a second agent on a live agent\'s socket refuses to start before it touches the datapath', async (t) => {
  const { agent, dir, sock } = await startAgent(t);
  try {
    const dp2 = new FakeDatapath();
    const second = new Agent(config(dir), { datapath: dp2, ipam: fakeIpam, podCIDR: async () => '10.0.1.0/24', log: quiet, podLinks: new FakeLinks() });
    await assert.rejects(second.start(), (e: unknown) => e instanceof AgentRunningError && e.code === 'BL_ERR_AGENT_RUNNING');
    assert.deepEqual(dp2.calls, [], 'the second agent did not start a datapath');
    assert.equal((await agentGet<AgentStatus>(sock, '/v1/status')).pid, process.pid, 'the first agent still answers');
  } finally {
    await agent.stop();
  }
});
