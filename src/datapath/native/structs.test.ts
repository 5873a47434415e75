import { test } from 'node:test';
import assert from 'node:assert/strict';
import koffi from 'koffi';
import { BpfMapBatchOpts, BpfTcHook, BpfTcOpts, BpfTestRunOpts, LIBBPF_STRUCT_SIZES } from './structs.js';

// libbpf uses opts->sz to tell which fields a caller knows: a wrong size is
// either rejected (EINVAL) or, worse, silently misread. These are the sizes
// and offsets `sizeof`/`offsetof` give in C against libbpf 1.1.2's headers.

test('opts structs have the sizes libbpf 1.1.2 was built with', () => {
  assert.equal(BpfTcHook.size, LIBBPF_STRUCT_SIZES.bpf_tc_hook);
  assert.equal(BpfTcOpts.size, LIBBPF_STRUCT_SIZES.bpf_tc_opts);
  assert.equal(BpfTestRunOpts.size, LIBBPF_STRUCT_SIZES.bpf_test_run_opts);
  assert.equal(BpfMapBatchOpts.size, LIBBPF_STRUCT_SIZES.bpf_map_batch_opts);
  assert.deepEqual(LIBBPF_STRUCT_SIZES, { bpf_tc_hook: 24, bpf_tc_opts: 32, bpf_test_run_opts: 80, bpf_map_batch_opts: 24 });
});

test('bpf_test_run_opts field offsets match bpf.h', () => {
  const expected: Record<string, number> = {
    sz: 0, data_in: 8, data_out: 16, data_size_in: 24, data_size_out: 28, ctx_in: 32, ctx_out: 40,
    ctx_size_in: 48, ctx_size_out: 52, retval: 56, repeat: 60, duration: 64, flags: 68, cpu: 72, batch_size: 76,
  };
  for (const [field, off] of Object.entries(expected)) assert.equal(koffi.offsetof(BpfTestRunOpts, field), off, field);
});

test('bpf_tc_hook and bpf_tc_opts field offsets match libbpf.h', () => {
  assert.deepEqual(
    ['sz', 'ifindex', 'attach_point', 'parent'].map((f) => koffi.offsetof(BpfTcHook, f)),
    [0, 8, 12, 16],
  );
  assert.deepEqual(
    ['sz', 'prog_fd', 'flags', 'prog_id', 'handle', 'priority'].map((f) => koffi.offsetof(BpfTcOpts, f)),
    [0, 8, 12, 16, 20, 24],
  );
});
