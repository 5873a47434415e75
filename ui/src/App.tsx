// The shell of `beeline ui`: the header (lab, relay status, namespace, live),
// the service map, the flow table with its filters, and the side panels
// (flow details, a selected node or edge).
import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import type { FlowFilter } from '../../src/api/generated/flow/FlowFilter.js';
import type { GetFlowsRequest } from '../../src/api/generated/observer/GetFlowsRequest.js';
import type { GetFlowsResponse__Output } from '../../src/api/generated/observer/GetFlowsResponse.js';
import type { GetServiceMapRequest } from '../../src/api/generated/servicemap/GetServiceMapRequest.js';
import type { GetServiceMapResponse__Output } from '../../src/api/generated/servicemap/GetServiceMapResponse.js';
import type { ExportFlowsReply__Output } from '../../src/api/generated/ui/ExportFlowsReply.js';
import type { ExportFlowsRequest } from '../../src/api/generated/ui/ExportFlowsRequest.js';
import type { ParseFilterReply__Output } from '../../src/api/generated/ui/ParseFilterReply.js';
import type { ParseFilterRequest } from '../../src/api/generated/ui/ParseFilterRequest.js';
import type { UiConfig__Output } from '../../src/api/generated/ui/UiConfig.js';
import { hideWorkload, NO_NOISE_HIDDEN, requestFilters, showWorkload, type NoiseOptions } from '../../src/ui/model/filters.js';
import { appendRows, DEFAULT_SORT, flowCountText, flowRow, MAX_FLOWS, resumePoint, sortRows, toggleSort, visibleRows, type FlowRow, type ResumePoint } from '../../src/ui/model/flows.js';
import { selectionLabel, serviceIndex, type Selection } from '../../src/ui/model/selection.js';
import { ABORTED, ApiError, stream, unary } from './api.js';
import { downloadText } from './download.js';
import { FlowDetails } from './FlowDetails.js';
import { FlowTable } from './FlowTable.js';
import { NodePanel } from './NodePanel.js';
import { ServiceMap } from './ServiceMap.js';
import { EdgePanel } from './EdgePanel.js';
import './app.css';

/** Wait before reconnecting a failed stream. */
const RETRY_MS = 2000;
/** Flows asked for when a stream starts afresh. */
const INITIAL_FLOWS = '10000';

type Relay = { state: 'connecting' | 'connected' | 'unreachable'; message: string };
type TextFilter = { whitelist: FlowFilter[]; blacklist: FlowFilter[] };

const NO_TEXT_FILTER: TextFilter = { whitelist: [], blacklist: [] };

/**
 * Runs a stream for as long as the component wants it: reconnects RETRY_MS
 * after a failure (or an end), telling the caller through onError/onOpen.
 */
function runStream<Req, Msg>(route: string, request: () => Req, onMessage: (m: Msg) => void, hooks: { onOpen(): void; onError(e: ApiError): void; nextDelay?(): number }): () => void {
  const ctl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const attempt = () => {
    stream<Req, Msg>(route, request(), onMessage, ctl.signal, hooks.onOpen).then(
      () => {
        // A stream that ended: the next request (a follow after the history, or a reconnect).
        if (!ctl.signal.aborted) timer = setTimeout(attempt, hooks.nextDelay?.() ?? RETRY_MS);
      },
      (e: unknown) => {
        if (ctl.signal.aborted) return;
        const err = e instanceof ApiError ? e : new ApiError('NETWORK', String(e));
        if (err.code !== ABORTED) hooks.onError(err);
        timer = setTimeout(attempt, RETRY_MS);
      },
    );
  };
  attempt();
  return () => {
    ctl.abort();
    clearTimeout(timer);
  };
}

