// The side panel of a selected map node: what it is, hiding it, and for a
// workload the policy suggestion (`beeline policy suggest` over the relay).
import { useState } from 'react';
import type { MapNode__Output } from '../../src/api/generated/servicemap/MapNode.js';
import type { SuggestPolicyReply__Output } from '../../src/api/generated/ui/SuggestPolicyReply.js';
import type { SuggestPolicyRequest } from '../../src/api/generated/ui/SuggestPolicyRequest.js';
import { labelsMap } from '../../src/ui/model/selection.js';
import { ApiError, unary } from './api.js';
import { downloadText } from './download.js';

export interface NodePanelProps {
  node: MapNode__Output;
  onHide(): void;
  onClose(): void;
}

export function NodePanel({ node, onHide, onClose }: NodePanelProps) {
  const workload = node.kind === 'WORKLOAD';
  const [l7, setL7] = useState(false);
  const [busy, setBusy] = useState(false);
  const [reply, setReply] = useState<SuggestPolicyReply__Output | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const suggest = async () => {
    setBusy(true);
    setError(null);
    try {
      const req: SuggestPolicyRequest = { namespace: node.namespace, labels: labelsMap(node.labels ?? []), kind: 'cnp', l7 };
      setReply(await unary<SuggestPolicyRequest, SuggestPolicyReply__Output>('ui.Ui/SuggestPolicy', req));
    } catch (e) {
      setReply(null);
      setError(e instanceof ApiError ? e : new ApiError('NETWORK', String(e)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel node-panel" aria-label={`${(node.kind ?? '').toLowerCase()} ${node.namespace ? `${node.namespace}/` : ''}${node.name}`}>
      <header className="panel-head">
        <h2>
          <span className="kind">{(node.kind ?? '').toLowerCase()}</span> {node.namespace ? `${node.namespace}/` : ''}
          {node.name}
        </h2>
        <button type="button" className="close" aria-label="close node panel" onClick={onClose}>
          ×
        </button>
      </header>
      {(node.labels ?? []).length > 0 && (
        <ul className="labels">
          {(node.labels ?? []).map((l) => (
            <li key={l}>
              <code>{l}</code>
            </li>
          ))}
        </ul>
      )}
      {(node.identities ?? []).length > 0 && <p className="muted">Identities: {(node.identities ?? []).join(', ')}</p>}
      {workload && (
        <>
          <div className="actions">
            <button type="button" data-testid="hide-workload" onClick={onHide}>
              Hide this workload
            </button>
          </div>
          <h3>Suggested policy</h3>
          <div className="actions">
            <label>
              <input type="checkbox" data-testid="suggest-l7" checked={l7} onChange={(e) => setL7(e.target.checked)} /> L7 (HTTP) rules
            </label>
            <button type="button" data-testid="suggest-policy" onClick={suggest} disabled={busy}>
              {busy ? 'Suggesting…' : 'Suggest policy'}
            </button>
          </div>
          {error && (
            <p className="error" role="alert">
              {error.message}
              {error.hint ? ` (${error.hint})` : ''}
            </p>
          )}
          {reply && (
            <div className="suggestion">
              <p className="muted">From {reply.flows} observed flows.</p>
              <div className="warnings" data-testid="suggestion-warnings">
                {(reply.warnings ?? []).length === 0 ? (
                  <p className="muted">No warnings.</p>
                ) : (
                  <ul>
                    {reply.warnings.map((w, i) => (
                      <li key={i}>{w}</li>
                    ))}
                  </ul>
                )}
              </div>
              <ul className="rules">
                {(reply.rules ?? []).map((r, i) => (
                  <li key={i} data-testid="suggestion-rule">
                    <strong>{r.direction}</strong> {r.peer} {(r.ports ?? []).join(', ')} <span className="muted">({r.flows} flows{r.example ? `, e.g. ${r.example}` : ''})</span>
                  </li>
                ))}
              </ul>
              <button type="button" data-testid="download-suggestion" onClick={() => downloadText(`${node.name}-policy.yaml`, reply.yaml, 'application/yaml')}>
                Download YAML
              </button>
              <pre data-testid="suggestion-yaml">{reply.yaml}</pre>
            </div>
          )}
        </>
      )}
    </section>
  );
}
