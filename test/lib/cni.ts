/**
 * CNI conformance-style cases, driving bin/beeline-cni only through the CNI
 * protocol (environment, stdin, stdout) as a runtime does: `ip netns exec
 * <node netns> beeline-cni`. Shared by the suite against a fake agent and the
 * one against a real lab agent; what differs is how to ask the agent what it
 * holds.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { run } from '../../src/common/exec.js';
import { repoRoot } from '../../src/common/version.js';
import { hostIfname } from '../../src/cni/config.js';
import { pluginConfig, renderConflist } from '../../src/cni/conflist.js';
import type { CniErrorObject, CniResult } from '../../src/cni/types.js';
import type { AgentStatus, EndpointModel } from '../../src/agent/types.js';
import { agentGet } from '../../src/agent/client.js';
import type { AgentReply } from '../../src/agent/replies.js';
import { readState } from '../../src/lab/state.js';
import { beeline } from './cli.js';

export const cniBin = join(repoRoot, 'bin', 'beeline-cni');

export interface CniTarget {
  /** The node's network namespace: the plugin runs there. */
  nodeNetns: string;
  agentSocket: string;
  /** Prefix for the pod namespaces the cases create (removed by the caller's cleanup too). */
  podNetnsPrefix: string;
  /** Addresses the agent has allocated. */
  allocated(): Promise<number>;
  endpoints(): Promise<EndpointModel[]>;
}

export interface CniRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout decoded, when there was any. */
  json?: CniResult & CniErrorObject & { supportedVersions?: string[] };
}

/**
 * Runs the plugin in `nodeNetns` (or, with nodeNetns undefined, right here) with CNI_* set and `config` on
 * stdin. Asynchronous: a fake agent serving from this very process must keep answering meanwhile.
 */
export function runCni(nodeNetns: string | undefined, env: Record<string, string | undefined>, config: unknown): Promise<CniRun> {
  const input = typeof config === 'string' ? config : JSON.stringify(config);
  const cmd = nodeNetns ? ['ip', 'netns', 'exec', nodeNetns, cniBin] : [cniBin];
  const cleanEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) cleanEnv[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { env: cleanEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const out: CniRun = { code: code ?? -1, stdout, stderr };
      try {
        if (stdout.trim()) out.json = JSON.parse(stdout) as CniRun['json'];
      } catch (e) {
        return reject(new Error(`beeline-cni printed something that is not JSON: ${stdout}${stderr}`, { cause: e }));
      }
      resolve(out);
    });
    child.stdin.on('error', () => undefined); // judged by the exit status and stdout
    child.stdin.end(input);
  });
}

export const newContainerID = () => randomBytes(32).toString('hex');

export function addNetns(name: string): string {
  run('ip', ['netns', 'add', name], { operation: `create test namespace ${name}` });
  run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return `/run/netns/${name}`;
}

export function delNetnsIfPresent(name: string): void {
  run('ip', ['netns', 'del', name], { allowFailure: true });
}

/** Link names in a namespace. */
export function linkNames(netns: string): string[] {
  const r = run('ip', ['-n', netns, '-j', 'link', 'show']);
  return (JSON.parse(r.stdout) as { ifname: string }[]).map((l) => l.ifname).sort();
}

export interface Harness {
  target: CniTarget;
  /** Plugin configuration for this target, plus overrides. */
  conf(over?: Record<string, unknown>, prevResult?: CniResult): Record<string, unknown>;
  env(command: string, containerID: string, netnsPath: string | undefined, over?: Record<string, string | undefined>): Record<string, string | undefined>;
  cni(command: string, containerID: string, netnsPath: string | undefined, config?: unknown, over?: Record<string, string | undefined>): Promise<CniRun>;
  /** A new pod namespace; returns its path. The caller's cleanup removes every namespace with podNetnsPrefix. */
  pod(suffix: string): string;
  /** Asserts the agent holds nothing and the node namespace has no beeline veth. */
  assertNothingLeft(what: string): Promise<void>;
}

