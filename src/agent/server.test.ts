import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRunningError, BeelineError, EndpointInterfaceError } from '../common/errors.js';
import { agentGet, agentRequest } from './client.js';
import { ApiServer, MAX_BODY_BYTES, probeSocket } from './server.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'bl-api-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A request with a body sent as is (length or chunked), and the raw answer. */
function send(sock: string, path: string, body: Buffer, chunked = false): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = body.length;
    const req = request({ socketPath: sock, agent: false, method: 'PUT', path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    if (chunked) {
      for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
      req.end();
    } else req.end(body);
  });
}

test('request bodies over the limit are refused with 413 before the handler sees them', async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, 'a.sock');
  let calls = 0;
  const api = new ApiServer(4096).route('PUT', '/v1/x', (_req, body) => {
    calls++;
    return { got: body };
  });
  await api.listen(sock);
  try {
    const small = await agentRequest<{ got: unknown }>(sock, 'PUT', '/v1/x', { a: 'b' });
    assert.deepEqual(small.body, { got: { a: 'b' } });
    for (const chunked of [false, true]) {
      const big = Buffer.from(JSON.stringify({ a: 'x'.repeat(3 << 20) }));
      const r = await send(sock, '/v1/x', big, chunked);
      assert.equal(r.status, 413, `chunked=${chunked}`);
      const err = (JSON.parse(r.text) as { error: { code: string; message: string } }).error;
      assert.equal(err.code, 'BL_ERR_REQUEST_TOO_LARGE');
      assert.match(err.message, /PUT \/v1\/x: request body over 4096 bytes/);
    }
    assert.equal(calls, 1, 'the handler never ran for an oversized body');
    // The server still answers afterwards.
    assert.equal((await agentRequest(sock, 'PUT', '/v1/x', {})).status, 200);
  } finally {
    await api.close();
  }
  assert.equal(MAX_BODY_BYTES, 1 << 20);
});

test('error replies carry the code, the message and the field at fault', async (t) => {
  const sock = join(tempDir(t), 'a.sock');
  const api = new ApiServer().route('PUT', '/v1/x', () => {
    throw new EndpointInterfaceError('endpoint c1: hostIfname: eth0 is the node\'s uplink');
  });
  await api.listen(sock);
  try {
    const r = await agentRequest<{ error: { code: string; message: string; field: string } }>(sock, 'PUT', '/v1/x', {});
    assert.equal(r.status, 403);
    assert.deepEqual(r.body.error, { code: 'BL_ERR_ENDPOINT_INTERFACE', message: "endpoint c1: hostIfname: eth0 is the node's uplink", field: 'hostIfname' });
  } finally {
    await api.close();
  }
});

test('the socket is mode 0600; a second server never takes over a live socket; a stale one is replaced', async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, 'agent.sock');
  const first = new ApiServer().route('GET', '/v1/who', () => ({ who: 'first' }));
  await first.listen(sock);
  try {
    assert.equal(statSync(sock).mode & 0o777, 0o600);
    const second = new ApiServer().route('GET', '/v1/who', () => ({ who: 'second' }));
    await assert.rejects(second.listen(sock), (e: unknown) => e instanceof AgentRunningError && e.code === 'BL_ERR_AGENT_RUNNING' && e.message.includes(sock));
    assert.deepEqual(await agentGet(sock, '/v1/who'), { who: 'first' }, 'the first server still answers on its socket');
  } finally {
    await first.close();
  }
  // A socket nobody listens on (a killed agent's): a socket file is left behind, then replaced.
  // A process killed while it listens leaves its socket file behind (a clean close unlinks it).
  spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(join(dir, 'stale.sock'))}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.equal(await probeSocket(join(dir, 'stale.sock')), 'stale');
  const third = new ApiServer().route('GET', '/v1/who', () => ({ who: 'third' }));
  await third.listen(join(dir, 'stale.sock'));
  try {
    assert.deepEqual(await agentGet(join(dir, 'stale.sock'), '/v1/who'), { who: 'third' });
  } finally {
    await third.close();
  }
  // Something that is not a socket is not ours to remove.
  writeFileSync(join(dir, 'file.sock'), 'x');
  await assert.rejects(new ApiServer().listen(join(dir, 'file.sock')), (e: unknown) => e instanceof BeelineError && /is not a socket/.test(e.message));
  assert.equal(await probeSocket(join(dir, 'none.sock')), 'none');
});
