import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadObjectBtf } from './btf.js';
import {
  GENERATED_HEADER,
  abiHash,
  camelCase,
  constCase,
  extractManifest,
  formatJson,
  generateAbiSource,
  pascalCase,
} from './codegen.js';
import { readElfFile } from './elf.js';
import { buildAbiModel, toManifest, type ParsedObject } from './model.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const HOST_OBJ = resolve(ROOT, 'build/bpf/host.bpf.o');

function hostObject(): ParsedObject {
  assert.ok(existsSync(HOST_OBJ), `${HOST_OBJ} is missing: run 'make bpf' first`);
  return { file: basename(HOST_OBJ), btf: loadObjectBtf(HOST_OBJ), elf: readElfFile(HOST_OBJ) };
}

test('names: C identifiers to TypeScript ones', () => {
  assert.equal(pascalCase('bl_metrics_key'), 'BlMetricsKey');
  assert.equal(constCase('bl_metrics_key'), 'BL_METRICS_KEY');
  assert.equal(camelCase('bl_drop_reason'), 'blDropReason');
  assert.equal(pascalCase('ethhdr'), 'Ethhdr');
});

test('formatJson keeps short values on one line and stays valid JSON', () => {
  const v = { a: { x: 1, y: [1, 2] }, long: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`KEY_NUMBER_${i}`, i])) };
  const text = formatJson(v);
  assert.deepEqual(JSON.parse(text), v);
  assert.match(text, /"a": \{ "x": 1, "y": \[1, 2\] \}/);
  assert.match(text, /\n {4}"KEY_NUMBER_0": 0,\n/);
});

