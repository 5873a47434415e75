import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpfError } from '../../src/common/errors.js';
import { run } from '../../src/common/exec.js';
import { lastLogLines } from '../../src/datapath/native/errno.js';
import { Datapath } from '../../src/datapath/loader.js';
import { REPO } from './datapath-support.js';

/** Compiles bpf/test/<name>.bpf.c the way the Makefile compiles the datapath. */
function compileTestProgram(dir: string, name: string): string {
  const out = join(dir, `${name}.bpf.o`);
  run('clang', ['-target', 'bpf', '-O2', '-g', '-Wall', '-Werror', '-I', join(REPO, 'bpf/include'), '-I', '/usr/include/x86_64-linux-gnu', '-c', join(REPO, `bpf/test/${name}.bpf.c`), '-o', out], {
    operation: `compile bpf/test/${name}.bpf.c`,
  });
  return out;
}

test('a verifier rejection is a BpfError carrying the log, its last line in the message', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-test-verifier-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const obj = compileTestProgram(dir, 'bad');

  const dp = Datapath.open(obj);
  t.after(() => dp.close());
  assert.throws(
    () => dp.load(),
    (e: unknown) => {
      assert.ok(e instanceof BpfError, String(e));
      assert.equal(e.code, 'BL_ERR_BPF');
      assert.equal(e.errno, 13, 'EACCES');
      assert.ok(e.verifierLog, 'the full verifier log is kept');
      assert.match(e.verifierLog, /invalid access to packet/);
      const last = lastLogLines(e.verifierLog, 1)[0]!;
      assert.ok(e.message.includes(last), `message has the log's last line:\n${e.message}\n${last}`);
      assert.match(e.message, new RegExp(`^load datapath ${obj.replace(/[.]/g, '\\.')}: program bl_bad_unchecked_read: EACCES \\(verifier rejected it; last lines of the log: `));
      assert.match(e.message, /R1 offset is outside of the packet/);
      return true;
    },
  );
  assert.equal(dp.state, 'opened', 'a failed load leaves the object unloaded');
});

test('a missing object file says so and how to build it', () => {
  assert.throws(
    () => Datapath.open('/nonexistent/host.bpf.o'),
    (e: unknown) => e instanceof BpfError && e.errno === 2 && e.message === 'open datapath /nonexistent/host.bpf.o: ENOENT' && /make bpf/.test(e.hint ?? ''),
  );
});

test('a file that is not a BPF object is rejected at open with libbpf\'s reason', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-test-verifier-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const notElf = join(dir, 'x.bpf.o');
  run('sh', ['-c', `echo 'not an ELF file' > ${notElf}`]);
  assert.throws(
    () => Datapath.open(notElf),
    (e: unknown) => e instanceof BpfError && e.message.startsWith(`open datapath ${notElf}: `) && /elf/i.test(e.message),
  );
});
