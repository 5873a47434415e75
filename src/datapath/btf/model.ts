/**
 * The ABI of one or more BPF objects, derived from their BTF and ELF: the
 * structs and enums that cross the kernel boundary, and per object its maps,
 * programs and global variables. codegen.ts renders it as TypeScript; the
 * manifest (a JSON projection) is embedded in the generated file so that
 * `gen-abi --check` can name what drifted.
 *
 * What counts as ABI: every struct and enum reachable from a map's key or
 * value, from a global variable (.rodata/.data/.bss), or from a BL_ABI_KEEP
 * anchor (section .bl_abi), plus every struct and enum whose name starts with
 * `bl_`. The rules of bpf/include/abi/common.h are enforced here: no holes
 * (padding must be explicit), no bitfields, no pointers.
 */
import { AbiMismatchError } from '../../common/errors.js';
import type { Btf, BtfComposite, BtfEnum, BtfType } from './btf.js';
import { SHF_EXECINSTR, STB_GLOBAL, STT_FUNC, type ElfObject } from './elf.js';

/** Section of the BL_ABI_KEEP anchors: ABI roots, never loaded. */
export const ANCHOR_SECTION = '.bl_abi';

export type Endianness = 'little' | 'big';

/** How one field is laid out and encoded. */
export type FieldType =
  | { readonly kind: 'int'; readonly size: 1 | 2 | 4 | 8; readonly signed: boolean; readonly endian: Endianness; readonly ctype: string }
  | { readonly kind: 'array'; readonly elem: FieldType; readonly count: number; readonly ctype: string }
  | { readonly kind: 'struct'; readonly name: string; readonly ctype: string }
  /** A union: carried as opaque bytes. */
  | { readonly kind: 'bytes'; readonly size: number; readonly ctype: string };

export interface AbiField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly type: FieldType;
  /** Named pad*, _pad*: zero on encode, left out of the TypeScript interface. */
  readonly padding: boolean;
}

export interface AbiStruct {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly AbiField[];
}

export interface AbiEnum {
  readonly name: string;
  readonly size: number;
  readonly signed: boolean;
  /** Sorted by value, then name. */
  readonly values: readonly { readonly name: string; readonly value: bigint }[];
}

/** The type of a map key/value or a global: its C spelling and, when codable, how. */
export interface TypeRef {
  readonly ctype: string;
  readonly size: number;
  /** Name of a generated struct. */
  readonly struct?: string;
  /** A plain integer (map indices, counters). */
  readonly int?: { readonly size: 1 | 2 | 4 | 8; readonly signed: boolean; readonly endian: Endianness };
}

export interface AbiMap {
  readonly name: string;
  readonly type: number;
  readonly typeName: string;
  readonly key: TypeRef | null;
  readonly keySize: number;
  readonly value: TypeRef | null;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** LIBBPF_PIN_* (0: none). */
  readonly pinning: number;
}

export interface AbiProgram {
  readonly name: string;
  /** ELF section, which tells libbpf the program type: `tc`, `xdp`, … */
  readonly section: string;
}

export interface AbiGlobal {
  readonly name: string;
  readonly section: string;
  readonly offset: number;
  readonly size: number;
  readonly type: TypeRef;
}

export interface AbiDataSection {
  readonly name: string;
  readonly size: number;
  readonly globals: readonly AbiGlobal[];
}

export interface AbiObject {
  /** `host` for host.bpf.o. */
  readonly name: string;
  readonly file: string;
  readonly license: string | null;
  readonly maps: readonly AbiMap[];
  readonly programs: readonly AbiProgram[];
  readonly dataSections: readonly AbiDataSection[];
}

export interface AbiModel {
  readonly endianness: Endianness;
  readonly structs: readonly AbiStruct[];
  readonly enums: readonly AbiEnum[];
  readonly objects: readonly AbiObject[];
}

/** One compiled object: its file name (no directory), BTF and ELF. */
export interface ParsedObject {
  readonly file: string;
  readonly btf: Btf;
  readonly elf: ElfObject;
}

