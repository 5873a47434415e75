import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BeelineError } from '../../common/errors.js';
import { parseBpftoolBtf } from './btf.js';
import type { ElfObject, ElfSymbol } from './elf.js';
import { buildAbiModel, diffManifests, toManifest, type AbiManifest, type ParsedObject } from './model.js';

/** Builds bpftool-shaped BTF JSON type by type; ids are assigned in order from 1. */
class BtfFixture {
  readonly types: Record<string, unknown>[] = [];
  private add(t: Record<string, unknown>): number {
    const id = this.types.length + 1;
    this.types.push({ id, name: '(anon)', ...t });
    return id;
  }
  int(name: string, size: number, signed = false): number {
    return this.add({ kind: 'INT', name, size, bits_offset: 0, nr_bits: size * 8, encoding: signed ? 'SIGNED' : '(none)' });
  }
  typedef(name: string, type: number): number {
    return this.add({ kind: 'TYPEDEF', name, type_id: type });
  }
  array(type: number, n: number): number {
    return this.add({ kind: 'ARRAY', type_id: type, index_type_id: type, nr_elems: n });
  }
  ptr(type: number): number {
    return this.add({ kind: 'PTR', type_id: type });
  }
  struct(name: string | undefined, size: number, members: [string, number, number, number?][]): number {
    return this.add({
      kind: 'STRUCT',
      name: name ?? '(anon)',
      size,
      vlen: members.length,
      members: members.map(([n, type, byteOff, bitfield]) => ({
        name: n,
        type_id: type,
        bits_offset: byteOff * 8,
        ...(bitfield ? { bitfield_size: bitfield } : {}),
      })),
    });
  }
  enum(name: string, values: [string, number][]): number {
    return this.add({ kind: 'ENUM', name, size: 4, encoding: 'UNSIGNED', vlen: values.length, values: values.map(([n, v]) => ({ name: n, val: v })) });
  }
  variable(name: string, type: number): number {
    return this.add({ kind: 'VAR', name, type_id: type, linkage: 'global' });
  }
  datasec(name: string, vars: [number, number][]): number {
    return this.add({ kind: 'DATASEC', name, size: 0, vlen: vars.length, vars: vars.map(([t, size]) => ({ type_id: t, offset: 0, size })) });
  }
  /** `int (*name)[n]`, how __uint(name, n) encodes a map attribute. */
  uint(n: number): number {
    return this.ptr(this.array(this.int('int', 4, true), n));
  }
}

function object(f: BtfFixture, symbols: ElfSymbol[] = [], sections: [string, number][] = []): ParsedObject {
  const elf: ElfObject = {
    littleEndian: true,
    machine: 247,
    sections: sections.map(([name, size], index) => ({ index, name, type: 1, flags: name === 'tc' ? 6 : 2, offset: 0, size })),
    symbols,
    sectionData: () => undefined,
  };
  return { file: 'test.bpf.o', btf: parseBpftoolBtf({ types: f.types }), elf };
}

function ruleError(re: RegExp) {
  return (e: unknown) => e instanceof BeelineError && e.code === 'BL_ERR_ABI_MISMATCH' && re.test(e.message);
}

test('a bl_ struct becomes an ABI struct with its layout and byte order', () => {
  const f = new BtfFixture();
  const u8 = f.typedef('__u8', f.int('unsigned char', 1));
  const u16 = f.typedef('__u16', f.int('unsigned short', 2));
  const be16 = f.typedef('__be16', u16);
  const u64 = f.typedef('__u64', f.int('unsigned long long', 8));
  f.struct('bl_x', 16, [
    ['a', u8, 0],
    ['pad0', u8, 1],
    ['port', be16, 2],
    ['_pad1', f.array(u8, 4), 4],
    ['n', u64, 8],
  ]);
  const m = buildAbiModel([object(f)]);
  assert.equal(m.structs.length, 1);
  const s = m.structs[0]!;
  assert.equal(s.size, 16);
  assert.deepEqual(
    s.fields.map((x) => [x.name, x.offset, x.size, x.type.ctype, x.padding]),
    [
      ['a', 0, 1, '__u8', false],
      ['pad0', 1, 1, '__u8', true],
      ['port', 2, 2, '__be16', false],
      ['_pad1', 4, 4, '__u8[4]', true],
      ['n', 8, 8, '__u64', false],
    ],
  );
  const port = s.fields[2]!.type;
  assert.ok(port.kind === 'int' && port.endian === 'big', '__be16 is big-endian');
  const n = s.fields[4]!.type;
  assert.ok(n.kind === 'int' && n.endian === 'little', 'plain integers are in the target byte order');
});

