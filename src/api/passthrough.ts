/**
 * GetFlows responses passed through the relay as the nodes encoded them.
 *
 * The relay merges responses by their time and kind only, yet grpc-js
 * turned every one into an object with all its defaults and back into
 * bytes for the client: for 10,000 flows about 0.25 s of the relay's one
 * thread, 0.7 s in a fresh process (bench/ui.ts, docs/performance.md). Here
 * a response read from a node keeps its bytes: its header (node_name, time,
 * which of flow / node_status / lost_events it carries) is read off the
 * wire, the rest is decoded the first time something asks for it (the
 * service map reads flows). Written by the relay, such a response goes out
 * as the node's bytes unchanged; the relay's own responses (node status)
 * are encoded as before.
 */
import { makeClientConstructor, type MethodDefinition, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { GetFlowsResponse__Output } from './generated/observer/GetFlowsResponse.js';
import type { Timestamp__Output } from './generated/google/protobuf/Timestamp.js';
import { api } from './proto.js';

/** The wire bytes a lazily decoded response came from. */
const WIRE = Symbol('wire bytes');

type Kind = NonNullable<GetFlowsResponse__Output['response_types']>;
/** GetFlowsResponse's oneof members by field number (api/observer/observer.proto). */
const KINDS: Record<number, Kind> = { 1: 'flow', 2: 'node_status', 3: 'lost_events' };
const NODE_NAME = 1000;
const TIME = 1001;

type FlowsMethod = MethodDefinition<object, object>;

function flowsMethod(): FlowsMethod {
  return api().grpc.observer.Observer.service.GetFlows as unknown as FlowsMethod;
}

/** A google.protobuf.Timestamp at the reader, as the generated objects hold it (seconds as a string). */
function readTimestamp(r: protobuf.Reader, end: number): Timestamp__Output {
  let seconds = '0';
  let nanos = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) seconds = String(r.int64());
    else if (tag >>> 3 === 2) nanos = r.int32();
    else r.skipType(tag & 7);
  }
  return { seconds, nanos };
}

/**
 * A GetFlowsResponse from its bytes: node_name, time and response_types
 * read now; flow, node_status or lost_events decoded (in full, as grpc-js
 * would) when first read. Throws on bytes that are not a message.
 */
export function lazyFlowsResponse(bytes: Buffer, decode: (b: Buffer) => object = flowsMethod().responseDeserialize): GetFlowsResponse__Output {
  const r = protobuf.Reader.create(bytes);
  let nodeName = '';
  let time: Timestamp__Output | null = null;
  let kind: Kind | undefined;
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === NODE_NAME) nodeName = r.string();
    else if (field === TIME) time = readTimestamp(r, r.uint32() + r.pos);
    else {
      // A oneof's last member on the wire wins, as in a full decode.
      if (KINDS[field]) kind = KINDS[field];
      r.skipType(tag & 7);
    }
  }
  let full: GetFlowsResponse__Output | undefined;
  const out: GetFlowsResponse__Output & { [WIRE]?: Buffer } = { node_name: nodeName, time };
  if (kind) {
    Object.defineProperty(out, kind, { enumerable: true, configurable: true, get: () => (full ??= decode(bytes) as GetFlowsResponse__Output)[kind] });
    out.response_types = kind;
  }
  Object.defineProperty(out, WIRE, { value: bytes });
  return out;
}

/** The bytes a response was read from (lazyFlowsResponse), if it is one. */
export function wireBytes(r: object): Buffer | undefined {
  return (r as { [WIRE]?: Buffer })[WIRE];
}

let definition: ServiceDefinition | undefined;

/**
 * The Observer service with GetFlows passed through: its responses read
 * lazily (a client's) and written as their own bytes when they have them
 * (a server's). Every other method as generated.
 */
export function passThroughObserverDefinition(): ServiceDefinition {
  if (!definition) {
    const service = api().grpc.observer.Observer.service;
    const m = flowsMethod();
    const getFlows: FlowsMethod = {
      ...m,
      responseDeserialize: (b: Buffer) => lazyFlowsResponse(b, m.responseDeserialize),
      responseSerialize: (v: object) => wireBytes(v) ?? m.responseSerialize(v),
    };
    definition = { ...service, GetFlows: getFlows } as ServiceDefinition;
  }
  return definition;
}

let PassThroughClient: ServiceClientConstructor | undefined;

/** The client class of passThroughObserverDefinition: an ObserverClient whose GetFlows responses are lazy (see src/api/grpc.ts). */
export function passThroughObserverClientClass(): ServiceClientConstructor {
  PassThroughClient ??= makeClientConstructor(passThroughObserverDefinition(), 'observer.Observer');
  return PassThroughClient;
}
