/**
 * BTF of a compiled BPF object, as a typed model. The raw type table comes
 * from `bpftool -j btf dump file OBJ` (a JSON object `{ types: [...] }`, one
 * entry per BTF type, ids from 1; id 0 is void). This module only models and
 * resolves it; what counts as ABI is decided in model.ts.
 */
import { existsSync } from 'node:fs';
import { run } from '../../common/exec.js';
import { AbiMismatchError } from '../../common/errors.js';

interface BtfBase {
  readonly id: number;
  /** undefined for anonymous types (bpftool prints `(anon)`). */
  readonly name: string | undefined;
}

export interface BtfVoid extends BtfBase {
  readonly kind: 'VOID';
}
export interface BtfInt extends BtfBase {
  readonly kind: 'INT';
  readonly size: number;
  readonly bitsOffset: number;
  readonly nrBits: number;
  readonly signed: boolean;
  /** `CHAR` and `BOOL` encodings (C `char`, `_Bool`). */
  readonly encoding: 'NONE' | 'SIGNED' | 'CHAR' | 'BOOL';
}
export interface BtfFloat extends BtfBase {
  readonly kind: 'FLOAT';
  readonly size: number;
}
/** PTR, TYPEDEF and the qualifiers: a type that refers to exactly one other. */
export interface BtfRef extends BtfBase {
  readonly kind: 'PTR' | 'TYPEDEF' | 'CONST' | 'VOLATILE' | 'RESTRICT' | 'TYPE_TAG';
  readonly type: number;
}
export interface BtfArray extends BtfBase {
  readonly kind: 'ARRAY';
  readonly type: number;
  readonly indexType: number;
  readonly nelems: number;
}
export interface BtfMember {
  /** undefined for anonymous members (an unnamed struct/union inside). */
  readonly name: string | undefined;
  readonly type: number;
  readonly bitsOffset: number;
  /** Non-zero for a bitfield. */
  readonly bitfieldSize: number;
}
export interface BtfComposite extends BtfBase {
  readonly kind: 'STRUCT' | 'UNION';
  readonly size: number;
  readonly members: readonly BtfMember[];
}
export interface BtfEnumValue {
  readonly name: string;
  readonly value: bigint;
}
export interface BtfEnum extends BtfBase {
  readonly kind: 'ENUM' | 'ENUM64';
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly BtfEnumValue[];
}
export interface BtfFwd extends BtfBase {
  readonly kind: 'FWD';
  readonly fwdKind: 'struct' | 'union';
}
export interface BtfFunc extends BtfBase {
  readonly kind: 'FUNC';
  readonly type: number;
  readonly linkage: string;
}
export interface BtfFuncProto extends BtfBase {
  readonly kind: 'FUNC_PROTO';
  readonly retType: number;
  readonly params: readonly { readonly name: string | undefined; readonly type: number }[];
}
export interface BtfVar extends BtfBase {
  readonly kind: 'VAR';
  readonly type: number;
  readonly linkage: string;
}
export interface BtfVarSecinfo {
  readonly type: number;
  /** Offset in the section. Zero in an unlinked .o for global variables: clang leaves it to libbpf. */
  readonly offset: number;
  readonly size: number;
}
export interface BtfDatasec extends BtfBase {
  readonly kind: 'DATASEC';
  readonly size: number;
  readonly vars: readonly BtfVarSecinfo[];
}
export interface BtfDeclTag extends BtfBase {
  readonly kind: 'DECL_TAG';
  readonly type: number;
  readonly componentIdx: number;
}
/** A kind this parser does not know (a newer bpftool); kept so ids stay dense. */
export interface BtfUnknown extends BtfBase {
  readonly kind: 'UNKNOWN';
  readonly rawKind: string;
}

export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfFloat
  | BtfRef
  | BtfArray
  | BtfComposite
  | BtfEnum
  | BtfFwd
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfDeclTag
  | BtfUnknown;

/** The BTF types of kind K (`'STRUCT'` selects BtfComposite, which also covers UNION). */
export type BtfOfKind<K extends BtfType['kind']> = BtfType extends infer T
  ? T extends { kind: infer TK }
    ? K extends TK
      ? T
      : never
    : never
  : never;

/** A type with its typedefs and qualifiers peeled off, remembering the typedef names. */
export interface ResolvedType {
  readonly type: BtfType;
  /** Typedef names from the outside in, e.g. `['__be16', '__u16']`. */
  readonly typedefs: readonly string[];
}

const QUALIFIERS = new Set(['CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG']);

/** The BTF type table of one object. */
export class Btf {
  private readonly byId: Map<number, BtfType>;