test('implicit padding, bitfields, pointers and anonymous structs break the ABI rules', () => {
  {
    const f = new BtfFixture();
    const u8 = f.typedef('__u8', f.int('unsigned char', 1));
    const u32 = f.typedef('__u32', f.int('unsigned int', 4));
    f.struct('bl_hole', 8, [
      ['a', u8, 0],
      ['b', u32, 4],
    ]);
    assert.throws(() => buildAbiModel([object(f)]), ruleError(/struct bl_hole has 3 byte\(s\) of implicit padding before field b/));
  }
  {
    const f = new BtfFixture();
    const u32 = f.typedef('__u32', f.int('unsigned int', 4));
    const u8 = f.typedef('__u8', f.int('unsigned char', 1));
    f.struct('bl_tail', 8, [
      ['a', u32, 0],
      ['b', u8, 4],
    ]);
    assert.throws(() => buildAbiModel([object(f)]), ruleError(/struct bl_tail has 3 byte\(s\) of implicit tail padding/));
  }
  {
    const f = new BtfFixture();
    const u32 = f.typedef('__u32', f.int('unsigned int', 4));
    f.struct('bl_bits', 4, [['a', u32, 0, 3]]);
    assert.throws(() => buildAbiModel([object(f)]), ruleError(/bl_bits.a is a bitfield/));
  }
  {
    const f = new BtfFixture();
    const u32 = f.typedef('__u32', f.int('unsigned int', 4));
    f.struct('bl_ptr', 8, [['p', f.ptr(u32), 0]]);
    assert.throws(() => buildAbiModel([object(f)]), ruleError(/bl_ptr.p has type __u32 \*/));
  }
  {
    const f = new BtfFixture();
    const u32 = f.typedef('__u32', f.int('unsigned int', 4));
    const anon = f.struct(undefined, 4, [['a', u32, 0]]);
    f.struct('bl_outer', 4, [['in', anon, 0]]);
    assert.throws(() => buildAbiModel([object(f)]), ruleError(/anonymous struct/));
  }
  {
    const f = new BtfFixture();
    const u32 = f.typedef('__u32', f.int('unsigned int', 4));
    f.struct('bl_p', 4, [['pad', f.ptr(u32), 0]]);
    assert.throws(() => buildAbiModel([object(f)]), ruleError(/bl_p.pad/));
  }
});

test('maps are decoded from their BTF definition', () => {
  const f = new BtfFixture();
  const u8 = f.typedef('__u8', f.int('unsigned char', 1));
  const u32 = f.typedef('__u32', f.int('unsigned int', 4));
  const key = f.struct('k', 4, [
    ['a', u8, 0],
    ['pad', f.array(u8, 3), 1],
  ]);
  const def = f.struct(undefined, 32, [
    ['type', f.uint(5), 0],
    ['max_entries', f.uint(1024), 8],
    ['key', f.ptr(key), 16],
    ['value', f.ptr(u32), 24],
  ]);
  const rb = f.struct(undefined, 16, [
    ['type', f.uint(27), 0],
    ['max_entries', f.uint(1 << 20), 8],
  ]);
  f.datasec('.maps', [
    [f.variable('m', def), 32],
    [f.variable('rb', rb), 16],
  ]);
  const m = buildAbiModel([object(f)]);
  const [mm, rbm] = m.objects[0]!.maps;
  assert.equal(mm?.name, 'm');
  assert.equal(mm?.typeName, 'BPF_MAP_TYPE_PERCPU_HASH');
  assert.equal(mm?.maxEntries, 1024);
  assert.equal(mm?.key?.struct, 'k');
  assert.equal(mm?.keySize, 4);
  assert.deepEqual(mm?.value?.int, { size: 4, signed: false, endian: 'little' });
  assert.equal(rbm?.typeName, 'BPF_MAP_TYPE_RINGBUF');
  assert.equal(rbm?.maxEntries, 1 << 20);
  assert.equal(rbm?.key, null);
  assert.deepEqual(
    m.structs.map((s) => s.name),
    ['k'],
    'a map key struct is ABI even without the bl_ prefix',
  );
});

