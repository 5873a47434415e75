import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BeelineError } from '../../common/errors.js';
import { loadObjectBtf, parseBpftoolBtf } from './btf.js';
import { EM_BPF, STT_FUNC, parseElf, readElfFile } from './elf.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const HOST_OBJ = resolve(ROOT, 'build/bpf/host.bpf.o');

function hostObject(): string {
  assert.ok(existsSync(HOST_OBJ), `${HOST_OBJ} is missing: run 'make bpf' first`);
  return HOST_OBJ;
}

// The shape bpftool 7 prints for `struct s { __be16 port; __u8 b[3]; }` plus a map definition.
const FIXTURE = {
  types: [
    { id: 1, kind: 'INT', name: 'unsigned short', size: 2, bits_offset: 0, nr_bits: 16, encoding: '(none)' },
    { id: 2, kind: 'TYPEDEF', name: '__u16', type_id: 1 },
    { id: 3, kind: 'TYPEDEF', name: '__be16', type_id: 2 },
    { id: 4, kind: 'INT', name: 'unsigned char', size: 1, bits_offset: 0, nr_bits: 8, encoding: '(none)' },
    { id: 5, kind: 'TYPEDEF', name: '__u8', type_id: 4 },
    { id: 6, kind: 'INT', name: '__ARRAY_SIZE_TYPE__', size: 4, bits_offset: 0, nr_bits: 32, encoding: '(none)' },
    { id: 7, kind: 'ARRAY', name: '(anon)', type_id: 5, index_type_id: 6, nr_elems: 3 },
    {
      id: 8,
      kind: 'STRUCT',
      name: 's',
      size: 6,
      vlen: 2,
      members: [
        { name: 'port', type_id: 3, bits_offset: 0 },
        { name: 'b', type_id: 7, bits_offset: 16 },
      ],
    },
    { id: 9, kind: 'CONST', name: '(anon)', type_id: 10 },
    { id: 10, kind: 'VOLATILE', name: '(anon)', type_id: 8 },
    { id: 11, kind: 'VAR', name: 'cfg', type_id: 9, linkage: 'global' },
    { id: 12, kind: 'DATASEC', name: '.rodata', size: 0, vlen: 1, vars: [{ type_id: 11, offset: 0, size: 6 }] },
    { id: 13, kind: 'ENUM', name: 'e', encoding: 'SIGNED', size: 4, vlen: 2, values: [{ name: 'E_A', val: -1 }, { name: 'E_B', val: 7 }] },
    { id: 14, kind: 'PTR', name: '(anon)', type_id: 8 },
    { id: 15, kind: 'SOMETHING_NEW', name: 'x' },
  ],
};

test('parses bpftool JSON into typed BTF', () => {
  const btf = parseBpftoolBtf(FIXTURE);
  const s = btf.get(8);
  assert.equal(s.kind, 'STRUCT');
  assert.equal(s.name, 's');
  assert.equal(btf.sizeOf(8), 6);
  assert.equal(btf.sizeOf(7), 3);
  assert.equal(btf.sizeOf(14), 8);
  assert.equal(btf.get(7).name, undefined, '(anon) becomes undefined');
  assert.equal(btf.get(0).kind, 'VOID');
  assert.equal(btf.get(15).kind, 'UNKNOWN');
  const e = btf.get(13);
  assert.ok(e.kind === 'ENUM');
  assert.equal(e.signed, true);
  assert.deepEqual(
    e.values.map((v) => [v.name, v.value]),
    [
      ['E_A', -1n],
      ['E_B', 7n],
    ],
  );
});

test('resolve follows typedefs and qualifiers but remembers typedef names', () => {
  const btf = parseBpftoolBtf(FIXTURE);
  const r = btf.resolve(3);
  assert.equal(r.type.kind, 'INT');
  assert.deepEqual(r.typedefs, ['__be16', '__u16']);
  assert.equal(btf.resolve(9).type.id, 8, 'const volatile struct s resolves to struct s');
  assert.equal(btf.skipQualifiers(9).id, 8);
});

