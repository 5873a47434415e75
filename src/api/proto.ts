/**
 * The API contracts at run time: api/**\/*.proto loaded with
 * @grpc/proto-loader, with the options scripts/gen-api.mjs generates the
 * TypeScript types with (keepCase, longs and enums as strings, defaults,
 * oneofs: change them together), and protobuf's JSON mapping for the
 * messages as Hubble prints them (`observe -o json`, the flow history files).
 */
import { loadPackageDefinition, type GrpcObject } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType as ObserverProto } from './generated/observer.js';
import type { ProtoGrpcType as ServiceMapProto } from './generated/servicemap.js';

/** The repository's api/ directory (this file runs from dist/src/api/). */
export const API_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../api');
/** Every contract, in dependency order (scripts/gen-api.mjs has the same list). */
export const PROTOS = ['flow/flow.proto', 'relay/relay.proto', 'observer/observer.proto', 'servicemap/servicemap.proto', 'agent/agent.proto', 'ui/ui.proto'];
/** proto-loader's options; the generated types assume exactly these. */
export const LOAD_OPTIONS: Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [API_DIR] };

let cached: { def: PackageDefinition; grpc: ObserverProto & ServiceMapProto & GrpcObject } | undefined;

/** The loaded contracts: the package definition (for gRPC reflection) and the typed gRPC object. */
export function api(): { def: PackageDefinition; grpc: ObserverProto & ServiceMapProto & GrpcObject } {
  if (!cached) {
    const def = loadSync(PROTOS, LOAD_OPTIONS);
    cached = { def, grpc: loadPackageDefinition(def) as unknown as ObserverProto & ServiceMapProto & GrpcObject };
  }
  return cached;
}

let root: protobuf.Root | undefined;

/** The same files as a protobufjs Root, for the JSON mapping below. */
export function protoRoot(): protobuf.Root {
  if (!root) {
    const r = new protobuf.Root();
    r.resolvePath = (_origin, target) => {
      if (target.startsWith('google/protobuf/')) return target; // protobufjs ships the well-known types
      return join(API_DIR, target);
    };
    r.loadSync(PROTOS, { keepCase: true });
    r.resolveAll();
    root = r;
  }
  return root;
}

const WRAPPERS = new Set(['google.protobuf.BoolValue', 'google.protobuf.UInt32Value', 'google.protobuf.Int32Value', 'google.protobuf.UInt64Value', 'google.protobuf.Int64Value', 'google.protobuf.StringValue', 'google.protobuf.DoubleValue', 'google.protobuf.FloatValue', 'google.protobuf.BytesValue']);
const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

const fullName = (t: protobuf.ReflectionObject) => t.fullName.replace(/^\./, '');

/** RFC 3339 with nanoseconds, as protobuf's JSON mapping writes a Timestamp (trailing zeros kept in groups of 3). */
let lastSeconds = NaN;
let lastBase = '';

export function timestampJson(seconds: number | string | bigint, nanos: number): string {
  const s = Number(seconds);
  // A flow's time is written twice in a row (the flow's and the response's): the second is free.
  if (s === lastSeconds && nanos === lastNanos) return lastText;
  // Flows come in bursts within one second: format the date part once per second.
  if (s !== lastSeconds) {
    lastSeconds = s;
    lastBase = new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  }
  let text = `${lastBase}Z`;
  if (nanos) {
    let frac = String(nanos).padStart(9, '0');
    if (frac.endsWith('000000')) frac = frac.slice(0, 3);
    else if (frac.endsWith('000')) frac = frac.slice(0, 6);
    text = `${lastBase}.${frac}Z`;
  }
  lastNanos = nanos;
  lastText = text;
  return text;
}
/** The last text written, for lastSeconds and lastNanos. */
let lastNanos = NaN;
let lastText = '';