  constructor(readonly types: readonly BtfType[]) {
    this.byId = new Map(types.map((t) => [t.id, t]));
    this.byId.set(0, { id: 0, kind: 'VOID', name: undefined });
  }

  /** The type with that id; throws on a dangling reference. */
  get(id: number): BtfType {
    const t = this.byId.get(id);
    if (!t) throw new AbiMismatchError(`BTF: type id ${id} is referenced but not defined`);
    return t;
  }

  /** Follows typedefs and qualifiers (const, volatile, …) to the underlying type. */
  resolve(id: number): ResolvedType {
    const typedefs: string[] = [];
    let t = this.get(id);
    for (let hops = 0; t.kind === 'TYPEDEF' || QUALIFIERS.has(t.kind); hops++) {
      if (hops > 64) throw new AbiMismatchError(`BTF: typedef loop at type id ${id}`);
      if (t.kind === 'TYPEDEF' && t.name) typedefs.push(t.name);
      t = this.get((t as BtfRef).type);
    }
    return { type: t, typedefs };
  }

  /** Follows qualifiers only (const, volatile, …), keeping typedefs. */
  skipQualifiers(id: number): BtfType {
    let t = this.get(id);
    while (QUALIFIERS.has(t.kind)) t = this.get((t as BtfRef).type);
    return t;
  }

  /** sizeof() the type, in bytes. */
  sizeOf(id: number): number {
    const { type: t } = this.resolve(id);
    switch (t.kind) {
      case 'INT':
      case 'FLOAT':
      case 'STRUCT':
      case 'UNION':
      case 'ENUM':
      case 'ENUM64':
      case 'DATASEC':
        return t.size;
      case 'PTR':
        return 8;
      case 'ARRAY':
        return t.nelems * this.sizeOf(t.type);
      case 'VAR':
        return this.sizeOf(t.type);
      default:
        throw new AbiMismatchError(`BTF: type ${this.cName(id)} (id ${id}) has no size`);
    }
  }

  /** The type spelled as in C: `__u8`, `struct bl_metrics_key`, `__u8[128]`, `const volatile struct x`. */
  cName(id: number): string {
    const t = this.get(id);
    switch (t.kind) {
      case 'VOID':
        return 'void';
      case 'INT':
      case 'FLOAT':
      case 'TYPEDEF':
        return t.name ?? '(anon)';
      case 'STRUCT':
      case 'UNION':
      case 'ENUM':
      case 'ENUM64':
        return `${t.kind === 'ENUM64' ? 'enum' : t.kind.toLowerCase()} ${t.name ?? '(anon)'}`;
      case 'FWD':
        return `${t.fwdKind} ${t.name ?? '(anon)'}`;
      case 'PTR':
        return `${this.cName(t.type)} *`;
      case 'CONST':
      case 'VOLATILE':
      case 'RESTRICT':
        return `${t.kind.toLowerCase()} ${this.cName(t.type)}`;
      case 'TYPE_TAG':
        return this.cName(t.type);
      case 'ARRAY':
        return `${this.cName(t.type)}[${t.nelems}]`;
      default:
        return `${t.kind.toLowerCase()} ${t.name ?? '(anon)'}`;
    }
  }

  /** All types of a kind, in id order. */
  ofKind<K extends BtfType['kind']>(kind: K): BtfOfKind<K>[] {
    return this.types.filter((t) => t.kind === kind) as BtfOfKind<K>[];
  }

  /** The DATASEC of an ELF section (`.maps`, `.rodata`, …), if the object has one. */
  datasec(name: string): BtfDatasec | undefined {
    return this.ofKind('DATASEC').find((d) => d.name === name);
  }
}

function fail(what: string): never {
  throw new AbiMismatchError(`BTF JSON: ${what}`, 'is bpftool recent enough? (bpftool version ≥ 7)');
}

