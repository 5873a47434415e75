/** Finding node agents of a lab for commands that talk to them (`status`, `bpf …`). */
import { UsageError } from '../common/errors.js';
import { readState, resolveLabName } from '../lab/state.js';

export interface AgentRef {
  lab: string;
  node: string;
  socket: string;
}

/**
 * The agents a command addresses: one with `--node`, else every node of the
 * lab. On a cluster node (the agent's pod: `kubectl -n kube-system exec
 * ds/beeline-agent -- beeline status`) there is no lab: $BEELINE_AGENT_SOCKET
 * names the node's own agent, as cilium's CLI in the agent pod talks to its
 * agent.
 */
export function agentsOf(opts: { lab?: string; node?: string }, env: NodeJS.ProcessEnv = process.env): AgentRef[] {
  const socket = env.BEELINE_AGENT_SOCKET;
  if (socket && !opts.lab) return [{ lab: '', node: opts.node ?? env.BEELINE_NODE_NAME ?? 'local', socket }];
  const lab = resolveLabName(opts.lab);
  const state = readState(lab)!;
  const all = state.plan.nodes.map((n) => ({ lab, node: n.name, socket: state.agents[n.name]?.socket ?? '' }));
  if (!opts.node) return all;
  const one = all.find((a) => a.node === opts.node);
  if (!one) throw new UsageError(`--node ${opts.node}: lab ${lab} has no such node`, `one of: ${all.map((a) => a.node).join(', ')}`);
  return [one];
}