/** Parses an RFC 3339 timestamp into seconds and nanos, or undefined. */
export function parseTimestampJson(text: string): { seconds: number; nanos: number } | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return { seconds: Math.floor(ms / 1000), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

function isDefault(v: unknown): boolean {
  return v === undefined || v === null || v === false || v === 0 || v === '' || v === '0' || (Array.isArray(v) && v.length === 0);
}

function enumName(e: protobuf.Enum, v: unknown): string | number {
  if (typeof v === 'string') return v;
  const n = Number(v);
  return e.valuesById[n] ?? n;
}

function scalarJson(field: protobuf.Field, v: unknown): unknown {
  if (field.resolvedType instanceof protobuf.Enum) return enumName(field.resolvedType, v);
  if (INT64.has(field.type)) return String(v);
  if (field.type === 'bytes') return Buffer.from(v as Uint8Array).toString('base64');
  return v;
}

function valueJson(field: protobuf.Field, v: unknown): unknown {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) return messageJson(t, v as Record<string, unknown>);
  return scalarJson(field, v);
}

function messageJson(type: protobuf.Type, msg: Record<string, unknown>): unknown {
  const name = fullName(type);
  if (name === 'google.protobuf.Timestamp') return timestampJson((msg.seconds as number) ?? 0, Number(msg.nanos ?? 0));
  if (WRAPPERS.has(name)) {
    const f = type.fields.value!;
    return scalarJson(f, msg.value ?? (f.type === 'bool' ? false : f.type === 'string' ? '' : 0));
  }
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const v = msg[field.name];
    if (field.map) {
      const entries = Object.entries((v ?? {}) as Record<string, unknown>);
      if (entries.length) out[field.name] = Object.fromEntries(entries.map(([k, x]) => [k, valueJson(field, x)]));
      continue;
    }
    const inOneof = field.partOf !== null && field.partOf !== undefined;
    if (field.resolvedType instanceof protobuf.Type) {
      if (v === undefined || v === null) continue;
      if (field.repeated) {
        if ((v as unknown[]).length) out[field.name] = (v as unknown[]).map((x) => valueJson(field, x));
      } else out[field.name] = valueJson(field, v);
      continue;
    }
    if (field.repeated) {
      if (Array.isArray(v) && v.length) out[field.name] = v.map((x) => scalarJson(field, x));
      continue;
    }
    // proto3 scalars: the default value is not written, unless a oneof member is set to it.
    const isEnumDefault = field.resolvedType instanceof protobuf.Enum && (v === 0 || v === fullEnumZero(field.resolvedType));
    if (inOneof ? v !== undefined && v !== null : !isDefault(v) && !isEnumDefault) out[field.name] = scalarJson(field, v);
  }
  return out;
}

function fullEnumZero(e: protobuf.Enum): string | undefined {
  return e.valuesById[0];
}

/**
 * A message (plain object as proto-loader or our code makes it) in protobuf's
 * JSON mapping with the proto field names, as Hubble's CLI prints it
 * (protojson UseProtoNames): defaults left out, enums by name, 64-bit
 * integers as strings, Timestamps as RFC 3339, wrappers as bare values.
 */
export function toProtoJson(typeName: string, msg: object): unknown {
  return messageJson(protoRoot().lookupType(typeName), msg as Record<string, unknown>);
}

type Encoder = (v: unknown) => string | undefined;
const encoders = new Map<string, Encoder>();
/** Encoders by the name callers pass (lookupType walks the namespace: once per name, not per message). */
const encodersByTypeName = new Map<string, Encoder>();

/** A JSON string literal: most strings need no escaping, and JSON.stringify costs twice a test for it. */
const PLAIN_STRING = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;
function jsonString(v: string): string {
  return PLAIN_STRING.test(v) ? `"${v}"` : JSON.stringify(v);
}

/**
 * Frozen values (of the types in SHARED_MESSAGES, and lists of strings) are
 * encoded once and remembered by identity: they cannot change. The flow
 * converter shares frozen endpoint messages and label lists between the
 * flows of the same endpoint, so a flow's biggest parts are written once per
 * endpoint, not once per flow.
 */
