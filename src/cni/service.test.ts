/**
 * The agent's CNI route (src/cni/service.ts) and the shell shim that calls it
 * (bin/beeline-cni), without root: the shim run as a runtime runs it,
 * against an ApiServer serving only POST /v1/cni over the fake agent. Inputs
 * that fail before any link is touched; the links themselves are the
 * privileged tests' part.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../common/version.js';
import { fakeAgent } from '../../test/lib/fake-agent.js';
import { ApiServer } from '../agent/server.js';
import { agentApi } from './agentapi.js';
import { conflistText, pluginConfig, renderConflist } from './conflist.js';
import { IpLinks } from './link.js';
import { versionResult } from './result.js';
import { CNI_ROUTE, cniRoute, envFromHeaders } from './service.js';
import type { CniErrorObject } from './types.js';

const shim = join(repoRoot, 'bin', 'beeline-cni');

function runShim(env: Record<string, string>, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(shim, [], { env: { PATH: process.env.PATH!, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // VERSION does not read stdin
    child.stdin.end(input);
  });
}

test('envFromHeaders: the CNI_* variables the shim sent; an empty or absent header is a variable not set', () => {
  assert.deepEqual(envFromHeaders({ 'x-cni-command': 'ADD', 'x-cni-netns': '/run/netns/p', 'x-cni-ifname': '', 'x-other': 'y' }), { CNI_COMMAND: 'ADD', CNI_NETNS: '/run/netns/p' });
});

test('shim: VERSION without an agent; an agent that is down is CNI error 11 naming the socket', async () => {
  const v = await runShim({ CNI_COMMAND: 'VERSION' }, '');
  assert.equal(v.code, 0);
  assert.deepEqual(JSON.parse(v.stdout), versionResult(), 'the shim answers VERSION as the plugin does');
  const sock = '/nonexistent/beeline-test/agent.sock';
  const down = await runShim({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'x1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0' }, conflistText(pluginConfig(renderConflist({ agentSocket: sock }), 0) as never));
  assert.equal(down.code, 1);
  const obj = JSON.parse(down.stdout) as CniErrorObject;
  assert.equal(obj.code, 11);
  assert.match(obj.msg, new RegExp(`agent not reachable at ${sock}`));
  assert.match(obj.details!, /curl exit 7/);
  assert.match(down.stderr, /^beeline-cni: ADD x1\/eth0: error 11: /);
  // STATUS (CNI 1.1): an agent that does not answer is "plugin not available", 50.
  const status = await runShim({ CNI_COMMAND: 'STATUS' }, conflistText(pluginConfig(renderConflist({ agentSocket: sock }), 0) as never));
  assert.equal(status.code, 1);
  assert.equal((JSON.parse(status.stdout) as CniErrorObject).code, 50);
  assert.deepEqual(JSON.parse(v.stdout).supportedVersions.slice(-2), ['1.0.0', '1.1.0']);
});

test('shim → agent route: codes 4, 6, 1, 7 come back with the exit status and the log line; an old agent is named', async (t) => {
  const agent = await fakeAgent(t, { cniNetwork: 'beeline' });
  const api = new ApiServer();
  const logged: string[] = [];
  api.raw('POST', CNI_ROUTE, cniRoute(agentApi(agent.socket), new IpLinks(), (l) => void logged.push(l)));
  const sock = join(agent.dir, 'cni.sock');
  await api.listen(sock);
  t.after(() => api.close());
  const conf = (over: Record<string, unknown> = {}) => JSON.stringify({ ...pluginConfig(renderConflist({ agentSocket: sock }), 0), ...over });
  const base = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'x1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0' };
  const cases: [Record<string, string>, string, number, RegExp][] = [
    [{ CNI_IFNAME: 'eth0' }, conf(), 4, /CNI_COMMAND is not set/],
    [{ CNI_COMMAND: 'ADD', CNI_IFNAME: 'eth0' }, conf(), 4, /CNI_CONTAINERID, CNI_NETNS not set/],
    // Not JSON: the shim finds no socket in it and uses the default; point the default's answer here instead.
    [base, `{not json, "agentSocket": "${sock}"`, 6, /not valid JSON/],
    [base, conf({ cniVersion: '9.9.9' }), 1, /incompatible CNI version "9.9.9"/],
    [base, JSON.stringify({ cniVersion: '1.0.0', type: 'beeline-cni', agentSocket: sock }), 7, /no name/],
  ];
  for (const [env, input, code, msg] of cases) {
    const r = await runShim(env, input);
    assert.equal(r.code, 1, `${JSON.stringify(env)}: ${r.stdout}${r.stderr}`);
    const obj = JSON.parse(r.stdout) as CniErrorObject;
    assert.equal(obj.code, code, r.stdout);
    assert.match(obj.msg, msg);
    assert.match(r.stderr, /^beeline-cni: .*error/m, 'the log line for humans on stderr, from the agent');
  }
  assert.equal(logged.length, cases.length, "and in the agent's log");
  // An agent without the route (one from before it).
  const bare = new ApiServer();
  const oldSock = join(agent.dir, 'old.sock');
  await bare.listen(oldSock);
  t.after(() => bare.close());
  const old = await runShim(base, conf({ agentSocket: oldSock }));
  assert.equal(old.code, 1);
  assert.equal((JSON.parse(old.stdout) as CniErrorObject).code, 11);
  assert.match(old.stdout, /does not serve POST \/v1\/cni/);
});