export function App() {
  const [config, setConfig] = useState<UiConfig__Output | null>(null);
  const [flowRelay, setFlowRelay] = useState<Relay>({ state: 'connecting', message: '' });
  const [mapRelay, setMapRelay] = useState<Relay>({ state: 'connecting', message: '' });
  const [map, setMap] = useState<GetServiceMapResponse__Output | null>(null);
  const [rows, setRows] = useState<FlowRow[]>([]);
  const [droppedRows, setDroppedRows] = useState(0);
  // Whether any flow ever arrived (under any filter): an empty table then means the filter matches none.
  const [received, setReceived] = useState(false);
  const [live, setLive] = useState(true);
  const [namespace, setNamespace] = useState('');
  const [nsSeen, setNsSeen] = useState<string[]>([]);
  const [filterText, setFilterText] = useState('');
  const [filterError, setFilterError] = useState('');
  const [textFilter, setTextFilter] = useState<TextFilter>(NO_TEXT_FILTER);
  const [noise, setNoise] = useState<NoiseOptions>(NO_NOISE_HIDDEN);
  const [selection, setSelection] = useState<Selection | null>(null);
  const [openSeq, setOpenSeq] = useState<number | null>(null);
  const [sort, setSort] = useState(DEFAULT_SORT);
  const [exportError, setExportError] = useState('');
  const filterInput = useRef<HTMLInputElement>(null);

  // Flows arrive as fast as the relay sends them: buffered here, appended once per animation frame.
  const pending = useRef<GetFlowsResponse__Output[]>([]);
  const frame = useRef(0);
  /** A flush waiting for its turn (see schedule), and when the last one ran. */
  const flushTimer = useRef(0);
  const lastFlush = useRef(0);
  const seq = useRef(0);
  const rowsRef = useRef<FlowRow[]>([]);
  rowsRef.current = rows;
  const resume = useRef<ResumePoint | null>(null);

  const filters = useMemo(() => requestFilters(textFilter, noise), [textFilter, noise]);
  const filtersKey = JSON.stringify(filters);

  useEffect(() => {
    const ctl = new AbortController();
    unary<object, UiConfig__Output>('ui.Ui/GetConfig', {}, ctl.signal).then(setConfig, () => {});
    return () => ctl.abort();
  }, []);

  const flush = useCallback(() => {
    frame.current = 0;
    lastFlush.current = performance.now();
    const batch = pending.current;
    pending.current = [];
    const add: FlowRow[] = [];
    const skip = resume.current;
    for (const res of batch) {
      const r = flowRow(res, seq.current++);
      if (r && !(skip && skip.held(r))) add.push(r);
    }
    if (add.length === 0) return;
    setReceived(true);
    // The ref moves now, not at the next render: a request made before it (the follow right after the
    // history) resumes after these rows.
    const next = appendRows(rowsRef.current, add);
    rowsRef.current = next.rows;
    if (next.dropped) setDroppedRows((d) => d + next.dropped);
    setRows(next.rows);
    setNsSeen((seen) => {
      const s = new Set(seen);
      for (const r of add) for (const n of r.namespaces) s.add(n);
      return s.size === seen.length ? seen : [...s].sort();
    });
  }, []);

  /**
   * One flush per animation frame while the table is small; once it holds
   * thousands of rows, at most four a second: every flush re-filters and
   * re-sorts what is held, and a burst (the first 10,000 flows) would
   * otherwise pay that once per frame.
   */
  const schedule = useCallback(() => {
    if (frame.current || flushTimer.current) return;
    const wait = rowsRef.current.length > 2000 ? 250 - (performance.now() - lastFlush.current) : 0;
    if (wait <= 0) frame.current = requestAnimationFrame(flush);
    else
      flushTimer.current = window.setTimeout(() => {
        flushTimer.current = 0;
        frame.current = requestAnimationFrame(flush);
      }, wait);
  }, [flush]);

  // The flow stream: restarted afresh when the server-side filters change; paused and resumed from the newest flow held.
  const filtersRef = useRef(filtersKey);
  useEffect(() => {
    if (filtersRef.current !== filtersKey) {
      filtersRef.current = filtersKey;
      pending.current = [];
      resume.current = null;
      // The stream effect below reads the held rows in this same commit: none, so it starts afresh.
      rowsRef.current = [];
      setRows([]);
      setDroppedRows(0);
      setOpenSeq(null);
    }
  }, [filtersKey]);

  useEffect(() => {
    if (!live) return;
    const f = JSON.parse(filtersKey) as TextFilter;
    // Nothing held: first the newest INITIAL_FLOWS without following, which the relay sends as soon as
    // every node has answered (a following request's flows wait in its sort buffer for a quieter node,
    // a second at the end of the history); then, at once, a follow from the newest flow received.
    // (A history request that failed is asked again: only its normal end starts the follow.)
    let history = rowsRef.current.length === 0;
    const request = (): GetFlowsRequest => {
      if (history) {
        resume.current = null;
        pending.current = [];
        return { number: INITIAL_FLOWS, follow: false, whitelist: f.whitelist, blacklist: f.blacklist };
      }
      // What still waits for a flush is taken in first (under the old resume point): the follow resumes after all of it.
      if (pending.current.length) flush();
      resume.current = rowsRef.current.length ? resumePoint(rowsRef.current) : null;
      return { follow: true, ...(resume.current?.since ? { since: resume.current.since } : {}), whitelist: f.whitelist, blacklist: f.blacklist };
    };
    const stop = runStream<GetFlowsRequest, GetFlowsResponse__Output>(
      'observer.Observer/GetFlows',
      request,
      (m) => {
        // A hidden tab gets no animation frames: what waits is cut as the buffer would cut it.
        if (pending.current.length >= 2 * MAX_FLOWS) pending.current = pending.current.slice(-MAX_FLOWS);
        pending.current.push(m);
        schedule();
      },
      {
        onOpen: () => setFlowRelay({ state: 'connected', message: '' }),
        nextDelay: () => {
          if (!history) return RETRY_MS;
          history = false;
          return 0;
        },
        onError: (e) => setFlowRelay({ state: 'unreachable', message: e.message }),
      },
    );
    return () => {
      stop();
      if (frame.current) cancelAnimationFrame(frame.current);
      frame.current = 0;
      window.clearTimeout(flushTimer.current);
      flushTimer.current = 0;
      flush();
    };
  }, [live, filtersKey, flush, schedule]);

  // The map: the relay's service map every 2 s, for the namespace and filters.
  useEffect(() => {
    const f = JSON.parse(filtersKey) as TextFilter;
    const req: GetServiceMapRequest = { namespaces: namespace ? [namespace] : [], whitelist: f.whitelist, blacklist: f.blacklist, interval_ms: 2000 };
    return runStream<GetServiceMapRequest, GetServiceMapResponse__Output>('servicemap.ServiceMap/WatchServiceMap', () => req, setMap, {
      onOpen: () => setMapRelay({ state: 'connected', message: '' }),
      onError: (e) => setMapRelay({ state: 'unreachable', message: e.message }),
    });
  }, [namespace, filtersKey]);

  // Keyboard: `/` focuses the filter, Escape closes the details, then the selection.
  const escape = useRef<() => void>(() => {});
  escape.current = () => {
    if (openSeq !== null) setOpenSeq(null);
    else if (selection) setSelection(null);
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = !!t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
      if (e.key === '/' && !typing) {
        e.preventDefault();
        filterInput.current?.focus();
      } else if (e.key === 'Escape') {
        if (typing && t === filterInput.current) filterInput.current?.blur();
        escape.current();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const applyFilter = async () => {
    const text = filterText.trim();
    if (!text) {
      setFilterError('');
      setTextFilter(NO_TEXT_FILTER);
      return;
    }
    try {
      const r = await unary<ParseFilterRequest, ParseFilterReply__Output>('ui.Ui/ParseFilter', { text });
      setFilterError('');
      setTextFilter({ whitelist: r.whitelist ?? [], blacklist: r.blacklist ?? [] });
    } catch (e) {
      setFilterError(e instanceof ApiError ? `${e.message}${e.hint ? ` (${e.hint})` : ''}` : String(e));
    }
  };

  // What the table shows: held rows (deferred while flows pour in), by namespace and map selection, sorted.
  const deferredRows = useDeferredValue(rows);
  // Only a selection needs the map's Services (translated connections' packets); without one, map updates re-sort nothing.
  const services = useMemo(() => (selection ? serviceIndex(map?.edges ?? []) : undefined), [selection, map]);
  const shown = useMemo(() => sortRows(visibleRows(deferredRows, namespace, selection, services), sort), [deferredRows, namespace, selection, services, sort]);
  const openRow = openSeq === null ? null : (shown.find((r) => r.seq === openSeq) ?? rows.find((r) => r.seq === openSeq) ?? null);

  const namespaces = useMemo(() => {
    const s = new Set(nsSeen);
    for (const n of map?.nodes ?? []) if (n.namespace) s.add(n.namespace);
    if (namespace) s.add(namespace);
    return [...s].sort();
  }, [nsSeen, map, namespace]);

  const unreachable = flowRelay.state === 'unreachable' ? flowRelay : mapRelay.state === 'unreachable' ? mapRelay : null;
  const emptyText = unreachable ? 'Relay unreachable' : deferredRows.length === 0 && !received ? 'No flows yet' : 'No flow matches the filter';

  const exportFlows = async () => {
    setExportError('');
    try {
      const r = await unary<ExportFlowsRequest, ExportFlowsReply__Output>('ui.Ui/ExportFlows', { flows: shown.map((x) => x.response) });
      downloadText('flows.jsonl', r.jsonl, 'application/x-ndjson');
    } catch (e) {
      setExportError(e instanceof ApiError ? e.message : String(e));
    }
  };

  const selectedNode = selection?.kind === 'node' ? selection.node : null;

  return (
    <div className="app">
      <header className="app-head">
        <h1>beeline</h1>
        {config?.lab && <span className="lab" title={config.relay}>lab {config.lab}</span>}
        <span className={`relay-status relay-${unreachable ? 'unreachable' : flowRelay.state}`} data-testid="relay-status" title={config?.relay}>
          {unreachable ? `relay unreachable: ${unreachable.message}` : flowRelay.state === 'connected' ? (live ? 'relay connected' : 'relay connected · paused') : 'connecting…'}
        </span>
        <span className="spacer" />
        <label className="ns">
          Namespace{' '}
          <select data-testid="namespace-select" value={namespace} onChange={(e) => setNamespace(e.target.value)}>
            <option value="">All namespaces</option>
            {namespaces.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <button type="button" data-testid="live-toggle" className={live ? 'live' : 'paused'} onClick={() => setLive((l) => !l)} aria-pressed={!live}>
          {live ? 'Pause' : 'Resume'}
        </button>
      </header>
      {unreachable && (
        <div className="relay-error" data-testid="relay-error" role="alert">
          Relay unreachable — retrying… <span className="msg">{unreachable.message}</span>
        </div>
      )}
      <main className={`app-main${selection || openRow ? ' with-panel' : ''}`}>
        <section className="map-area" aria-label="service map">
          <ServiceMap
            map={map}
            selection={selection}
            onSelect={(sel) => {
              setSelection(sel);
              if (sel) setOpenSeq(null);
            }}
          />
        </section>
        <section className="flows-area" aria-label="flows">
          <div className="toolbar">
            <input
              ref={filterInput}
              data-testid="filter-input"
              className={`filter${filterError ? ' bad' : ''}`}
              type="search"
              placeholder="Filter: --to-pod deathstar --http-status 403, from:pod=x verdict:DROPPED  (press / )"
              aria-label="flow filter"
              value={filterText}
              onChange={(e) => setFilterText(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') void applyFilter();
              }}
            />
            <label>
              <input type="checkbox" data-testid="hide-host" checked={noise.host} onChange={(e) => setNoise({ ...noise, host: e.target.checked })} /> host
            </label>
            <label>
              <input type="checkbox" data-testid="hide-kube-dns" checked={noise.kubeDns} onChange={(e) => setNoise({ ...noise, kubeDns: e.target.checked })} /> kube-dns
            </label>
            <label>
              <input type="checkbox" data-testid="hide-health" checked={noise.health} onChange={(e) => setNoise({ ...noise, health: e.target.checked })} /> health
            </label>
            {noise.workloads.map((w) => (
              <span key={`${w.namespace}/${w.name}`} className="chip" data-testid="hidden-chip">
                hidden {w.namespace}/{w.name}
                <button type="button" aria-label={`show ${w.namespace}/${w.name}`} onClick={() => setNoise(showWorkload(noise, w))}>
                  ×
                </button>
              </span>
            ))}
            {selection && (
              <span className="chip selection" data-testid="selection-chip">
                {selectionLabel(selection)}
                <button type="button" aria-label="clear selection" onClick={() => setSelection(null)}>
                  ×
                </button>
              </span>
            )}
            <span className="spacer" />
            <span data-testid="flow-count" className="count">
              {flowCountText(shown.length, deferredRows.length)}
            </span>
            {droppedRows > 0 && <span className="muted cap">(newest {MAX_FLOWS.toLocaleString('en-US')} kept)</span>}
            <button type="button" data-testid="export-flows" onClick={() => void exportFlows()} disabled={shown.length === 0}>
              Export
            </button>
          </div>
          {filterError && (
            <div className="filter-error" data-testid="filter-error" role="alert">
              {filterError}
            </div>
          )}
          {exportError && (
            <div className="filter-error" role="alert">
              Export failed: {exportError}
            </div>
          )}
          <FlowTable rows={shown} sort={sort} onSort={(c) => setSort((s) => toggleSort(s, c))} openSeq={openSeq} onOpen={(r) => setOpenSeq(r.seq)} emptyText={emptyText} />
        </section>
        {(openRow || selection) && (
          <aside className="side">
            {openRow && <FlowDetails row={openRow} onClose={() => setOpenSeq(null)} />}
            {!openRow && selectedNode && (
              <NodePanel
                key={selectedNode.id}
                node={selectedNode}
                onClose={() => setSelection(null)}
                onHide={() => {
                  setNoise(hideWorkload(noise, { namespace: selectedNode.namespace, name: selectedNode.name }));
                  setSelection(null);
                }}
              />
            )}
            {!openRow && selection?.kind === 'edge' && <EdgePanel edges={selection.edges} onClose={() => setSelection(null)} />}
          </aside>
        )}
      </main>
    </div>
  );
}
