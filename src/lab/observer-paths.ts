/**
 * Where a lab's observability sockets live: each node agent's Observer (beside
 * its API socket, `nodes/<node>/agent.sock`) and the lab's relay.
 */
import { dirname, join } from 'node:path';
import { labDir, readState } from './state.js';
import { LabNotFoundError } from '../common/errors.js';
import type { RelayPeer } from '../observer/relay.js';

/** The node agent's Observer gRPC socket: `<lab>/nodes/<node>/observer.sock`, beside agent.sock. */
export function agentObserverSocketPath(lab: string, node: string): string {
  return join(labDir(lab), 'nodes', node, 'observer.sock');
}

/** The lab relay's gRPC socket (the cluster-wide Observer and ServiceMap), where `observe` looks for it. */
export { relaySocketPath } from './relay-paths.js';

/**
 * The relay's peers for a lab: every node agent the lab recorded, with its
 * Observer socket. Read from the state file on each call, so nodes added or
 * removed are seen by the next request.
 */
export function labObserverPeers(lab: string): RelayPeer[] {
  const state = readState(lab);
  if (!state) throw new LabNotFoundError(`lab ${lab}: not found`, "start it with 'beeline lab up --name " + lab + "'");
  return Object.entries(state.agents ?? {})
    .map(([node, a]) => ({ name: node, address: `unix://${a.socket ? join(dirname(a.socket), 'observer.sock') : agentObserverSocketPath(lab, node)}` }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
