import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfError } from '../../common/errors.js';
import { bpfError, errnoName, errnoOf, hintFor, lastLibbpfWarning, lastLogLines, parseProgramLoadLogs } from './errno.js';

test('errnoName maps numbers (either sign) to canonical names', () => {
  assert.equal(errnoName(1), 'EPERM');
  assert.equal(errnoName(-13), 'EACCES');
  assert.equal(errnoName(11), 'EAGAIN'); // not EWOULDBLOCK
  assert.equal(errnoName(524), 'ENOTSUPP'); // kernel-internal, not in libc
  assert.equal(errnoName(9999), 'errno 9999');
  assert.equal(errnoOf('ENOENT'), 2);
  assert.equal(errnoOf('ENOTSUPP'), 524);
});

test('hints depend on the kind of operation', () => {
  assert.equal(hintFor(-1), 'is this root? is bpffs mounted?');
  assert.match(hintFor(13, 'load')!, /verifier/);
  assert.match(hintFor(2, 'open')!, /make bpf/);
  assert.match(hintFor(7, 'map')!, /full/);
  assert.match(hintFor(17, 'tc')!, /replace/);
  assert.equal(hintFor(2, 'map'), undefined);
});

test('bpfError reads as an operation path plus a hint', () => {
  const e = bpfError('load datapath x.o: create map ct4', -1, 'load');
  assert.ok(e instanceof BpfError);
  assert.equal(e.code, 'BL_ERR_BPF');
  assert.equal(e.errno, 1);
  assert.equal(e.message, 'load datapath x.o: create map ct4: EPERM');
  assert.equal(e.describe(), 'load datapath x.o: create map ct4: EPERM (is this root? is bpffs mounted?)');
  const d = bpfError('open datapath y.o', 22, 'open', { detail: 'elf: not an object', hint: 'rebuild' });
  assert.equal(d.describe(), 'open datapath y.o: EINVAL: elf: not an object (rebuild)');
});

const LIBBPF_FAILURE = [
  "libbpf: prog 'bl_bad': BPF program load failed: Permission denied\n",
  "libbpf: prog 'bl_bad': -- BEGIN PROG LOAD LOG --\n0: R1=ctx() R10=fp0\n; return *(u8 *)data;\n1: (71) r0 = *(u8 *)(r2 +0)\ninvalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)\nR2 offset is outside of the packet\nprocessed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n-- END PROG LOAD LOG --\n",
  "libbpf: prog 'bl_bad': failed to load: -13\n",
  'libbpf: failed to load object \'bad.bpf.o\'\n',
].join('');

test('parseProgramLoadLogs finds the failed program and its verifier log', () => {
  const { failed, logs } = parseProgramLoadLogs(LIBBPF_FAILURE);
  assert.deepEqual(failed, ['bl_bad']);
  assert.equal(logs.length, 1);
  assert.equal(logs[0]!.program, 'bl_bad');
  assert.match(logs[0]!.log, /^0: R1=ctx/);
  assert.deepEqual(lastLogLines(logs[0]!.log, 2), [
    'R2 offset is outside of the packet',
    'processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
  ]);
});

test('lastLibbpfWarning returns the last line without the libbpf prefix', () => {
  assert.equal(lastLibbpfWarning(LIBBPF_FAILURE), "prog 'bl_bad': failed to load: -13", 'the generic last line is skipped');
  assert.equal(lastLibbpfWarning("libbpf: failed to load object 'x.o'\n"), "failed to load object 'x.o'");
  assert.equal(lastLibbpfWarning(''), undefined);
});