export function harness(target: CniTarget): Harness {
  // Host veths that were there before (a lab's own pods): not the test's to account for.
  const lxcBefore = new Set(linkNames(target.nodeNetns).filter((n) => n.startsWith('lxc')));
  const conf = (over: Record<string, unknown> = {}, prevResult?: CniResult) => ({
    ...pluginConfig(renderConflist({ agentSocket: target.agentSocket }), 0, prevResult ? { prevResult } : {}),
    ...over,
  });
  const env = (command: string, containerID: string, netnsPath: string | undefined, over: Record<string, string | undefined> = {}) => ({
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerID,
    CNI_NETNS: netnsPath,
    CNI_IFNAME: 'eth0',
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=conformance',
    CNI_PATH: join(repoRoot, 'bin'),
    ...over,
  });
  return {
    target,
    conf,
    env,
    cni: (command, containerID, netnsPath, config = conf(), over = {}) => runCni(target.nodeNetns, env(command, containerID, netnsPath, over), config),
    pod: (suffix) => addNetns(`${target.podNetnsPrefix}-${suffix}`),
    async assertNothingLeft(what) {
      assert.deepEqual(linkNames(target.nodeNetns).filter((n) => n.startsWith('lxc') && !lxcBefore.has(n)), [], `${what}: no lxc veth in the node namespace`);
      assert.equal(await target.allocated(), 0, `${what}: no address allocated`);
      assert.deepEqual(await target.endpoints(), [], `${what}: no endpoint`);
    },
  };
}

