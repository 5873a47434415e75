/**
 * Compile-time checks that a hand-written TypeScript type says what a
 * contract message says: where a hand type is richer than the generated one
 * (string literal unions the .proto cannot spell, bigint counters the wire
 * carries as strings, optional fields the generator makes required), the
 * hand type stays and a check keeps the two from drifting apart:
 *
 *   export type Checks = [Conforms<Mirrors<AgentStatus, AgentStatus__Output>>];
 *
 * fails the build when a field is only on one side, or a field's hand type
 * does not fit the contract's. Nothing here exists at run time.
 */
import type { Value__Output } from './generated/google/protobuf/Value.js';

/** A type's keys; `string` for a map (a string index signature, whose keyof also has number). */
type Keys<T> = string extends keyof T ? string : keyof T;
/** A generated message's fields, without the synthetic oneof key proto3 `optional` adds (`_entries`). */
type FieldsOf<G> = Exclude<Keys<G>, `_${string}`>;
/** What the agent's JSON writer does to a value: a bigint is written as a decimal string. */
type Wire<T> = T extends bigint ? string : T;
type Leaf = string | number | boolean | bigint | symbol;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** `true`, or the entries that are not (so the compiler's message names the field). */
type AllTrue<T> = [T[keyof T]] extends [true] ? true : { [K in keyof T as T[K] extends true ? never : K]: T[K] };

/**
 * `true` when hand type H has exactly the fields of generated message G
 * (recursively, optionality and null aside) and every scalar of H is
 * assignable to G's; otherwise a type that names what differs. A field the
 * contract types google.protobuf.Value (not modelled yet) takes anything.
 */
export type Mirrors<H, G> = MirrorsDefined<NonNullable<H>, NonNullable<G>>;
type MirrorsDefined<H, G> = Same<G, Value__Output> extends true
  ? true // google.protobuf.Value: a part the contract does not model yet (any JSON)
  : [H] extends [Leaf]
  ? [Wire<H>] extends [G] ? true : { hand: H; contract: G }
  : [H] extends [readonly (infer HI)[]]
    ? [G] extends [readonly (infer GI)[]] ? Mirrors<HI, GI> : { hand: 'a list'; contract: G }
    : [G] extends [Leaf | readonly unknown[]]
      ? { hand: 'a message'; contract: G }
      : Same<Keys<H>, FieldsOf<G>> extends true
        ? AllTrue<{ [K in keyof H]-?: Mirrors<H[K], G[K & keyof G]> }>
        : { onlyInHand: Exclude<Keys<H>, FieldsOf<G>>; onlyInContract: Exclude<FieldsOf<G>, Keys<H>> };

/**
 * Compiles only when its argument is `true`: `Conforms<Mirrors<Hand,
 * Generated__Output>>`; otherwise the compiler prints what Mirrors found.
 */
export type Conforms<T extends true> = T;

/**
 * A value as a client reads it back from the agent's JSON: bigints (64-bit
 * datapath counters) arrive as decimal strings; everything else as typed.
 */
export type Json<T> = T extends bigint
  ? string
  : T extends readonly (infer I)[]
    ? Json<I>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

/**
 * A generated `__Output` message as the agent writes it and its clients read
 * it, for reply types derived from the contract instead of written by hand
 * (`type AgentStatus = Reply<AgentStatus__Output>`): every sub-message
 * present (the decoder types a message field `| null`; the agent always
 * writes it), and without the synthetic oneof keys proto3 `optional` adds
 * (`_entries`). Scalars, enums (string unions), optional fields, lists and
 * maps are the generated ones.
 */
export type Reply<G> = G extends readonly (infer I)[]
  ? Reply<I>[]
  : G extends object
    ? { [K in keyof G as K extends `_${string}` ? never : K]: Reply<NonNullable<G[K]>> }
    : G;
