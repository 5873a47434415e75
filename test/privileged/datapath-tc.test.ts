import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HostSafetyError } from '../../src/common/errors.js';
import { run } from '../../src/common/exec.js';
import { Datapath, inRootNetns } from '../../src/datapath/loader.js';
import { leftoverTestNamespaces, requireHostObject, vethPair } from './datapath-support.js';

const CHILD = fileURLToPath(new URL('./datapath-tc-child.js', import.meta.url));

/** Line-JSON conversation with the child datapath process. */
class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly #lines: string[] = [];
  readonly #waiters: Array<(line: string) => void> = [];
  stderr = '';

  constructor(ns: string, objectPath: string, ifname: string) {
    this.proc = spawn('ip', ['netns', 'exec', ns, process.execPath, '--enable-source-maps', CHILD, objectPath, ifname], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const w = this.#waiters.shift();
      if (w) w(line);
      else this.#lines.push(line);
    });
  }

  /** Next JSON message (rejects on timeout or when the child dies). */
  next(timeoutMs = 15_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const parse = (line: string) => {
        clearTimeout(timer);
        this.proc.off('exit', onExit);
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.event === 'error') reject(new Error(`child: ${String(msg.message)}`));
        else resolve(msg);
      };
      const onExit = (code: number | null) => reject(new Error(`child exited (${code}): ${this.stderr}`));
      const timer = setTimeout(() => reject(new Error(`child: no answer in ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      const queued = this.#lines.shift();
      if (queued !== undefined) return parse(queued);
      this.proc.once('exit', onExit);
      this.#waiters.push(parse);
    });
  }

  async ask(cmd: string): Promise<Record<string, unknown>> {
    this.proc.stdin.write(cmd + '\n');
    return this.next();
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

test('attaching in the root network namespace is refused', (t) => {
  assert.equal(inRootNetns(), true, 'the test runner itself runs in the root namespace');
  const dp = Datapath.open(requireHostObject()).load();
  t.after(() => dp.close());
  assert.throws(() => dp.attachTc('lo', 'ingress', 'bl_from_netdev'), HostSafetyError);
});

test('tc attach inside a test namespace counts real packets; re-attach replaces atomically', async (t) => {
  const obj = requireHostObject();
  const net = vethPair();
  let child: Child | undefined;
  t.after(() => {
    child?.kill();
    net.cleanup();
    assert.deepEqual(leftoverTestNamespaces().filter((n) => n.startsWith(net.ns)), [], 'namespaces removed');
  });

  child = new Child(net.ns, obj, net.dev);
  const attached = await child.next();
  assert.equal(attached.event, 'attached');
  assert.ok(Number(attached.progId) > 0);

  // Traffic from the peer namespace to the datapath side crosses the veth into the program.
  const ping = run('ip', ['netns', 'exec', net.peerNs, 'ping', '-c', '3', '-W', '1', '-i', '0.2', net.devAddr], { allowFailure: true });
  assert.equal(ping.code, 0, `ping failed: ${ping.stdout}${ping.stderr}`);

  const metrics = await child.ask('metrics');
  t.diagnostic(`metrics after ping: ${JSON.stringify(metrics)}`);
  assert.ok(Number(metrics.packets) >= 3, `at least the 3 echo requests were counted: ${JSON.stringify(metrics)}`);
  assert.ok(Number(metrics.bytes) >= 3 * 98, `bytes counted: ${JSON.stringify(metrics)}`);

  const replaced = await child.ask('replace');
  t.diagnostic(`after replace: ${JSON.stringify(replaced)} (first attach: prog ${String(attached.progId)})`);
  assert.notEqual(replaced.progId, attached.progId, 'a newly loaded program');
  assert.equal(replaced.queried, replaced.progId, 'bpf_tc_query sees the new program at our handle/priority');
  assert.equal(replaced.filters, 1, 'still exactly one filter on the hook');

  // Traffic still flows through the replacement.
  const ping2 = run('ip', ['netns', 'exec', net.peerNs, 'ping', '-c', '1', '-W', '1', net.devAddr], { allowFailure: true });
  assert.equal(ping2.code, 0, `ping after replace failed: ${ping2.stdout}${ping2.stderr}`);

  const detached = await child.ask('detach');
  assert.equal(detached.removed, true);
  assert.equal(detached.queried, null);
  assert.equal(detached.filters, 0);
  // An interface gone under its attachment: detach answers "nothing removed" instead of throwing.
  const vanished = await child.ask('vanish');
  assert.deepEqual(vanished, { event: 'vanished', removed: false });

  child.proc.stdin.write('exit\n');
  await new Promise((resolve) => child!.proc.once('exit', resolve));
});