test('the host object yields the ABI other engineers code against', () => {
  const m = buildAbiModel([hostObject()]);
  assert.deepEqual(
    m.structs.map((s) => [s.name, s.size]),
    [
      ['bl_ct4_key', 16],
      ['bl_ct_entry', 56],
      ['bl_datapath_config', 40],
      ['bl_drop_notify', 176],
      ['bl_endpoint_info', 24],
      ['bl_endpoint_key', 8],
      ['bl_ipcache_key', 8],
      ['bl_lb4_affinity', 16],
      ['bl_lb4_affinity_key', 16],
      ['bl_lb4_backend', 8],
      ['bl_lb4_key', 12],
      ['bl_lb4_maglev_key', 8],
      ['bl_lb4_nodeport_nat', 8],
      ['bl_lb4_nodeport_nat_key', 12],
      ['bl_lb4_nodeport_snat', 4],
      ['bl_lb4_nodeport_snat_key', 16],
      ['bl_lb4_reverse_nat', 8],
      ['bl_lb4_reverse_sk', 8],
      ['bl_lb4_reverse_sk_key', 16],
      ['bl_lb4_service', 16],
      ['bl_metrics_key', 8],
      ['bl_metrics_value', 16],
      ['bl_notify_hdr', 40],
      ['bl_policy_entry', 24],
      ['bl_policy_key', 20],
      ['bl_policy_verdict_notify', 192],
      ['bl_remote_endpoint_info', 12],
      ['bl_trace_notify', 176],
      ['bl_trace_sock_notify', 72],
    ],
  );
  const host = m.objects.find((o) => o.name === 'host');
  assert.ok(host);
  assert.deepEqual(
    host.maps.map((x) => [x.name, x.typeName, x.key?.ctype ?? null, x.value?.ctype ?? null, x.maxEntries]),
    [
      ['bl_ct4', 'BPF_MAP_TYPE_LRU_HASH', 'struct bl_ct4_key', 'struct bl_ct_entry', 65536],
      ['bl_events', 'BPF_MAP_TYPE_RINGBUF', null, null, 1 << 20],
      ['bl_events_lost', 'BPF_MAP_TYPE_PERCPU_ARRAY', '__u32', '__u64', 8],
      ['bl_ipcache', 'BPF_MAP_TYPE_LPM_TRIE', 'struct bl_ipcache_key', 'struct bl_remote_endpoint_info', 16384],
      ['bl_lb4_affinity', 'BPF_MAP_TYPE_LRU_HASH', 'struct bl_lb4_affinity_key', 'struct bl_lb4_affinity', 65536],
      ['bl_lb4_backends', 'BPF_MAP_TYPE_HASH', '__u32', 'struct bl_lb4_backend', 65536],
      ['bl_lb4_maglev', 'BPF_MAP_TYPE_HASH', 'struct bl_lb4_maglev_key', '__u32', 1 << 20],
      ['bl_lb4_nodeport_nat', 'BPF_MAP_TYPE_LRU_HASH', 'struct bl_lb4_nodeport_nat_key', 'struct bl_lb4_nodeport_nat', 65536],
      ['bl_lb4_nodeport_snat', 'BPF_MAP_TYPE_LRU_HASH', 'struct bl_lb4_nodeport_snat_key', 'struct bl_lb4_nodeport_snat', 65536],
      ['bl_lb4_reverse_nat', 'BPF_MAP_TYPE_HASH', '__u16', 'struct bl_lb4_reverse_nat', 65536],
      ['bl_lb4_reverse_sk', 'BPF_MAP_TYPE_LRU_HASH', 'struct bl_lb4_reverse_sk_key', 'struct bl_lb4_reverse_sk', 65536],
      ['bl_lb4_services', 'BPF_MAP_TYPE_HASH', 'struct bl_lb4_key', 'struct bl_lb4_service', 65536],
      ['bl_lxc', 'BPF_MAP_TYPE_HASH', 'struct bl_endpoint_key', 'struct bl_endpoint_info', 4096],
      ['bl_metrics', 'BPF_MAP_TYPE_PERCPU_HASH', 'struct bl_metrics_key', 'struct bl_metrics_value', 1024],
      ['bl_policy', 'BPF_MAP_TYPE_LPM_TRIE', 'struct bl_policy_key', 'struct bl_policy_entry', 1 << 18],
    ],
  );
  assert.deepEqual(host.programs, [
    { name: 'bl_from_netdev', section: 'tc' },
    { name: 'bl_to_netdev', section: 'tc' },
  ]);
  const rodata = host.dataSections.find((d) => d.name === '.rodata');
  assert.deepEqual(
    rodata?.globals.map((g) => [g.name, g.offset, g.size, g.type.struct]),
    [
      ['bl_lb_maglev_table_size', 0, 4, undefined],
      ['bl_config', 4, 40, 'bl_datapath_config'],
    ],
  );
  assert.ok(!host.dataSections.some((d) => d.name === '.bl_abi'), 'the anchor section is not a data section');
  const drop = m.enums.find((e) => e.name === 'bl_drop_reason');
  const byName = new Map(drop?.values.map((v) => [v.name, v.value]));
  // Cilium's numbers (bpf/lib/drop_reasons.h).
  assert.equal(byName.get('BL_DROP_POLICY'), 133n);
  assert.equal(byName.get('BL_DROP_INVALID'), 134n);
  assert.equal(byName.get('BL_DROP_NO_SERVICE'), 158n);
  assert.equal(byName.get('BL_DROP_NO_FIB'), 169n);
  assert.equal(byName.get('BL_DROP_POLICY_DENY'), 181n);
  const obs = new Map(m.enums.find((e) => e.name === 'bl_trace_point')?.values.map((v) => [v.name, v.value]));
  assert.equal(obs.get('BL_TRACE_FROM_NETWORK'), 10n);
  assert.equal(obs.get('BL_TRACE_TO_NETWORK'), 11n);
});

test('generated text: header first, deterministic, manifest embedded', () => {
  const obj = hostObject();
  const a = generateAbiSource([obj]);
  const b = generateAbiSource([obj]);
  assert.equal(a, b, 'same input, same text');
  assert.equal(a.split('\n')[0], GENERATED_HEADER);
  assert.equal(GENERATED_HEADER, '// Code generated from BTF by scripts/gen-abi.ts. DO NOT EDIT.');
  const manifest = extractManifest(a);
  assert.ok(manifest, 'the manifest can be read back');
  assert.deepEqual(manifest, JSON.parse(JSON.stringify(toManifest(buildAbiModel([obj])))));
  assert.match(a, new RegExp(`export const ABI_HASH = '${abiHash(manifest)}';`));
  for (const name of ['encodeBlMetricsKey', 'decodeBlTraceNotify', 'BL_NOTIFY_HDR_SIZE', 'blDropReasonName', 'BPF_OBJECTS']) {
    assert.match(a, new RegExp(`export (function|const) ${name}\\b`));
  }
  assert.equal(extractManifest('no manifest here'), undefined);
  assert.equal(extractManifest(a.replace('"endianness"', 'endianness')), undefined, 'damaged JSON reads as no manifest');
});
