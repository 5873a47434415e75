// One flow's details: summary, verdict, the deciding policies, the drop
// reason in words, its L7 record and the whole flow as JSON.
import { ciliumDropReasonText } from '../../src/observer/dropreasons.js';
import { summaryText, verdictText } from '../../src/observer/flowtext.js';
import { decidingPolicies, policyRef, type FlowRow } from '../../src/ui/model/flows.js';

export interface FlowDetailsProps {
  row: FlowRow;
  onClose(): void;
}

export function FlowDetails({ row, onClose }: FlowDetailsProps) {
  const f = row.flow;
  const policies = decidingPolicies(f);
  const dropped = row.verdict === 'DROPPED';
  const reasonName = String(f.drop_reason_desc ?? '');
  const reasonWords = ciliumDropReasonText(Number(f.drop_reason ?? 0));
  const l7 = f.l7;
  return (
    <section className="panel flow-details" data-testid="flow-details" aria-label="flow details">
      <header className="panel-head">
        <h2>Flow</h2>
        <button type="button" className="close" aria-label="close flow details" onClick={onClose}>
          ×
        </button>
      </header>
      <dl className="facts">
        <dt>Time</dt>
        <dd>{row.cells.time}</dd>
        <dt>Source</dt>
        <dd>{row.cells.source}</dd>
        <dt>Destination</dt>
        <dd>{row.cells.destination}</dd>
        <dt>Port</dt>
        <dd>{row.cells.port}</dd>
        <dt>Verdict</dt>
        <dd className={`verdict verdict-${row.verdict.toLowerCase()}`} data-verdict={row.verdict}>
          {verdictText(f, true)}
        </dd>
        <dt>Summary</dt>
        <dd>{summaryText(f) || '–'}</dd>
        <dt>Node</dt>
        <dd>{row.cells.node}</dd>
      </dl>
      {dropped && (
        <p className="drop-reason" data-testid="drop-reason">
          <strong>{reasonName && reasonName !== 'DROP_REASON_UNKNOWN' ? reasonName : `reason ${f.drop_reason ?? 0}`}</strong>
          {reasonWords ? ` — ${reasonWords}` : ''}
        </p>
      )}
      <div data-testid="flow-policies" className="flow-policies">
        <h3>Policies</h3>
        {policies.length === 0 ? (
          <p className="muted">No policy named by this flow.</p>
        ) : (
          <ul>
            {policies.map((p, i) => (
              <li key={i} className={`policy-${p.effect}`}>
                <code>{policyRef(p)}</code> {p.kind ? `(${p.kind}) ` : ''}
                {p.direction} {p.effect}
              </li>
            ))}
          </ul>
        )}
      </div>
      {l7 && (
        <div className="l7">
          <h3>L7</h3>
          <p>{row.cells.l7}</p>
          {l7.http && (l7.http.headers ?? []).length > 0 && (
            <ul className="headers">
              {(l7.http.headers ?? []).map((h, i) => (
                <li key={i}>
                  <code>
                    {h.key}: {h.value}
                  </code>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <details className="json" open>
        <summary>JSON</summary>
        <pre>{JSON.stringify(row.response, null, 2)}</pre>
      </details>
    </section>
  );
}
