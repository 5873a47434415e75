/**
 * Renders the ABI of compiled BPF objects as TypeScript: for every struct an
 * interface, size, layout table and encode/decode functions; for every enum a
 * const object and a name lookup; per object its maps, programs and globals;
 * and the manifest `gen-abi --check` compares. Pure: BTF and ELF in, text out,
 * the same text for the same input.
 */
import { createHash } from 'node:crypto';
import { AbiMismatchError } from '../../common/errors.js';
import {
  PERCPU_MAP_TYPES,
  buildAbiModel,
  diffManifests,
  toManifest,
  type AbiEnum,
  type AbiManifest,
  type AbiModel,
  type AbiStruct,
  type FieldType,
  type ParsedObject,
  type TypeRef,
} from './model.js';

/** First line of the generated file, exactly. */
export const GENERATED_HEADER = '// Code generated from BTF by scripts/gen-abi.ts. DO NOT EDIT.';
const MANIFEST_BEGIN = '// abi-manifest:begin';
const MANIFEST_END = '// abi-manifest:end';
const MANIFEST_PREFIX = 'export const ABI_MANIFEST = ';
const MANIFEST_SUFFIX = ' as const;';

/** `bl_metrics_key` → `BlMetricsKey`. */
export function pascalCase(name: string): string {
  return name
    .split('_')
    .filter((p) => p.length > 0)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

/** `bl_metrics_key` → `BL_METRICS_KEY`. */
export function constCase(name: string): string {
  return name.replace(/^_+/, '').toUpperCase();
}

/** `bl_drop_reason` → `blDropReason`. */
export function camelCase(name: string): string {
  const p = pascalCase(name);
  return p[0]!.toLowerCase() + p.slice(1);
}

function lit(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** JSON with short objects and arrays kept on one line, so the manifest stays readable. */
export function formatJson(value: unknown, indent = ''): string {
  const flat = JSON.stringify(value, null, 1)?.replace(/\n\s*/g, ' ') ?? 'null';
  if (value === null || typeof value !== 'object' || indent.length + flat.length <= 110) {
    return flat.replace(/\[ /g, '[').replace(/ \]/g, ']');
  }
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(',\n')}\n${indent}}`;
}

function intMethod(t: { size: number; signed: boolean; endian: string }, op: 'read' | 'write'): string {
  const e = t.size === 1 ? '' : t.endian === 'big' ? 'BE' : 'LE';
  const base = t.size === 8 ? `Big${t.signed ? 'Int' : 'UInt'}64` : `${t.signed ? 'Int' : 'UInt'}${t.size * 8}`;
  return `${op}${base}${e}`;
}

function isByteArray(t: FieldType): boolean {
  return t.kind === 'array' && t.elem.kind === 'int' && t.elem.size === 1;
}

function sizeOfField(t: FieldType, structs: ReadonlyMap<string, AbiStruct>): number {
  switch (t.kind) {
    case 'int':
      return t.size;
    case 'bytes':
      return t.size;
    case 'struct':
      return structs.get(t.name)!.size;
    case 'array':
      return t.count * sizeOfField(t.elem, structs);
  }
}

/** Generates the text of src/datapath/generated/abi.ts. */
export class AbiRenderer {
  private readonly out: string[] = [];
  private readonly structs: ReadonlyMap<string, AbiStruct>;
  private readonly scalarCodecs = new Map<string, { size: number; signed: boolean; endian: string }>();
  /** Helpers the generated code calls (see HELPERS). */
  private readonly used = new Set<string>();

  constructor(private readonly model: AbiModel) {
    this.structs = new Map(model.structs.map((s) => [s.name, s]));
    const taken = new Map<string, string>();
    for (const n of [...model.structs.map((s) => `struct ${s.name}`), ...model.enums.map((e) => `enum ${e.name}`)]) {
      const ts = pascalCase(n.split(' ')[1]!);
      const prev = taken.get(ts);
      if (prev) throw new AbiMismatchError(`ABI: ${prev} and ${n} would both be named ${ts} in TypeScript; rename one`);
      taken.set(ts, n);
    }
  }

  private line(s = ''): void {
    this.out.push(s);
  }

  /** Marks a helper as used and returns its name. */
  private use(name: keyof typeof HELPERS): string {
    this.used.add(name);
    if (name === 'target') this.used.add('view');
    return name;
  }

  private tsType(t: FieldType): string {
    switch (t.kind) {
      case 'int':
        return t.size === 8 ? 'bigint' : 'number';
      case 'bytes':
        return 'Uint8Array';
      case 'struct':
        return pascalCase(t.name);
      case 'array':
        return isByteArray(t) ? 'Uint8Array' : `${this.tsType(t.elem)}[]`;
    }
  }

  /** Statements writing `v` (an expression of type t) at byte offset expression `o` of buffer `b`. */
  private encodeStmts(t: FieldType, v: string, o: string, what: string, depth: number, pad: string): string[] {
    switch (t.kind) {
      case 'int':
        return [`${pad}b.${intMethod(t, 'write')}(${v}, ${o});`];
      case 'bytes':
        return [`${pad}${this.use('putBytes')}(b, ${o}, ${t.size}, ${v}, ${lit(what)});`];
      case 'struct':
        return [`${pad}encode${pascalCase(t.name)}(${v}, b, ${o});`];
      case 'array': {
        if (isByteArray(t)) return [`${pad}${this.use('putBytes')}(b, ${o}, ${t.count}, ${v}, ${lit(what)});`];
        const i = `i${depth}`;
        const stride = sizeOfField(t.elem, this.structs);
        return [
          `${pad}${this.use('checkCount')}(${v}, ${t.count}, ${lit(what)});`,
          `${pad}for (let ${i} = 0; ${i} < ${v}.length; ${i}++) {`,
          ...this.encodeStmts(t.elem, `${v}[${i}]!`, `${o} + ${i} * ${stride}`, what, depth + 1, pad + '  '),
          `${pad}}`,
        ];
      }
    }
  }

  /** An expression reading type t at byte offset expression `o` of buffer `b`. */
  private decodeExpr(t: FieldType, o: string, depth: number): string {
    switch (t.kind) {
      case 'int':
        return `b.${intMethod(t, 'read')}(${o})`;
      case 'bytes':
        return `${this.use('getBytes')}(b, ${o}, ${t.size})`;
      case 'struct':
        return `decode${pascalCase(t.name)}(b, ${o})`;
      case 'array': {
        if (isByteArray(t)) return `${this.use('getBytes')}(b, ${o}, ${t.count})`;
        const i = `i${depth}`;
        const stride = sizeOfField(t.elem, this.structs);
        return `Array.from({ length: ${t.count} }, (_, ${i}) => ${this.decodeExpr(t.elem, `${o} + ${i} * ${stride}`, depth + 1)})`;
      }
    }
  }

  private offsetExpr(n: number): string {
    return n === 0 ? 'off' : `off + ${n}`;
  }

  private renderStruct(s: AbiStruct): void {
    const T = pascalCase(s.name);
    const C = constCase(s.name);
    const cname = `struct ${s.name}`;
    this.line(`/** ${cname} (${s.size} bytes). Padding fields are not part of the interface: they encode as zero. */`);
    this.line(`export interface ${T} {`);
    for (const f of s.fields) {
      if (f.padding) continue;
      this.line(`  /** ${f.type.ctype} at ${f.offset}${f.type.kind === 'int' && f.type.endian === 'big' && f.type.size > 1 ? ', network byte order' : ''} */`);
      this.line(`  ${f.name}: ${this.tsType(f.type)};`);
    }
    this.line('}');
    this.line();
    this.line(`/** sizeof(${cname}) */`);
    this.line(`export const ${C}_SIZE = ${s.size};`);
    this.line();
    this.line(`/** Byte layout of ${cname}. */`);
    this.line(`export const ${C}_LAYOUT: readonly FieldLayout[] = [`);
    for (const f of s.fields) {
      this.line(`  { name: ${lit(f.name)}, offset: ${f.offset}, size: ${f.size}, type: ${lit(f.type.ctype)}, padding: ${f.padding} },`);
    }
    this.line('];');
    this.line();
    this.line(`/** Encodes ${cname} into buf at off (a new buffer by default). Padding is zeroed. */`);
    this.line(`export function encode${T}(value: ${T}, buf?: Buffer, off = 0): Buffer {`);
    this.line(`  const b = ${this.use('target')}(buf, off, ${s.size}, ${lit(cname)});`);
    for (const f of s.fields) {
      if (f.padding) continue;
      for (const st of this.encodeStmts(f.type, `value.${f.name}`, this.offsetExpr(f.offset), `${s.name}.${f.name}`, 0, '  ')) {
        this.line(st);
      }
    }
    this.line('  return b;');
    this.line('}');
    this.line();
    this.line(`/** Decodes ${cname} from buf at off. */`);
    this.line(`export function decode${T}(buf: Uint8Array, off = 0): ${T} {`);
    const live = s.fields.filter((f) => !f.padding);
    const check = `${this.use('view')}(buf, off, ${s.size}, ${lit(cname)})`;
    if (live.length === 0) {
      this.line(`  ${check};`);
      this.line('  return {};');
    } else {
      this.line(`  const b = ${check};`);
      this.line('  return {');
      for (const f of live) this.line(`    ${f.name}: ${this.decodeExpr(f.type, this.offsetExpr(f.offset), 0)},`);
      this.line('  };');
    }
    this.line('}');
    this.line();
    this.line(`/** Codec of ${cname}. */`);
    this.line(`export const ${C}_CODEC: StructCodec<${T}> = {`);
    this.line(`  ctype: ${lit(cname)},`);
    this.line(`  size: ${C}_SIZE,`);
    this.line(`  layout: ${C}_LAYOUT,`);
    this.line(`  encode: encode${T},`);
    this.line(`  decode: decode${T},`);
    this.line('};');
    this.line();
  }

  private renderEnum(e: AbiEnum): void {
    const T = pascalCase(e.name);
    this.line(`/** enum ${e.name}. */`);
    this.line(`export const ${T} = {`);
    for (const v of e.values) {
      if (v.value > BigInt(Number.MAX_SAFE_INTEGER) || v.value < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new AbiMismatchError(`ABI: enum ${e.name}: ${v.name} = ${v.value} does not fit a JavaScript number`);
      }
      this.line(`  ${v.name}: ${v.value},`);
    }
    this.line('} as const;');
    this.line(`export type ${T} = (typeof ${T})[keyof typeof ${T}];`);
    this.line(`const ${constCase(e.name)}_NAMES = ${this.use('nameTable')}(${T});`);
    this.line(`/** The name of a value of enum ${e.name} (the first, if several share it). */`);
    this.line(`export function ${camelCase(e.name)}Name(value: number): string | undefined {`);
    this.line(`  return ${constCase(e.name)}_NAMES.get(value);`);
    this.line('}');
    this.line();
  }

  /** The codec constant for a map key/value or global type, or 'null'. */
  private codecFor(t: TypeRef | null): string {
    if (!t) return 'null';
    if (t.struct) return `${constCase(t.struct)}_CODEC`;
    if (t.int) {
      const name = `${t.int.signed ? 'S' : 'U'}${t.int.size * 8}${t.int.size > 1 && t.int.endian === 'big' ? '_BE' : ''}_CODEC`;
      this.scalarCodecs.set(name, t.int);
      return name;
    }
    return 'null';
  }

  private renderObjects(): string[] {
    const o: string[] = [];
    o.push('/** The compiled BPF objects, by name (host for host.bpf.o): their maps, programs and globals. */');
    o.push('export const BPF_OBJECTS = {');
    for (const obj of this.model.objects) {
      o.push(`  ${obj.name}: {`);
      o.push(`    file: ${lit(obj.file)},`);
      o.push(`    license: ${obj.license === null ? 'null' : lit(obj.license)},`);
      o.push('    maps: {');
      for (const m of obj.maps) {
        const perCpu = PERCPU_MAP_TYPES.has(m.type);
        o.push(`      ${m.name}: {`);
        o.push(`        name: ${lit(m.name)},`);
        o.push(`        type: ${m.type},`);
        o.push(`        typeName: ${lit(m.typeName)},`);
        o.push(`        keySize: ${m.keySize},`);
        o.push(`        valueSize: ${m.valueSize},`);
        o.push(`        keyType: ${m.key ? lit(m.key.ctype) : 'null'},`);
        o.push(`        valueType: ${m.value ? lit(m.value.ctype) : 'null'},`);
        o.push(`        key: ${this.codecFor(m.key)},`);
        o.push(`        value: ${this.codecFor(m.value)},`);
        o.push(`        maxEntries: ${m.maxEntries},`);
        o.push(`        flags: ${m.flags},`);
        o.push(`        pinning: ${m.pinning},`);
        o.push(`        perCpu: ${perCpu},`);
        o.push(`        valueStride: ${perCpu ? Math.ceil(m.valueSize / 8) * 8 : m.valueSize},`);
        o.push('      },');
      }
      o.push('    },');
      o.push('    programs: {');
      for (const p of obj.programs) o.push(`      ${p.name}: { name: ${lit(p.name)}, section: ${lit(p.section)} },`);
      o.push('    },');
      o.push('    globals: {');
      for (const g of obj.dataSections.flatMap((d) => d.globals)) {
        o.push(`      ${g.name}: {`);
        o.push(`        name: ${lit(g.name)},`);
        o.push(`        section: ${lit(g.section)},`);
        o.push(`        offset: ${g.offset},`);
        o.push(`        size: ${g.size},`);
        o.push(`        type: ${lit(g.type.ctype)},`);
        o.push(`        codec: ${this.codecFor(g.type)},`);
        o.push('      },');
      }
      o.push('    },');
      o.push('    sections: {');
      for (const d of obj.dataSections) o.push(`      ${lit(d.name)}: { name: ${lit(d.name)}, size: ${d.size} },`);
      o.push('    },');
      o.push('  },');
    }
    o.push('} as const satisfies Readonly<Record<string, BpfObjectSpec>>;');
    return o;
  }

  render(objectFiles: readonly string[]): string {
    const m = this.model;
    this.line(GENERATED_HEADER);
    this.line(`// Objects: ${objectFiles.join(', ')}. Byte order: ${m.endianness}-endian.`);
    this.line("// Regenerate with 'make gen' and commit; 'make build' fails when this file and the objects disagree.");
    this.line(PRELUDE);
    this.line('// ---- enums');
    this.line();
    for (const e of m.enums) this.renderEnum(e);
    this.line('// ---- structs');
    this.line();
    for (const s of m.structs) this.renderStruct(s);
    // Objects reference the codecs: render them first to learn which scalar codecs are used.
    const objects = this.renderObjects();
    this.line('// ---- scalar codecs (map keys/values that are plain integers)');
    this.line();
    for (const [name, t] of [...this.scalarCodecs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const ts = t.size === 8 ? 'bigint' : 'number';
      const ctype = `__${t.signed ? 's' : 'u'}${t.size * 8}`;
      this.line(`/** ${ctype}${t.endian === 'big' && t.size > 1 ? ' in network byte order' : ''}. */`);
      this.line(`export const ${name}: Codec<${ts}> = {`);
      this.line(`  ctype: ${lit(ctype)},`);
      this.line(`  size: ${t.size},`);
      this.line('  encode(value, buf, off = 0) {');
      this.line(`    const b = ${this.use('target')}(buf, off, ${t.size}, ${lit(ctype)});`);
      this.line(`    b.${intMethod(t, 'write')}(value, off);`);
      this.line('    return b;');
      this.line('  },');
      this.line('  decode(buf, off = 0) {');
      this.line(`    return ${this.use('view')}(buf, off, ${t.size}, ${lit(ctype)}).${intMethod(t, 'read')}(off);`);
      this.line('  },');
      this.line('};');
      this.line();
    }
    this.line('// ---- objects');
    this.line();
    for (const l of objects) this.line(l);
    this.line();
    const manifest = toManifest(m);
    const json = formatJson(manifest);
    this.line('// ---- manifest');
    this.line();
    this.line('/** Machine-readable summary of everything above; `gen-abi --check` compares it with the compiled objects. */');
    this.line(MANIFEST_BEGIN);
    this.line(`${MANIFEST_PREFIX}${json}${MANIFEST_SUFFIX}`);
    this.line(MANIFEST_END);
    this.line();
    this.line('/** sha256 of the manifest: objects with the same hash share the same ABI. */');
    this.line(`export const ABI_HASH = ${lit(abiHash(manifest))};`);
    this.line();
    this.line('// ---- helpers');
    for (const [name, src] of Object.entries(HELPERS)) if (this.used.has(name)) this.line(src.trimEnd());
    return this.out.join('\n') + '\n';
  }
}

/** sha256 (hex) of a manifest's canonical JSON. */
export function abiHash(manifest: AbiManifest): string {
  return createHash('sha256').update(JSON.stringify(manifest)).digest('hex');
}

/** Text of the generated file for these objects. */
export function generateAbiSource(objects: readonly ParsedObject[]): string {
  const model = buildAbiModel(objects);
  return new AbiRenderer(model).render([...objects].map((o) => o.file).sort());
}

/** The manifest embedded in a generated file, or undefined if it has none (or it is damaged). */
export function extractManifest(text: string): AbiManifest | undefined {
  const begin = text.indexOf(`${MANIFEST_BEGIN}\n`);
  const end = text.indexOf(`\n${MANIFEST_END}`, begin);
  if (begin < 0 || end < 0) return undefined;
  const body = text.slice(begin + MANIFEST_BEGIN.length + 1, end);
  if (!body.startsWith(MANIFEST_PREFIX) || !body.endsWith(MANIFEST_SUFFIX)) return undefined;
  try {
    return JSON.parse(body.slice(MANIFEST_PREFIX.length, body.length - MANIFEST_SUFFIX.length)) as AbiManifest;
  } catch {
    return undefined;
  }
}

/**
 * What differs between the committed generated file (undefined: missing) and
 * freshly generated text, one line each: the ABI differences when the
 * manifests differ, else the first differing line. Empty when equal.
 */
export function checkGenerated(committed: string | undefined, fresh: string, path: string): string[] {
  if (committed === undefined) return [`${path} does not exist`];
  if (committed === fresh) return [];
  const before = extractManifest(committed);
  const after = extractManifest(fresh);
  if (before && after) {
    const diffs = diffManifests(before, after);
    if (diffs.length > 0) return diffs;
  } else if (!before) {
    return [`${path} has no readable ABI manifest (edited by hand, or made by an older gen-abi)`];
  }
  const a = committed.split('\n');
  const b = fresh.split('\n');
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return [`${path} differs from the generated text at line ${n + 1} (same ABI; edited by hand, or the generator changed)`];
}

/** Types and helpers every generated file starts with. */
const PRELUDE = `
/** One field of a generated struct. */
export interface FieldLayout {
  readonly name: string;
  /** Byte offset in the struct. */
  readonly offset: number;
  /** sizeof() the field. */
  readonly size: number;
  /** C type: \`__u8\`, \`__be16\`, \`__u8[128]\`, \`struct bl_notify_hdr\`, … */
  readonly type: string;
  /** Explicit padding: always encoded as zero, absent from the interface. */
  readonly padding: boolean;
}

/** Fixed-size binary codec of one C type. */
export interface Codec<T> {
  /** The C type, e.g. \`struct bl_metrics_key\` or \`__u32\`. */
  readonly ctype: string;
  /** sizeof() the C type. */
  readonly size: number;
  /** Writes value into buf at off (a new buffer of \`size\` bytes by default) and returns the buffer. */
  encode(value: T, buf?: Buffer, off?: number): Buffer;
  /** Reads \`size\` bytes of buf at off. */
  decode(buf: Uint8Array, off?: number): T;
}

/** Codec of a struct, with its layout. */
export interface StructCodec<T> extends Codec<T> {
  readonly layout: readonly FieldLayout[];
}

/** A map of a BPF object, as its BTF definition declares it. */
export interface MapSpec {
  readonly name: string;
  /** enum bpf_map_type */
  readonly type: number;
  readonly typeName: string;
  readonly keySize: number;
  readonly valueSize: number;
  /** C type of key and value; null when the map has none (ring buffers). */
  readonly keyType: string | null;
  readonly valueType: string | null;
  /** Codecs of key and value; null when there is none or the type has no codec. */
  readonly key: Codec<unknown> | null;
  readonly value: Codec<unknown> | null;
  readonly maxEntries: number;
  /** BPF_F_* map_flags. */
  readonly flags: number;
  /** LIBBPF_PIN_* (0: not pinned by libbpf). */
  readonly pinning: number;
  /**
   * Per-CPU map: a lookup returns one value per possible CPU, each
   * \`valueStride\` bytes (valueSize rounded up to 8) after the previous.
   */
  readonly perCpu: boolean;
  readonly valueStride: number;
}

/** A program of a BPF object. */
export interface ProgramSpec {
  readonly name: string;
  /** ELF section; tells libbpf the program type (\`tc\` is BPF_PROG_TYPE_SCHED_CLS). */
  readonly section: string;
}

/** A global variable; to set one before load, write its bytes into the section's initial value. */
export interface GlobalSpec {
  readonly name: string;
  /** \`.rodata\`, \`.data\`, \`.bss\`: libbpf's internal map for it is found under this name. */
  readonly section: string;
  /** Byte offset in the section. */
  readonly offset: number;
  readonly size: number;
  readonly type: string;
  readonly codec: Codec<unknown> | null;
}

/** A data section of a BPF object (one libbpf internal map). */
export interface DataSectionSpec {
  readonly name: string;
  readonly size: number;
}

/** What one compiled object holds. */
export interface BpfObjectSpec {
  /** File name under build/bpf/. */
  readonly file: string;
  readonly license: string | null;
  readonly maps: Readonly<Record<string, MapSpec>>;
  readonly programs: Readonly<Record<string, ProgramSpec>>;
  readonly globals: Readonly<Record<string, GlobalSpec>>;
  readonly sections: Readonly<Record<string, DataSectionSpec>>;
}
`;

/** Private helpers of the generated file, emitted only when used (noUnusedLocals). */
const HELPERS: Readonly<Record<string, string>> = {
  view: `
function view(buf: Uint8Array, off: number, size: number, what: string): Buffer {
  if (!Number.isInteger(off) || off < 0 || off + size > buf.length) {
    throw new RangeError(\`\${what}: needs \${size} bytes at offset \${off}, the buffer has \${buf.length}\`);
  }
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}
`,
  target: `
function target(buf: Buffer | undefined, off: number, size: number, what: string): Buffer {
  const b = buf ?? Buffer.alloc(off + size);
  view(b, off, size, what);
  // Zero the whole struct first: padding and anything not written stays 0.
  b.fill(0, off, off + size);
  return b;
}
`,
  putBytes: `
function putBytes(b: Buffer, off: number, size: number, value: Uint8Array, what: string): void {
  if (value.length > size) throw new RangeError(\`\${what}: \${value.length} bytes do not fit in \${size}\`);
  b.set(value, off);
}
`,
  getBytes: `
/** A view of the bytes, not a copy: a decoded value shares the buffer it came from (every record and map value is a fresh buffer). */
function getBytes(b: Buffer, off: number, size: number): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset + off, size);
}
`,
  checkCount: `
function checkCount(value: readonly unknown[], count: number, what: string): void {
  if (value.length > count) throw new RangeError(\`\${what}: \${value.length} elements do not fit in \${count}\`);
}
`,
  nameTable: `
function nameTable(values: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(values)) if (!m.has(v)) m.set(v, k);
  return m;
}
`,
};