function rememberFrozen(encode: (v: unknown) => string): (v: unknown) => string {
  const known = new WeakMap<object, string>();
  return (v) => {
    if (typeof v !== 'object' || v === null || !Object.isFrozen(v)) return encode(v);
    let text = known.get(v);
    if (text === undefined) {
      text = encode(v);
      known.set(v, text);
    }
    return text;
  };
}

/** The message types and lists worth remembering: what flows share (the check costs every other value a little). */
const SHARED_MESSAGES = new Set(['flow.Endpoint']);

/**
 * The same mapping as toProtoJson, straight to JSON text: one encoder per
 * message type, compiled once from the reflection data, that writes the
 * string without building an intermediate object (the flow history writes
 * every flow this way, so it has to be cheap). Same output as
 * JSON.stringify(toProtoJson(typeName, msg)).
 */
export function toProtoJsonString(typeName: string, msg: object): string {
  let enc = encodersByTypeName.get(typeName);
  if (!enc) {
    enc = messageEncoder(protoRoot().lookupType(typeName));
    encodersByTypeName.set(typeName, enc);
  }
  return enc(msg) ?? '{}';
}

function messageEncoder(type: protobuf.Type): Encoder {
  const name = fullName(type);
  const known = encoders.get(name);
  if (known) return known;
  // Registered before the fields are compiled, so recursive types find it.
  let impl: Encoder = () => undefined;
  const enc: Encoder = (v) => impl(v);
  encoders.set(name, enc);
  if (name === 'google.protobuf.Timestamp') {
    impl = (v) => {
      const t = v as { seconds?: number | string; nanos?: number };
      return `"${timestampJson(t.seconds ?? 0, Number(t.nanos ?? 0))}"`;
    };
    return enc;
  }
  if (WRAPPERS.has(name)) {
    const f = type.fields.value!;
    const scalar = scalarEncoder(f, true);
    impl = (v) => scalar((v as { value?: unknown }).value ?? (f.type === 'bool' ? false : f.type === 'string' ? '' : 0));
    return enc;
  }
  const parts = type.fieldsArray.map((field) => {
    const key = `${JSON.stringify(field.name)}:`;
    const inOneof = field.partOf !== null && field.partOf !== undefined;
    const t = field.resolvedType;
    let one: Encoder;
    if (t instanceof protobuf.Type) {
      const m = messageEncoder(t);
      one = (x) => (x === undefined || x === null ? undefined : m(x) ?? '{}');
    } else one = scalarEncoder(field, inOneof);
    if (field.map) {
      const val = t instanceof protobuf.Type ? messageEncoder(t) : scalarEncoder(field, true);
      return { name: field.name, write: (v: unknown) => {
        const entries = Object.entries((v ?? {}) as Record<string, unknown>);
        if (!entries.length) return undefined;
        return `${key}{${entries.map(([k, x]) => `${JSON.stringify(k)}:${val(x) ?? 'null'}`).join(',')}}`;
      } };
    }
    if (field.repeated) {
      const item = t instanceof protobuf.Type ? messageEncoder(t) : scalarEncoder(field, true);
      const encodeList = (v: unknown) => {
        const a = v as unknown[];
        let out = '[';
        for (let i = 0; i < a.length; i++) out += (i ? ',' : '') + (item(a[i]) ?? (t instanceof protobuf.Type ? '{}' : 'null'));
        return `${out}]`;
      };
      // Lists of strings are labels, names: shared between flows.
      const list = field.type === 'string' ? rememberFrozen(encodeList) : encodeList;
      return { name: field.name, write: (v: unknown) => {
        if (!Array.isArray(v) || v.length === 0) return undefined;
        return key + list(v);
      } };
    }
    return { name: field.name, write: (v: unknown) => {
      const text = one(v);
      return text === undefined ? undefined : key + text;
    } };
  });
  impl = SHARED_MESSAGES.has(name) ? rememberFrozen(compileFields(parts)) : compileFields(parts);
  return enc;
}