/** enum bpf_map_type (include/uapi/linux/bpf.h), by value. */
export const BPF_MAP_TYPES: readonly string[] = [
  'UNSPEC', 'HASH', 'ARRAY', 'PROG_ARRAY', 'PERF_EVENT_ARRAY', 'PERCPU_HASH', 'PERCPU_ARRAY',
  'STACK_TRACE', 'CGROUP_ARRAY', 'LRU_HASH', 'LRU_PERCPU_HASH', 'LPM_TRIE', 'ARRAY_OF_MAPS',
  'HASH_OF_MAPS', 'DEVMAP', 'SOCKMAP', 'CPUMAP', 'XSKMAP', 'SOCKHASH', 'CGROUP_STORAGE',
  'REUSEPORT_SOCKARRAY', 'PERCPU_CGROUP_STORAGE', 'QUEUE', 'STACK', 'SK_STORAGE', 'DEVMAP_HASH',
  'STRUCT_OPS', 'RINGBUF', 'INODE_STORAGE', 'TASK_STORAGE', 'BLOOM_FILTER', 'USER_RINGBUF',
  'CGRP_STORAGE', 'ARENA',
].map((n) => `BPF_MAP_TYPE_${n}`);

/** Map types whose lookups return one value per possible CPU. */
export const PERCPU_MAP_TYPES: ReadonlySet<number> = new Set([5, 6, 10, 21]);

const PADDING_NAME = /^_*pad/;
const DATA_SECTION = /^\.(rodata|data|bss)(\..+)?$/;

function rule(msg: string): never {
  throw new AbiMismatchError(`ABI rule: ${msg}`, 'see the rules in bpf/include/abi/common.h');
}

/** Builds the ABI of one object and merges it with the others'. */
class ModelBuilder {
  readonly structs = new Map<string, { struct: AbiStruct; file: string }>();
  readonly enums = new Map<string, { enum: AbiEnum; file: string }>();
  endianness: Endianness | undefined;

  addObject(obj: ParsedObject): AbiObject {
    const endianness: Endianness = obj.elf.littleEndian ? 'little' : 'big';
    if (this.endianness && this.endianness !== endianness) {
      throw new AbiMismatchError(`ABI: ${obj.file} is ${endianness}-endian, the other objects are ${this.endianness}-endian`);
    }
    this.endianness = endianness;
    const ctx = new ObjectContext(obj, endianness, this);
    return ctx.build();
  }

  putStruct(s: AbiStruct, file: string): void {
    const prev = this.structs.get(s.name);
    if (!prev) this.structs.set(s.name, { struct: s, file });
    else if (JSON.stringify(manifestStruct(prev.struct)) !== JSON.stringify(manifestStruct(s))) {
      throw new AbiMismatchError(`ABI: struct ${s.name} differs between ${prev.file} and ${file}`, 'rebuild all objects from the same headers');
    }
  }

  putEnum(e: AbiEnum, file: string): void {
    const prev = this.enums.get(e.name);
    if (!prev) this.enums.set(e.name, { enum: e, file });
    else if (JSON.stringify(manifestEnum(prev.enum)) !== JSON.stringify(manifestEnum(e))) {
      throw new AbiMismatchError(`ABI: enum ${e.name} differs between ${prev.file} and ${file}`, 'rebuild all objects from the same headers');
    }
  }
}

class ObjectContext {
  private readonly btf: Btf;
  private readonly visiting = new Set<string>();

  constructor(
    private readonly obj: ParsedObject,
    private readonly endianness: Endianness,
    private readonly out: ModelBuilder,
  ) {
    this.btf = obj.btf;
  }

  build(): AbiObject {
    const { btf, elf } = this.obj;
    const maps = (btf.datasec('.maps')?.vars ?? []).map((v) => this.map(v.type));
    const programs = elf.symbols
      .filter((s) => s.type === STT_FUNC && s.bind === STB_GLOBAL && s.section && s.section !== '.text')
      .filter((s) => (elf.sections.find((x) => x.name === s.section)!.flags & SHF_EXECINSTR) !== 0)
      .map((s) => ({ name: s.name, section: s.section! }));
    const dataSections = btf
      .ofKind('DATASEC')
      .filter((d) => d.name !== undefined && DATA_SECTION.test(d.name))
      .map((d) => this.dataSection(d.name!, d.vars));
    for (const v of btf.datasec(ANCHOR_SECTION)?.vars ?? []) this.root(v.type);
    // Every bl_ type is ABI, whether or not something refers to it.
    for (const t of btf.types) {
      if ((t.kind === 'STRUCT' || t.kind === 'ENUM' || t.kind === 'ENUM64') && t.name?.startsWith('bl_')) this.root(t.id);
    }
    const licenseBytes = elf.sectionData('license');
    const license = licenseBytes ? licenseBytes.toString('latin1').replace(/\0[\s\S]*$/, '') : null;
    return {
      name: this.obj.file.replace(/(\.bpf)?\.o$/, ''),
      file: this.obj.file,
      license,
      maps: maps.sort((a, b) => cmp(a.name, b.name)),
      programs: programs.sort((a, b) => cmp(a.name, b.name)),
      dataSections: dataSections.sort((a, b) => cmp(a.name, b.name)),
    };
  }