function num(o: Record<string, unknown>, key: string, ctx: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${ctx}: field ${key} is not a number`);
  return v;
}

function optName(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '(anon)' && v !== '' ? v : undefined;
}

function parseType(raw: unknown, index: number): BtfType {
  if (typeof raw !== 'object' || raw === null) fail(`types[${index}] is not an object`);
  const o = raw as Record<string, unknown>;
  const ctx = `types[${index}]`;
  const id = num(o, 'id', ctx);
  const kind = o.kind;
  const name = optName(o.name);
  if (typeof kind !== 'string') fail(`${ctx}: no kind`);
  switch (kind) {
    case 'INT': {
      const enc = String(o.encoding ?? '(none)');
      const encoding = enc === 'SIGNED' || enc === 'CHAR' || enc === 'BOOL' ? enc : 'NONE';
      return {
        id,
        name,
        kind,
        size: num(o, 'size', ctx),
        bitsOffset: num(o, 'bits_offset', ctx),
        nrBits: num(o, 'nr_bits', ctx),
        signed: encoding === 'SIGNED',
        encoding,
      };
    }
    case 'FLOAT':
      return { id, name, kind, size: num(o, 'size', ctx) };
    case 'PTR':
    case 'TYPEDEF':
    case 'CONST':
    case 'VOLATILE':
    case 'RESTRICT':
    case 'TYPE_TAG':
      return { id, name, kind, type: num(o, 'type_id', ctx) };
    case 'ARRAY':
      return { id, name, kind, type: num(o, 'type_id', ctx), indexType: num(o, 'index_type_id', ctx), nelems: num(o, 'nr_elems', ctx) };
    case 'STRUCT':
    case 'UNION': {
      const members = Array.isArray(o.members) ? o.members : fail(`${ctx}: ${kind} without members`);
      return {
        id,
        name,
        kind,
        size: num(o, 'size', ctx),
        members: members.map((m: Record<string, unknown>, i: number) => ({
          name: optName(m.name),
          type: num(m, 'type_id', `${ctx}.members[${i}]`),
          bitsOffset: num(m, 'bits_offset', `${ctx}.members[${i}]`),
          bitfieldSize: typeof m.bitfield_size === 'number' ? m.bitfield_size : 0,
        })),
      };
    }
    case 'ENUM':
    case 'ENUM64': {
      const values = Array.isArray(o.values) ? o.values : [];
      return {
        id,
        name,
        kind,
        size: num(o, 'size', ctx),
        signed: o.encoding === 'SIGNED',
        values: values.map((v: Record<string, unknown>) => ({
          name: String(v.name),
          // bpftool prints the value as a JSON number (string for some 64-bit builds).
          value: BigInt(typeof v.val === 'number' || typeof v.val === 'string' ? v.val : 0),
        })),
      };
    }
    case 'FWD':
      return { id, name, kind, fwdKind: o.fwd_kind === 'union' ? 'union' : 'struct' };
    case 'FUNC':
      return { id, name, kind, type: num(o, 'type_id', ctx), linkage: String(o.linkage ?? '') };
    case 'FUNC_PROTO': {
      const params = Array.isArray(o.params) ? o.params : [];
      return {
        id,
        name,
        kind,
        retType: num(o, 'ret_type_id', ctx),
        params: params.map((p: Record<string, unknown>) => ({ name: optName(p.name), type: Number(p.type_id) })),
      };
    }
    case 'VAR':
      return { id, name, kind, type: num(o, 'type_id', ctx), linkage: String(o.linkage ?? '') };
    case 'DATASEC': {
      const vars = Array.isArray(o.vars) ? o.vars : [];
      return {
        id,
        name,
        kind,
        size: num(o, 'size', ctx),
        vars: vars.map((v: Record<string, unknown>, i: number) => ({
          type: num(v, 'type_id', `${ctx}.vars[${i}]`),
          offset: num(v, 'offset', `${ctx}.vars[${i}]`),
          size: num(v, 'size', `${ctx}.vars[${i}]`),
        })),
      };
    }
    case 'DECL_TAG':
      return { id, name, kind, type: num(o, 'type_id', ctx), componentIdx: Number(o.component_idx ?? -1) };
    default:
      return { id, name, kind: 'UNKNOWN', rawKind: kind };
  }
}

/** Parses the output of `bpftool -j btf dump file OBJ`. */
export function parseBpftoolBtf(json: unknown): Btf {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { types?: unknown }).types)) {
    fail('expected an object with a "types" array');
  }
  const types = (json as { types: unknown[] }).types.map(parseType);
  return new Btf(types);
}

/** Reads the BTF of a BPF object file with bpftool. */
export function loadObjectBtf(objectPath: string, bpftool = 'bpftool'): Btf {
  if (!existsSync(objectPath)) {
    throw new AbiMismatchError(`read BTF of ${objectPath}: no such file`, "build it first with 'make bpf'");
  }
  const r = run(bpftool, ['-j', 'btf', 'dump', 'file', objectPath], {
    operation: `read BTF of ${objectPath}`,
    hint: 'was it compiled with -g? is bpftool installed? (make setup)',
  });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch (e) {
    throw new AbiMismatchError(`read BTF of ${objectPath}: bpftool printed invalid JSON (${(e as Error).message})`);
  }
  return parseBpftoolBtf(json);
}