test('globals take their offsets from the symbol table, programs their section', () => {
  const f = new BtfFixture();
  const u32 = f.typedef('__u32', f.int('unsigned int', 4));
  const e = f.enum('bl_e', [
    ['BL_B', 2],
    ['BL_A', 1],
  ]);
  f.datasec('.rodata', [
    [f.variable('a', u32), 4],
    [f.variable('b', u32), 4],
  ]);
  f.datasec('.bl_abi', [[f.variable('keep', e), 4]]);
  const sym = (name: string, section: string, value: number, type = 1, bind = 1): ElfSymbol => ({ name, section, value, size: 4, type, bind });
  const m = buildAbiModel([
    object(
      f,
      [sym('a', '.rodata', 4), sym('b', '.rodata', 0), sym('prog', 'tc', 0, 2), sym('helper', '.text', 0, 2)],
      [
        ['', 0],
        ['.rodata', 8],
        ['tc', 64],
        ['.text', 8],
      ],
    ),
  ]);
  const o = m.objects[0]!;
  assert.equal(o.name, 'test');
  assert.deepEqual(
    o.dataSections[0]?.globals.map((g) => [g.name, g.offset]),
    [
      ['b', 0],
      ['a', 4],
    ],
  );
  assert.equal(o.dataSections[0]?.size, 8);
  assert.deepEqual(o.programs, [{ name: 'prog', section: 'tc' }]);
  assert.deepEqual(
    m.enums[0]?.values.map((v) => v.name),
    ['BL_A', 'BL_B'],
    'enum values sorted by value',
  );
});

test('the same struct must agree across objects', () => {
  const make = (size: number) => {
    const f = new BtfFixture();
    const u32 = f.typedef('__u32', f.int('unsigned int', 4));
    f.struct('bl_s', size, size === 4 ? [['a', u32, 0]] : [['a', u32, 0], ['b', u32, 4]]);
    return f;
  };
  const a = { ...object(make(4)), file: 'a.bpf.o' };
  const b = { ...object(make(8)), file: 'b.bpf.o' };
  assert.throws(() => buildAbiModel([a, b]), /struct bl_s differs between a.bpf.o and b.bpf.o/);
  const c = { ...object(make(4)), file: 'c.bpf.o' };
  assert.equal(buildAbiModel([a, c]).structs.length, 1);
});

test('diffManifests names every kind of difference on its own line', () => {
  const before: AbiManifest = {
    endianness: 'little',
    structs: {
      bl_k: {
        size: 8,
        fields: [
          { name: 'reason', offset: 0, size: 1, type: '__u8' },
          { name: 'pad', offset: 1, size: 7, type: '__u8[7]' },
        ],
      },
      bl_gone: { size: 4, fields: [{ name: 'a', offset: 0, size: 4, type: '__u32' }] },
    },
    enums: { bl_e: { BL_A: 1, BL_B: 2 } },
    objects: {
      host: {
        file: 'host.bpf.o',
        license: 'GPL',
        maps: { m: { type: 'BPF_MAP_TYPE_HASH', key: 'struct bl_k', keySize: 8, value: '__u64', valueSize: 8, maxEntries: 16, flags: 0 } },
        programs: { p: { section: 'tc' } },
        globals: { cfg: { section: '.rodata', offset: 0, size: 4, type: '__u32' } },
      },
    },
  };
  const after: AbiManifest = {
    ...before,
    structs: {
      bl_k: {
        size: 12,
        fields: [
          { name: 'reason', offset: 0, size: 2, type: '__u16' },
          { name: 'pad', offset: 2, size: 6, type: '__u8[6]' },
          { name: 'extra', offset: 8, size: 4, type: '__u32' },
        ],
      },
      bl_new: { size: 4, fields: [{ name: 'a', offset: 0, size: 4, type: '__u32' }] },
    },
    enums: { bl_e: { BL_A: 1, BL_B: 3, BL_C: 4 } },
    objects: {
      host: {
        ...before.objects.host!,
        maps: { m: { ...before.objects.host!.maps.m!, keySize: 12, maxEntries: 32 } },
        programs: { p: { section: 'tc' }, q: { section: 'xdp' } },
        globals: { cfg: { section: '.rodata', offset: 8, size: 4, type: '__u32' } },
      },
    },
  };
  assert.deepEqual(diffManifests(before, before), []);
  assert.deepEqual(diffManifests(before, after), [
    'struct bl_gone removed',
    'struct bl_k changed (size 8 → 12; field reason: __u8 at 0 → __u16 at 0; field pad: __u8[7] at 1 → __u8[6] at 2; field extra added (__u32 at 8))',
    'struct bl_new added',
    'enum bl_e changed (BL_B: 2 → 3; BL_C added (4))',
    'map host:m changed (keySize 8 → 12; maxEntries 16 → 32)',
    'program host:q added',
    'global host:cfg changed (offset 0 → 8)',
  ]);
});

test('toManifest is JSON-stable', () => {
  const f = new BtfFixture();
  const u32 = f.typedef('__u32', f.int('unsigned int', 4));
  f.struct('bl_s', 4, [['a', u32, 0]]);
  const m = toManifest(buildAbiModel([object(f)]));
  assert.deepEqual(JSON.parse(JSON.stringify(m)), m);
  assert.deepEqual(m.structs.bl_s, { size: 4, fields: [{ name: 'a', offset: 0, size: 4, type: '__u32' }] });
});
