/** Finding node agents of a lab for commands that talk to them (`status`, `bpf …`). */
import { UsageError } from '../common/errors.js';
import { readState, resolveLabName } from '../lab/state.js';

export interface AgentRef {
  lab: string;
  node: string;
  socket: string;
}

/** The agents a command addresses: one with `--node`, else every node of the lab. */
export function agentsOf(opts: { lab?: string; node?: string }): AgentRef[] {
  const lab = resolveLabName(opts.lab);
  const state = readState(lab)!;
  const all = state.plan.nodes.map((n) => ({ lab, node: n.name, socket: state.agents[n.name]?.socket ?? '' }));
  if (!opts.node) return all;
  const one = all.find((a) => a.node === opts.node);
  if (!one) throw new UsageError(`--node ${opts.node}: lab ${lab} has no such node`, `one of: ${all.map((a) => a.node).join(', ')}`);
  return [one];
}