test('cName spells types as C does', () => {
  const btf = parseBpftoolBtf(FIXTURE);
  assert.equal(btf.cName(3), '__be16');
  assert.equal(btf.cName(7), '__u8[3]');
  assert.equal(btf.cName(8), 'struct s');
  assert.equal(btf.cName(9), 'const volatile struct s');
  assert.equal(btf.cName(14), 'struct s *');
  assert.equal(btf.cName(13), 'enum e');
});

test('datasec and ofKind find sections and types', () => {
  const btf = parseBpftoolBtf(FIXTURE);
  assert.equal(btf.datasec('.rodata')?.vars[0]?.type, 11);
  assert.equal(btf.datasec('.data'), undefined);
  assert.deepEqual(
    btf.ofKind('TYPEDEF').map((t) => t.name),
    ['__u16', '__be16', '__u8'],
  );
});

test('rejects input that is not bpftool BTF JSON, with a coded error', () => {
  for (const bad of [null, 42, { types: 'x' }, { types: [{ id: 1 }] }, { types: [{ id: 1, kind: 'INT', name: 'int' }] }]) {
    assert.throws(
      () => parseBpftoolBtf(bad),
      (e: unknown) => e instanceof BeelineError && e.code === 'BL_ERR_ABI_MISMATCH' && /BTF JSON/.test(e.message),
    );
  }
  const btf = parseBpftoolBtf(FIXTURE);
  assert.throws(() => btf.get(99), /type id 99/);
});

test('loadObjectBtf reads the real host object', () => {
  const btf = loadObjectBtf(hostObject());
  const key = btf.ofKind('STRUCT').find((s) => s.name === 'bl_metrics_key');
  assert.ok(key, 'struct bl_metrics_key is in the BTF');
  assert.equal(key.size, 8);
  const hdr = btf.ofKind('STRUCT').find((s) => s.name === 'bl_notify_hdr');
  assert.ok(hdr);
  const proto = hdr.members.find((m) => m.name === 'proto');
  assert.ok(proto);
  assert.deepEqual(btf.resolve(proto.type).typedefs, ['__be16', '__u16']);
  assert.deepEqual(
    btf
      .ofKind('FUNC')
      .map((f) => f.name)
      .filter((n) => n?.startsWith('bl_'))
      .sort(),
    ['bl_from_netdev', 'bl_to_netdev'],
  );
  assert.ok(btf.datasec('.maps'));
  assert.ok(btf.datasec('.bl_abi'), 'BL_ABI_KEEP anchors are in section .bl_abi');
});

test('loadObjectBtf names a missing object', () => {
  assert.throws(() => loadObjectBtf('/nonexistent/x.bpf.o'), (e: unknown) => e instanceof BeelineError && /no such file/.test(e.message));
});

test('parseElf reads sections and symbols of the real host object', () => {
  const elf = readElfFile(hostObject());
  assert.equal(elf.machine, EM_BPF);
  assert.equal(elf.littleEndian, true);
  const cfg = elf.symbols.find((s) => s.name === 'bl_config');
  assert.equal(cfg?.section, '.rodata');
  assert.equal(cfg?.size, 40);
  // Two const volatile globals share .rodata: the Maglev table size (4 bytes) and the config after it.
  const m = elf.symbols.find((s) => s.name === 'bl_lb_maglev_table_size');
  assert.equal(m?.section, '.rodata');
  assert.equal(m?.size, 4);
  assert.ok(cfg!.value >= m!.value + 4 || m!.value >= cfg!.value + 40, 'the two do not overlap');
  const progs = elf.symbols.filter((s) => s.type === STT_FUNC && s.section === 'tc').map((s) => s.name);
  assert.deepEqual(progs.sort(), ['bl_from_netdev', 'bl_to_netdev']);
  assert.ok(elf.sections.some((s) => s.name === '.BTF'));
  assert.ok(elf.sectionData('license')?.toString('latin1').startsWith('Dual BSD/GPL'));
  assert.equal(elf.sectionData('.nope'), undefined);
});

test('parseElf rejects what is not a 64-bit ELF file', () => {
  assert.throws(() => parseElf(Buffer.from('not an elf file at all, not at all, really not, no, no, no, no.')), /not an ELF file/);
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 1;
  assert.throws(() => parseElf(header), /not a 64-bit ELF/);
  header[4] = 2;
  header[5] = 1;
  assert.throws(() => parseElf(header), /section headers/);
});