/** `ip -n NS -j -4 addr show dev IF` → ['a.b.c.d/len'] */
export function addrsIn(netns: string, dev: string): string[] {
  const r = run('ip', ['-n', netns, '-j', '-4', 'addr', 'show', 'dev', dev]);
  return (JSON.parse(r.stdout) as { addr_info: { local: string; prefixlen: number }[] }[]).flatMap((x) => x.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
}

export function linkIn(netns: string, dev: string): { ifname: string; flags: string[]; mtu: number; address: string } | undefined {
  const r = run('ip', ['-n', netns, '-j', 'link', 'show', 'dev', dev], { allowFailure: true });
  return r.code === 0 ? (JSON.parse(r.stdout) as { ifname: string; flags: string[]; mtu: number; address: string }[])[0] : undefined;
}

export function routesIn(netns: string): string[] {
  return run('ip', ['-n', netns, '-4', 'route', 'show'])
    .stdout.trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/**
 * ADD returns a well-formed 1.0.0 result and the pod namespace has exactly
 * that: the /32 address on eth0 (up), lo up, the gateway on-link and the
 * default route via it; the host end is up in the node namespace. Returns the result.
 */
export function assertAdded(h: Harness, r: CniRun, containerID: string, netnsPath: string, podNetns: string): CniResult {
  assert.equal(r.code, 0, `ADD failed: ${r.stdout}${r.stderr}`);
  const res = r.json!;
  const host = hostIfname(containerID, 'eth0');
  assert.equal(res.cniVersion, '1.0.0');
  assert.equal(res.interfaces?.length, 2);
  assert.deepEqual(
    res.interfaces!.map((i) => ({ name: i.name, sandbox: i.sandbox })),
    [
      { name: host, sandbox: undefined },
      { name: 'eth0', sandbox: netnsPath },
    ],
  );
  for (const i of res.interfaces!) assert.match(i.mac!, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  assert.equal(res.ips?.length, 1);
  const ip = res.ips![0]!;
  assert.match(ip.address, /^\d+\.\d+\.\d+\.\d+\/32$/);
  assert.equal(ip.interface, 1);
  assert.equal(ip.version, undefined, '1.0.0 results carry no ip version');
  assert.ok(ip.gateway);
  assert.deepEqual(res.routes, [{ dst: '0.0.0.0/0', gw: ip.gateway }]);
  assert.ok(res.dns && typeof res.dns === 'object');

  const eth0 = linkIn(podNetns, 'eth0')!;
  assert.ok(eth0.flags.includes('UP'), 'eth0 is up');
  assert.equal(eth0.address, res.interfaces![1]!.mac);
  assert.ok(linkIn(podNetns, 'lo')!.flags.includes('UP'), 'lo is up');
  assert.deepEqual(addrsIn(podNetns, 'eth0'), [ip.address]);
  const routes = routesIn(podNetns);
  assert.ok(routes.includes(`default via ${ip.gateway} dev eth0`), routes.join('\n'));
  assert.ok(routes.includes(`${ip.gateway} dev eth0 scope link`), routes.join('\n'));
  const hostLink = linkIn(h.target.nodeNetns, host)!;
  assert.ok(hostLink, `host veth ${host} in the node namespace`);
  assert.ok(hostLink.flags.includes('UP'), 'host veth is up');
  assert.equal(hostLink.address, res.interfaces![0]!.mac);
  return res;
}

/** Every bad input: the right code, a message naming the problem, and nothing left behind. */
export async function badInputCases(h: Harness, podPath: string): Promise<void> {
  const before = linkNames(h.target.nodeNetns);
  const id = newContainerID();
  const cases: { name: string; env?: Record<string, string | undefined>; config?: unknown; code: number; msg: RegExp }[] = [
    { name: 'no CNI_COMMAND', env: { CNI_COMMAND: undefined }, code: 4, msg: /CNI_COMMAND/ },
    { name: 'no CNI_CONTAINERID', env: { CNI_CONTAINERID: undefined }, code: 4, msg: /CNI_CONTAINERID/ },
    { name: 'no CNI_NETNS', env: { CNI_NETNS: undefined }, code: 4, msg: /CNI_NETNS/ },
    { name: 'no CNI_IFNAME', env: { CNI_IFNAME: undefined }, code: 4, msg: /CNI_IFNAME/ },
    { name: 'CNI_IFNAME too long', env: { CNI_IFNAME: 'eth0123456789012' }, code: 4, msg: /CNI_IFNAME/ },
    { name: 'CNI_NETNS is the node itself', env: { CNI_NETNS: `/run/netns/${h.target.nodeNetns}` }, code: 4, msg: /node's own network namespace/ },
    { name: 'CNI_NETNS is the root namespace', env: { CNI_NETNS: '/proc/2/ns/net' }, code: 4, msg: /root network namespace/ },
    { name: 'CNI_NETNS missing', env: { CNI_NETNS: `/run/netns/${h.target.podNetnsPrefix}-nope` }, code: 3, msg: /does not exist/ },
    // It names its socket, so the shim finds the agent; one that does not goes to the default socket.
    { name: 'malformed JSON', config: `{"agentSocket": ${JSON.stringify(h.target.agentSocket)}, "cniVersion": "1.0.0", "name": `, code: 6, msg: /not valid JSON/ },
    { name: 'empty stdin', config: '', code: 6, msg: /no network configuration/ },
    { name: 'unsupported cniVersion', config: h.conf({ cniVersion: '2.0.0' }), code: 1, msg: /incompatible CNI version "2.0.0"/ },
    { name: 'ipam section', config: h.conf({ ipam: { type: 'host-local' } }), code: 2, msg: /unsupported field ipam/ },
    { name: 'network the agent does not serve', config: h.conf({ name: 'not-beeline' }), code: 7, msg: /network not-beeline is not served by the agent/ },
    { name: 'bad mtu', config: h.conf({ mtu: 10 }), code: 7, msg: /mtu/ },
    {
      name: 'dead agent socket',
      config: h.conf({ agentSocket: `/run/beeline/${h.target.podNetnsPrefix}-none/agent.sock` }),
      code: 11,
      msg: /agent not reachable at \/run\/beeline\/.*\/agent\.sock \(is the agent running\?\)/,
    },
  ];
  for (const c of cases) {
    const r = await h.cni('ADD', id, podPath, c.config ?? h.conf(), c.env ?? {});
    assert.equal(r.code, 1, `${c.name}: exit status (${r.stdout})`);
    assert.equal(r.json?.code, c.code, `${c.name}: ${r.stdout}`);
    assert.match(r.json!.msg, c.msg, c.name);
    assert.equal(r.json!.cniVersion, '1.0.0', c.name);
    assert.deepEqual(linkNames(h.target.nodeNetns), before, `${c.name}: no new link in the node namespace`);
    assert.equal(await h.target.allocated(), 0, `${c.name}: no address allocated`);
  }
  assert.deepEqual(linkNames(podPath.replace('/run/netns/', '')), ['lo'], 'the pod namespace is untouched');
}

/** The core lifecycle: VERSION, ADD, CHECK, CHECK after the host veth is deleted, DEL, DEL again, DEL of the unknown, cycles. */
export async function lifecycleCases(h: Harness, onAdded?: (res: CniResult, podNetns: string) => Promise<void> | void): Promise<void> {
  const v = await runCni(h.target.nodeNetns, { CNI_COMMAND: 'VERSION' }, { cniVersion: '1.0.0' });
  assert.equal(v.code, 0);
  assert.deepEqual(v.json, { cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });

  const podName = `${h.target.podNetnsPrefix}-life`;
  const podPath = h.pod('life');
  const id = newContainerID();
  const res = assertAdded(h, await h.cni('ADD', id, podPath), id, podPath, podName);
  const ep = (await h.target.endpoints()).find((e) => e.containerID === id);
  assert.ok(ep, 'the agent has the endpoint');
  assert.equal(ep.ipv4, res.ips![0]!.address.split('/')[0]);
  assert.equal(ep.hostIfname, hostIfname(id, 'eth0'));
  assert.equal(ep.mac, res.interfaces![1]!.mac);
  assert.deepEqual(ep.pod, { namespace: 'default', name: 'conformance' });
  assert.equal(await h.target.allocated(), 1);
  if (onAdded) await onAdded(res, podName);

  const check = await h.cni('CHECK', id, podPath, h.conf({}, res));
  assert.deepEqual([check.code, check.stdout], [0, ''], `CHECK after ADD: ${check.stdout}`);

  // ADD again without DEL: the interface exists, refused, and what exists stays.
  const again = await h.cni('ADD', id, podPath);
  assert.equal(again.json?.code, 102, again.stdout);
  assert.ok(linkIn(h.target.nodeNetns, hostIfname(id, 'eth0')), 'a refused second ADD does not undo the first');

  // Someone deletes the host veth (and so the pod end): CHECK names it.
  run('ip', ['-n', h.target.nodeNetns, 'link', 'del', hostIfname(id, 'eth0')]);
  const broken = await h.cni('CHECK', id, podPath, h.conf({}, res));
  assert.equal(broken.code, 1);
  assert.equal(broken.json?.code, 104, broken.stdout);
  assert.match(broken.json!.msg, new RegExp(`host interface ${hostIfname(id, 'eth0')} of ${id}/eth0 does not exist`));

  const del = await h.cni('DEL', id, podPath, h.conf({}, res));
  assert.deepEqual([del.code, del.stdout], [0, ''], del.stdout);
  assert.equal((await h.cni('DEL', id, podPath, h.conf({}, res))).code, 0, 'DEL twice');
  assert.equal((await h.cni('DEL', newContainerID(), podPath)).code, 0, 'DEL of a container never added');
  assert.equal((await h.cni('DEL', newContainerID(), undefined)).code, 0, 'DEL without CNI_NETNS');
  await h.assertNothingLeft('after DEL');

  // Cycles: ADD/DEL 5 times on one pod namespace, then DEL after its netns is gone.
  for (let i = 0; i < 5; i++) {
    const cid = newContainerID();
    const r = await h.cni('ADD', cid, podPath);
    assertAdded(h, r, cid, podPath, podName);
    const d = await h.cni('DEL', cid, podPath, h.conf({}, r.json));
    assert.equal(d.code, 0, `cycle ${i}: ${d.stdout}`);
  }
  await h.assertNothingLeft('after 5 ADD/DEL cycles');
  assert.deepEqual(linkNames(podName), ['lo'], 'the pod namespace is back to lo only');

  const cid = newContainerID();
  const r = await h.cni('ADD', cid, podPath);
  assertAdded(h, r, cid, podPath, podName);
  delNetnsIfPresent(podName);
  const d = await h.cni('DEL', cid, podPath, h.conf({}, r.json));
  assert.equal(d.code, 0, `DEL after the netns is gone: ${d.stdout}`);
  await h.assertNothingLeft('after DEL of a container whose netns is gone');
}

/** `lab up --nodes 1` of lab `name`, and its node: the node (its netns), the agent's socket, its endpoints and status. */
export function upOneNodeLab(name: string) {
  const up = beeline(['lab', 'up', '--nodes', '1', '--name', name, '-q']);
  assert.equal(up.code, 0, `lab up: ${up.stderr}`);
  const state = readState(name)!;
  const node = state.plan.nodes[0]!;
  const socket = state.agents[node.name]!.socket;
  return {
    node,
    socket,
    endpoints: () => agentGet<AgentReply<'ListEndpoints'>>(socket, '/v1/endpoints'),
    status: () => agentGet<AgentStatus>(socket, '/v1/status'),
  };
}
