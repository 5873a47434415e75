/**
 * Where a lab's Hubble-compatible relay lives on disk. The relay merges the
 * Observer APIs of every node's agent and serves one Observer API for the
 * whole lab; `beeline observe` connects to it unless told otherwise.
 *
 * Kept in its own small module so the relay (which creates the socket) and
 * the CLI (which connects to it) agree on one path without importing each
 * other.
 */
import { join } from 'node:path';
import { labDir } from './state.js';

/** Directory of a lab's relay: its socket and log, beside `nodes/` and `etcd/`. */
export function relayDir(labName: string): string {
  return join(labDir(labName), 'relay');
}

/**
 * The unix socket a lab's relay serves the Observer gRPC API on:
 * `<run dir>/labs/<lab>/relay/observer.sock`. A plain path (no `unix://`).
 */
export function relaySocketPath(labName: string): string {
  return join(relayDir(labName), 'observer.sock');
}

/** The relay's socket as a gRPC address (`unix:///…`), what `--server` takes. */
export function relayAddress(labName: string): string {
  return `unix://${relaySocketPath(labName)}`;
}
