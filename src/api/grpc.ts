/**
 * gRPC plumbing shared by the agent's Observer, the relay and their clients:
 * one server on a unix socket and/or a TCP address with server reflection on,
 * and typed clients for the contracts in api/.
 */
import { credentials, Server, ServerCredentials, type ChannelOptions, type UntypedServiceImplementation, type ServiceDefinition } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ObserverClient } from './generated/observer/Observer.js';
import type { ServiceMapClient } from './generated/servicemap/ServiceMap.js';
import { passThroughObserverClientClass } from './passthrough.js';
import { api } from './proto.js';

/** Where a server listens: `unix:///path/to.sock`, `unix:/path`, or `host:port`. */
export type GrpcAddress = string;

export interface GrpcServerHandle {
  /** The addresses bound, TCP ones with the port actually chosen (port 0 → a free one). */
  readonly addresses: string[];
  /** Stops accepting calls and ends the running ones (streams get CANCELLED). */
  close(): Promise<void>;
}

/** The unix socket path of an address, or undefined for a TCP one. */
export function unixPath(address: GrpcAddress): string | undefined {
  if (address.startsWith('unix://')) return address.slice('unix://'.length);
  if (address.startsWith('unix:')) return address.slice('unix:'.length);
  return undefined;
}

/**
 * Starts one gRPC server with the given services on every address, with
 * gRPC server reflection (v1 and v1alpha) describing all of api/.
 */
export async function startGrpcServer(addresses: GrpcAddress[], services: { definition: ServiceDefinition; implementation: UntypedServiceImplementation }[]): Promise<GrpcServerHandle> {
  const server = new Server({ 'grpc.keepalive_permit_without_calls': 1 });
  for (const s of services) server.addService(s.definition, s.implementation);
  new ReflectionService(api().def).addToServer(server);
  const bound: string[] = [];
  try {
    for (const a of addresses) {
      const path = unixPath(a);
      // A stale socket from a killed process would make the bind fail.
      if (path && existsSync(path)) unlinkSync(path);
      if (path) mkdirSync(dirname(path), { recursive: true });
      const target = path ? `unix://${path}` : a;
      const port = await new Promise<number>((resolve, reject) => server.bindAsync(target, ServerCredentials.createInsecure(), (err, p) => (err ? reject(new Error(`gRPC listen on ${a}: ${err.message}`)) : resolve(p))));
      bound.push(path ? `unix://${path}` : a.replace(/:0$/, `:${port}`));
    }
  } catch (e) {
    server.forceShutdown();
    throw e;
  }
  return {
    addresses: bound,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
        // Following streams never end by themselves: end them now.
        setImmediate(() => server.forceShutdown());
      }),
  };
}

const CLIENT_OPTIONS: ChannelOptions = { 'grpc.max_receive_message_length': 64 << 20 };

/** A client of the Observer service (an agent's or the relay's) at address. */
export function observerClient(address: GrpcAddress, options: ChannelOptions = {}): ObserverClient {
  const path = unixPath(address);
  return new (api().grpc.observer.Observer)(path ? `unix://${path}` : address, credentials.createInsecure(), { ...CLIENT_OPTIONS, ...options });
}

/** The relay's client of a node's Observer: GetFlows responses keep the node's bytes (src/api/passthrough.ts). */
export function passThroughObserverClient(address: GrpcAddress, options: ChannelOptions = {}): ObserverClient {
  const path = unixPath(address);
  return new (passThroughObserverClientClass())(path ? `unix://${path}` : address, credentials.createInsecure(), { ...CLIENT_OPTIONS, ...options }) as unknown as ObserverClient;
}

/** A client of the relay's ServiceMap service at address. */
export function serviceMapClient(address: GrpcAddress, options: ChannelOptions = {}): ServiceMapClient {
  const path = unixPath(address);
  return new (api().grpc.servicemap.ServiceMap)(path ? `unix://${path}` : address, credentials.createInsecure(), { ...CLIENT_OPTIONS, ...options });
}

/** The service definitions to hand startGrpcServer. */
export function observerServiceDefinition(): ServiceDefinition {
  return api().grpc.observer.Observer.service;
}

export function serviceMapServiceDefinition(): ServiceDefinition {
  return api().grpc.servicemap.ServiceMap.service;
}
