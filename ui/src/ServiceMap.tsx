// Placeholder of the service map (replaced by the React Flow map): the nodes
// as a list, clickable, with the contract's test ids.
import type { GetServiceMapResponse__Output } from '../../src/api/generated/servicemap/GetServiceMapResponse.js';
import type { Selection } from '../../src/ui/model/selection.js';

export interface ServiceMapProps {
  map: GetServiceMapResponse__Output | null;
  selection: Selection | null;
  onSelect(sel: Selection | null): void;
}

export function ServiceMap(p: ServiceMapProps) {
  const nodes = p.map?.nodes ?? [];
  return (
    <ul className="map-placeholder" aria-label="service map">
      {nodes.map((n) => (
        <li key={n.id}>
          <button
            type="button"
            data-testid="map-node"
            data-node-id={n.id}
            data-kind={(n.kind ?? '').toLowerCase()}
            data-selected={p.selection?.id === n.id ? 'true' : undefined}
            aria-label={`${(n.kind ?? '').toLowerCase()} ${n.namespace ? `${n.namespace}/` : ''}${n.name}`}
            onClick={() => p.onSelect(p.selection?.id === n.id ? null : { kind: 'node', id: n.id, node: n })}
          >
            {n.namespace ? `${n.namespace}/` : ''}
            {n.name}
          </button>
        </li>
      ))}
    </ul>
  );
}