  /** Registers the structs and enums a root type reaches. */
  private root(id: number): void {
    const { type: t } = this.btf.resolve(id);
    if (t.kind === 'VAR') return this.root(t.type);
    if (t.kind === 'ARRAY') return this.root(t.type);
    if (t.kind === 'STRUCT' && t.name) this.struct(t);
    if ((t.kind === 'ENUM' || t.kind === 'ENUM64') && t.name) this.enumType(t);
  }

  private enumType(t: BtfEnum): void {
    const values = [...t.values].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : cmp(a.name, b.name)));
    this.out.putEnum({ name: t.name!, size: t.size, signed: t.signed, values }, this.obj.file);
  }

  private struct(t: BtfComposite): AbiStruct {
    const name = t.name!;
    const done = this.out.structs.get(name);
    if (done && done.file === this.obj.file) return done.struct;
    if (this.visiting.has(name)) rule(`struct ${name} contains itself`);
    this.visiting.add(name);
    const fields: AbiField[] = [];
    let cursor = 0;
    for (const m of t.members) {
      const where = `struct ${name}.${m.name ?? '(anon)'}`;
      if (m.bitfieldSize !== 0 || m.bitsOffset % 8 !== 0) rule(`${where} is a bitfield; use whole fixed-width fields`);
      if (!m.name) rule(`${where}: anonymous members are not supported; name it`);
      const offset = m.bitsOffset / 8;
      const size = this.btf.sizeOf(m.type);
      if (offset > cursor) {
        rule(`struct ${name} has ${offset - cursor} byte(s) of implicit padding before field ${m.name} (offset ${cursor}); add an explicit pad field`);
      }
      const type = this.fieldType(m.type, where);
      const padding = PADDING_NAME.test(m.name);
      if (padding && !isIntOrIntArray(type)) rule(`${where} is named like padding but is not an integer or an integer array`);
      fields.push({ name: m.name, offset, size, type, padding });
      cursor = Math.max(cursor, offset + size);
    }
    if (cursor < t.size) {
      rule(`struct ${name} has ${t.size - cursor} byte(s) of implicit tail padding (after offset ${cursor}); add an explicit pad field`);
    }
    this.visiting.delete(name);
    const s: AbiStruct = { name, size: t.size, fields };
    this.out.putStruct(s, this.obj.file);
    return s;
  }

  private fieldType(id: number, where: string): FieldType {
    const { type: t, typedefs } = this.btf.resolve(id);
    const ctype = typedefs[0] ?? this.btf.cName(t.id);
    switch (t.kind) {
      case 'INT':
        return { kind: 'int', size: intSize(t.size, where), signed: t.signed, endian: this.endianOf(typedefs), ctype };
      case 'ENUM':
      case 'ENUM64':
        if (t.name) this.enumType(t);
        return { kind: 'int', size: intSize(t.size, where), signed: t.signed, endian: this.endianOf(typedefs), ctype };
      case 'ARRAY': {
        const elem = this.fieldType(t.type, where);
        return { kind: 'array', elem, count: t.nelems, ctype: arrayCType(elem.ctype, t.nelems) };
      }
      case 'STRUCT':
        if (!t.name) rule(`${where}: anonymous struct types are not supported; name the struct`);
        this.struct(t);
        return { kind: 'struct', name: t.name, ctype: `struct ${t.name}` };
      case 'UNION':
        return { kind: 'bytes', size: t.size, ctype: typedefs[0] ?? `union ${t.name ?? '(anon)'}` };
      default:
        return rule(`${where} has type ${this.btf.cName(id)}; only fixed-width integers, arrays and structs cross the boundary`);
    }
  }

  /** __be16/__be32/__be64 are big-endian whatever the target; __le* little; the rest native. */
  private endianOf(typedefs: readonly string[]): Endianness {
    for (const n of typedefs) {
      if (/^__be(16|32|64)$/.test(n)) return 'big';
      if (/^__le(16|32|64)$/.test(n)) return 'little';
    }
    return this.endianness;
  }

  private typeRef(id: number): TypeRef {
    const { type: t, typedefs } = this.btf.resolve(id);
    const size = this.btf.sizeOf(id);
    const ctype = typedefs[0] ?? this.btf.cName(t.id);
    if (t.kind === 'STRUCT' && t.name) {
      this.struct(t);
      return { ctype, size, struct: t.name };
    }
    if (t.kind === 'INT' || t.kind === 'ENUM' || t.kind === 'ENUM64') {
      if ((t.kind === 'ENUM' || t.kind === 'ENUM64') && t.name) this.enumType(t);
      if (size === 1 || size === 2 || size === 4 || size === 8) {
        return { ctype, size, int: { size, signed: t.signed, endian: this.endianOf(typedefs) } };
      }
    }
    this.root(id);
    return { ctype, size };
  }

  /** Decodes a BTF-defined map (`struct { __uint(type, …); __type(key, …); … } name SEC(".maps")`). */
  private map(varId: number): AbiMap {
    const v = this.btf.get(varId);
    if (v.kind !== 'VAR' || !v.name) throw new AbiMismatchError(`${this.obj.file}: .maps holds a non-variable (type id ${varId})`);
    const def = this.btf.resolve(v.type).type;
    if (def.kind !== 'STRUCT') throw new AbiMismatchError(`${this.obj.file}: map ${v.name} is not a struct`);
    const ints: Record<string, number> = {};
    let key: TypeRef | null = null;
    let value: TypeRef | null = null;
    for (const m of def.members) {
      if (!m.name) continue;
      if (m.name === 'key' || m.name === 'value') {
        // __type(key, T) is `T *key`: the pointee is the key type.
        const p = this.btf.skipQualifiers(m.type);
        if (p.kind !== 'PTR') throw new AbiMismatchError(`${this.obj.file}: map ${v.name}: ${m.name} is not declared with __type()`);
        const ref = this.typeRef(p.type);
        if (m.name === 'key') key = ref;
        else value = ref;
      } else {
        // __uint(name, N) is `int (*name)[N]`: the value is the array's dimension.
        const n = this.ptrArrayDim(m.type);
        if (n !== undefined) ints[m.name] = n;
      }
    }
    const type = ints.type ?? 0;
    return {
      name: v.name,
      type,
      typeName: BPF_MAP_TYPES[type] ?? `BPF_MAP_TYPE_${type}`,
      key,
      keySize: key?.size ?? ints.key_size ?? 0,
      value,
      valueSize: value?.size ?? ints.value_size ?? 0,
      maxEntries: ints.max_entries ?? 0,
      flags: ints.map_flags ?? 0,
      pinning: ints.pinning ?? 0,
    };
  }

  private ptrArrayDim(id: number): number | undefined {
    const p = this.btf.skipQualifiers(id);
    if (p.kind !== 'PTR') return undefined;
    const a = this.btf.resolve(p.type).type;
    return a.kind === 'ARRAY' ? a.nelems : undefined;
  }

  private dataSection(name: string, vars: readonly { type: number; offset: number; size: number }[]): AbiDataSection {
    const { elf, btf } = this.obj;
    const section = elf.sections.find((s) => s.name === name);
    const globals = vars.map((sv): AbiGlobal => {
      const v = btf.get(sv.type) as BtfType;
      if (v.kind !== 'VAR' || !v.name) throw new AbiMismatchError(`${this.obj.file}: ${name} holds a non-variable (type id ${sv.type})`);
      // The BTF offset is 0 for globals in an unlinked object; the symbol table is right.
      const sym = elf.symbols.find((s) => s.name === v.name && s.section === name);
      return { name: v.name, section: name, offset: sym?.value ?? sv.offset, size: sv.size, type: this.typeRef(v.type) };
    });
    return { name, size: section?.size ?? 0, globals: globals.sort((a, b) => a.offset - b.offset || cmp(a.name, b.name)) };
  }
}

