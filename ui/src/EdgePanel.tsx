// The side panel of a selected edge (or a collapsed namespace's merged edges): its counts.
import type { MapEdge__Output } from '../../src/api/generated/servicemap/MapEdge.js';

export interface EdgePanelProps {
  edges: MapEdge__Output[];
  onClose(): void;
}

export function EdgePanel({ edges, onClose }: EdgePanelProps) {
  return (
    <section className="panel edge-panel" aria-label="edge">
      <header className="panel-head">
        <h2>{edges.length === 1 ? 'Connection' : `${edges.length} connections`}</h2>
        <button type="button" className="close" aria-label="close edge panel" onClick={onClose}>
          ×
        </button>
      </header>
      {edges.map((e) => (
        <dl key={e.id} className="facts">
          <dt>From</dt>
          <dd>{e.source_id}</dd>
          <dt>To</dt>
          <dd>{e.destination_id}</dd>
          <dt>Protocol</dt>
          <dd>
            {e.protocol}/{e.port ?? 0}
          </dd>
          <dt>Flows</dt>
          <dd>
            {e.flows ?? 0} ({e.forwarded ?? 0} forwarded, {e.dropped ?? 0} dropped{Number(e.audit ?? 0) ? `, ${e.audit} audited` : ''})
          </dd>
          {Number(e.requests) > 0 && (
            <>
              <dt>Requests</dt>
              <dd>
                {e.requests}
                {Object.entries(e.status ?? {}).map(([k, v]) => ` · ${k}: ${v}`)}
              </dd>
              <dt>Latency</dt>
              <dd>
                p50 {e.latency_p50_ms ?? 0} ms · p95 {e.latency_p95_ms ?? 0} ms · p99 {e.latency_p99_ms ?? 0} ms
              </dd>
            </>
          )}
          {(e.drop_reasons ?? []).length > 0 && (
            <>
              <dt>Drops</dt>
              <dd>{e.drop_reasons.join(', ')}</dd>
            </>
          )}
        </dl>
      ))}
    </section>
  );
}