/**
 * One message's encoder as straight-line code: a named property read and a
 * call of that field's writer per field, in field order. Each read and call
 * site sees one shape and one function, so V8 keeps them fast (a loop over
 * the fields would make both megamorphic); protobufjs compiles its codecs
 * the same way.
 */
function compileFields(parts: { name: string; write: (v: unknown) => string | undefined }[]): (v: unknown) => string {
  let body = 'return function encode(m) {\n  let o = "", x, t;\n';
  parts.forEach((p, i) => {
    body += `  x = m[${JSON.stringify(p.name)}];\n  if (x !== undefined) { t = W[${i}](x); if (t !== undefined) o = o === "" ? t : o + "," + t; }\n`;
  });
  body += '  return "{" + o + "}";\n};';
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from the proto's own field names (JSON-quoted), no outside text
  return new Function('W', body)(parts.map((p) => p.write)) as (v: unknown) => string;
}

/** A scalar or enum field; `keepDefault`: write default values too (oneof members, list items, wrappers). */
function scalarEncoder(field: protobuf.Field, keepDefault: boolean): Encoder {
  const t = field.resolvedType;
  if (t instanceof protobuf.Enum) {
    const zero = t.valuesById[0];
    return (v) => {
      if (v === undefined || v === null) return undefined;
      if (!keepDefault && (v === 0 || v === zero)) return undefined;
      const n = enumName(t, v);
      return typeof n === 'number' ? String(n) : `"${n}"`;
    };
  }
  if (INT64.has(field.type)) return (v) => (v === undefined || v === null || (!keepDefault && isDefault(v)) ? undefined : `"${String(v)}"`);
  if (field.type === 'bytes') return (v) => (v === undefined || v === null || (!keepDefault && (v as Uint8Array).length === 0) ? undefined : `"${Buffer.from(v as Uint8Array).toString('base64')}"`);
  if (field.type === 'string') return (v) => (v === undefined || v === null || (!keepDefault && v === '') ? undefined : typeof v === 'string' ? jsonString(v) : JSON.stringify(v));
  if (field.type === 'bool') return (v) => (v === undefined || v === null || (!keepDefault && v === false) ? undefined : v ? 'true' : 'false');
  return (v) => (v === undefined || v === null || (!keepDefault && (v === 0 || v === '0')) ? undefined : String(Number(v)));
}

/**
 * The reverse, for reading the flow history and other JSON written by
 * toProtoJson: returns the object proto-loader would have decoded (defaults
 * filled, enums by name, 64-bit integers as strings). Throws on a value that
 * does not fit the type.
 */
export function fromProtoJson(typeName: string, json: unknown): Record<string, unknown> {
  const type = protoRoot().lookupType(typeName);
  const msg = type.fromObject(reviveJson(type, json) as Record<string, unknown>);
  return type.toObject(msg, { longs: String, enums: String, defaults: true, oneofs: true, arrays: true }) as Record<string, unknown>;
}

function reviveJson(type: protobuf.Type, json: unknown): unknown {
  const name = fullName(type);
  if (name === 'google.protobuf.Timestamp') {
    const t = typeof json === 'string' ? parseTimestampJson(json) : undefined;
    if (!t) throw new Error(`not an RFC 3339 timestamp: ${JSON.stringify(json)}`);
    return t;
  }
  if (WRAPPERS.has(name)) return { value: json };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${name}: expected an object, got ${JSON.stringify(json)}`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) {
    const field = type.fields[k];
    if (!field) continue; // unknown fields are skipped, as protobuf decoders do
    const t = field.resolvedType;
    if (t instanceof protobuf.Type && !field.map) out[k] = field.repeated ? (v as unknown[]).map((x) => reviveJson(t, x)) : reviveJson(t, v);
    else if (field.map && t instanceof protobuf.Type) out[k] = Object.fromEntries(Object.entries(v as object).map(([mk, mv]) => [mk, reviveJson(t, mv)]));
    else out[k] = v;
  }
  return out;
}