function intSize(size: number, where: string): 1 | 2 | 4 | 8 {
  if (size === 1 || size === 2 || size === 4 || size === 8) return size;
  return rule(`${where} is a ${size}-byte integer; use __u8..__u64`);
}

function isIntOrIntArray(t: FieldType): boolean {
  return t.kind === 'int' || (t.kind === 'array' && isIntOrIntArray(t.elem));
}

/** `__u8` + 128 → `__u8[128]`; `__u8[4]` + 2 → `__u8[2][4]` (C order). */
function arrayCType(elem: string, n: number): string {
  const i = elem.indexOf('[');
  return i < 0 ? `${elem}[${n}]` : `${elem.slice(0, i)}[${n}]${elem.slice(i)}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Derives the ABI model of a set of objects (sorted, so the output is deterministic). */
export function buildAbiModel(objects: readonly ParsedObject[]): AbiModel {
  const b = new ModelBuilder();
  const objs = [...objects].sort((x, y) => cmp(x.file, y.file)).map((o) => b.addObject(o));
  const names = new Set<string>();
  for (const o of objs) {
    if (names.has(o.name)) throw new AbiMismatchError(`ABI: two objects are named ${o.file}`);
    names.add(o.name);
  }
  return {
    endianness: b.endianness ?? 'little',
    structs: [...b.structs.values()].map((s) => s.struct).sort((x, y) => cmp(x.name, y.name)),
    enums: [...b.enums.values()].map((e) => e.enum).sort((x, y) => cmp(x.name, y.name)),
    objects: objs,
  };
}

// ---------------------------------------------------------------------------
// The manifest: a JSON-able summary, embedded in the generated file, compared
// by `gen-abi --check`.

export interface ManifestField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly type: string;
}
export interface ManifestStruct {
  readonly size: number;
  readonly fields: readonly ManifestField[];
}
export interface ManifestMap {
  readonly type: string;
  readonly key: string | null;
  readonly keySize: number;
  readonly value: string | null;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
}
export interface ManifestGlobal {
  readonly section: string;
  readonly offset: number;
  readonly size: number;
  readonly type: string;
}
export interface ManifestObject {
  readonly file: string;
  readonly license: string | null;
  readonly maps: Readonly<Record<string, ManifestMap>>;
  readonly programs: Readonly<Record<string, { readonly section: string }>>;
  readonly globals: Readonly<Record<string, ManifestGlobal>>;
}
export interface AbiManifest {
  readonly endianness: Endianness;
  readonly structs: Readonly<Record<string, ManifestStruct>>;
  /** Enum values are numbers, or decimal strings beyond 2^53. */
  readonly enums: Readonly<Record<string, Readonly<Record<string, number | string>>>>;
  readonly objects: Readonly<Record<string, ManifestObject>>;
}

function manifestStruct(s: AbiStruct): ManifestStruct {
  return { size: s.size, fields: s.fields.map((f) => ({ name: f.name, offset: f.offset, size: f.size, type: f.type.ctype })) };
}

/** An enum value as a JSON number when exact, else as a decimal string. */
export function enumValueJson(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function manifestEnum(e: AbiEnum): Record<string, number | string> {
  return Object.fromEntries(e.values.map((v) => [v.name, enumValueJson(v.value)]));
}

export function toManifest(model: AbiModel): AbiManifest {
  return {
    endianness: model.endianness,
    structs: Object.fromEntries(model.structs.map((s) => [s.name, manifestStruct(s)])),
    enums: Object.fromEntries(model.enums.map((e) => [e.name, manifestEnum(e)])),
    objects: Object.fromEntries(
      model.objects.map((o) => [
        o.name,
        {
          file: o.file,
          license: o.license,
          maps: Object.fromEntries(
            o.maps.map((m) => [
              m.name,
              {
                type: m.typeName,
                key: m.key?.ctype ?? null,
                keySize: m.keySize,
                value: m.value?.ctype ?? null,
                valueSize: m.valueSize,
                maxEntries: m.maxEntries,
                flags: m.flags,
              },
            ]),
          ),
          programs: Object.fromEntries(o.programs.map((p) => [p.name, { section: p.section }])),
          globals: Object.fromEntries(
            o.dataSections.flatMap((d) =>
              d.globals.map((g) => [g.name, { section: g.section, offset: g.offset, size: g.size, type: g.type.ctype }]),
            ),
          ),
        },
      ]),
    ),
  };
}

/** `a → b` for messages. */
function arrow(a: unknown, b: unknown): string {
  return `${String(a)} → ${String(b)}`;
}

function keysOf(a: object | undefined, b: object | undefined): string[] {
  return [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();
}

function fieldDesc(f: ManifestField): string {
  return `${f.type} at ${f.offset}`;
}

function diffStruct(name: string, a: ManifestStruct, b: ManifestStruct): string | undefined {
  const parts: string[] = [];
  if (a.size !== b.size) parts.push(`size ${arrow(a.size, b.size)}`);
  const af = new Map(a.fields.map((f) => [f.name, f]));
  const bf = new Map(b.fields.map((f) => [f.name, f]));
  for (const f of b.fields) {
    const old = af.get(f.name);
    if (!old) parts.push(`field ${f.name} added (${fieldDesc(f)})`);
    else if (old.type !== f.type || old.offset !== f.offset || old.size !== f.size) {
      parts.push(`field ${f.name}: ${arrow(fieldDesc(old), fieldDesc(f))}`);
    }
  }
  for (const f of a.fields) if (!bf.has(f.name)) parts.push(`field ${f.name} removed`);
  if (parts.length === 0 && a.fields.map((f) => f.name).join() !== b.fields.map((f) => f.name).join()) {
    parts.push('fields reordered');
  }
  return parts.length ? `struct ${name} changed (${parts.join('; ')})` : undefined;
}

function diffRecord<T>(
  label: (name: string) => string,
  a: Readonly<Record<string, T>> | undefined,
  b: Readonly<Record<string, T>> | undefined,
  changed: (name: string, x: T, y: T) => string[] | string | undefined,
): string[] {
  const out: string[] = [];
  for (const k of keysOf(a, b)) {
    const x = a?.[k];
    const y = b?.[k];
    if (x === undefined) out.push(`${label(k)} added`);
    else if (y === undefined) out.push(`${label(k)} removed`);
    else {
      const d = changed(k, x, y);
      if (d) out.push(...(typeof d === 'string' ? [d] : d));
    }
  }
  return out;
}

function diffFlat(a: object, b: object): string[] {
  const parts: string[] = [];
  for (const k of keysOf(a, b)) {
    const x = (a as Record<string, unknown>)[k];
    const y = (b as Record<string, unknown>)[k];
    if (JSON.stringify(x) !== JSON.stringify(y)) parts.push(`${k} ${arrow(x ?? 'none', y ?? 'none')}`);
  }
  return parts;
}

/**
 * What changed from the committed ABI (`before`) to the compiled one
 * (`after`): one line per struct, enum, map, program or global.
 */
export function diffManifests(before: AbiManifest, after: AbiManifest): string[] {
  const out: string[] = [];
  if (before.endianness !== after.endianness) out.push(`byte order changed (${arrow(before.endianness, after.endianness)})`);
  out.push(...diffRecord((n) => `struct ${n}`, before.structs, after.structs, diffStruct));
  out.push(
    ...diffRecord((n) => `enum ${n}`, before.enums, after.enums, (name, x, y) => {
      const parts: string[] = [];
      for (const k of keysOf(x, y)) {
        if (x[k] === undefined) parts.push(`${k} added (${y[k]})`);
        else if (y[k] === undefined) parts.push(`${k} removed`);
        else if (x[k] !== y[k]) parts.push(`${k}: ${arrow(x[k], y[k])}`);
      }
      return parts.length ? `enum ${name} changed (${parts.join('; ')})` : undefined;
    }),
  );
  out.push(
    ...diffRecord((n) => `object ${n}`, before.objects, after.objects, (o, x, y) => {
      const changedFlat = (what: string) => (n: string, p: object, q: object) => {
        const parts = diffFlat(p, q);
        return parts.length ? `${what} ${o}:${n} changed (${parts.join('; ')})` : undefined;
      };
      return [
        ...diffFlat({ file: x.file, license: x.license }, { file: y.file, license: y.license }).map((p) => `object ${o} changed (${p})`),
        ...diffRecord((n) => `map ${o}:${n}`, x.maps, y.maps, changedFlat('map')),
        ...diffRecord((n) => `program ${o}:${n}`, x.programs, y.programs, changedFlat('program')),
        ...diffRecord((n) => `global ${o}:${n}`, x.globals, y.globals, changedFlat('global')),
      ];
    }),
  );
  return out;
}
