// The flow table: Hubble UI's columns, sortable, virtualized (fixed row
// height, only the rows in view are in the DOM), keyboard-navigable.
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { COLUMNS, COLUMN_TITLES, visibleRange, type Column, type FlowRow, type Sort } from '../../src/ui/model/flows.js';

/** Row height in pixels (app.css's .flow-row has the same). */
export const ROW_HEIGHT = 26;

export interface FlowTableProps {
  rows: readonly FlowRow[];
  sort: Sort;
  onSort(column: Column): void;
  /** The row whose details are open. */
  openSeq: number | null;
  onOpen(row: FlowRow): void;
  /** Shown instead of rows when there are none. */
  emptyText: string;
}

export function FlowTable(p: FlowTableProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(400);
  // The row with the keyboard focus, by seq: it stays that row as flows arrive above it.
  const [activeSeq, setActiveSeq] = useState<number | null>(null);
  const focusPending = useRef(false);
  // The top row in view, to keep it in view when newer flows are put above it.
  const anchor = useRef<{ seq: number; index: number } | null>(null);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setViewport(el.clientHeight));
    ro.observe(el);
    setViewport(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const count = p.rows.length;
  const found = activeSeq === null ? -1 : p.rows.findIndex((r) => r.seq === activeSeq);
  const current = found >= 0 ? found : 0;
  const [first, last] = visibleRange(scrollTop, viewport, ROW_HEIGHT, count);

  // Scrolled down a live table: rows arriving above shift the view by as many rows, so the rows read stay put.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const a = anchor.current;
    if (a && el.scrollTop > 0) {
      const now = p.rows[a.index]?.seq === a.seq ? a.index : p.rows.findIndex((r) => r.seq === a.seq);
      if (now >= 0 && now !== a.index) {
        el.scrollTop += (now - a.index) * ROW_HEIGHT;
        setScrollTop(el.scrollTop);
      }
    }
    const top = Math.min(count - 1, Math.floor(el.scrollTop / ROW_HEIGHT));
    anchor.current = top >= 0 && p.rows[top] ? { seq: p.rows[top]!.seq, index: top } : null;
  }, [p.rows, count]);

  useEffect(() => {
    if (!focusPending.current) return;
    focusPending.current = false;
    scroller.current?.querySelector<HTMLElement>(`[data-index="${current}"]`)?.focus();
  });

  const moveTo = (i: number) => {
    const el = scroller.current;
    const next = Math.max(0, Math.min(count - 1, i));
    setActiveSeq(p.rows[next]?.seq ?? null);
    focusPending.current = true;
    if (el) {
      const top = next * ROW_HEIGHT;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
      setScrollTop(el.scrollTop);
    }
  };

  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (count === 0) return;
    const page = Math.max(1, Math.floor(viewport / ROW_HEIGHT) - 1);
    const to: Record<string, number> = { ArrowDown: current + 1, ArrowUp: current - 1, PageDown: current + page, PageUp: current - page, Home: 0, End: count - 1 };
    if (e.key in to) {
      e.preventDefault();
      moveTo(to[e.key]!);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const r = p.rows[current];
      if (r) p.onOpen(r);
    }
  };

  return (
    <div className="flow-table" data-testid="flow-table" role="table" aria-label="flows" aria-rowcount={count + 1}>
      <div className="flow-head" role="row">
        {COLUMNS.map((c) => {
          const sorted = p.sort.column === c;
          const ariaSort = sorted ? (p.sort.dir === 'asc' ? 'ascending' : 'descending') : 'none';
          return (
            <div key={c} role="columnheader" className={`cell col-${c}`} aria-sort={ariaSort}>
              {/* The button repeats aria-sort: the contract reads it where it clicks (sort-<col>). */}
              <button type="button" data-testid={`sort-${c}`} aria-sort={ariaSort} aria-label={`sort by ${COLUMN_TITLES[c].toLowerCase()}${sorted ? ` (${ariaSort})` : ''}`} onClick={() => p.onSort(c)}>
                {COLUMN_TITLES[c]}
                <span className="sort-mark" aria-hidden="true">
                  {sorted ? (p.sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                </span>
              </button>
            </div>
          );
        })}
      </div>
      <div
        className="flow-body"
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget;
          setScrollTop(el.scrollTop);
          const top = Math.floor(el.scrollTop / ROW_HEIGHT);
          anchor.current = p.rows[top] ? { seq: p.rows[top]!.seq, index: top } : null;
        }}
        onKeyDown={onKey}
        tabIndex={count === 0 ? 0 : -1}
      >
        {count === 0 ? (
          <div className="empty-state" data-testid="empty-state">
            {p.emptyText}
          </div>
        ) : (
          <div className="flow-spacer" style={{ height: count * ROW_HEIGHT }}>
            {p.rows.slice(first, last).map((r, k) => {
              const i = first + k;
              return (
                <div
                  key={r.seq}
                  role="row"
                  aria-rowindex={i + 2}
                  data-testid="flow-row"
                  data-index={i}
                  className={`flow-row${r.seq === p.openSeq ? ' open' : ''}${i % 2 ? ' odd' : ''}`}
                  style={{ top: i * ROW_HEIGHT }}
                  tabIndex={i === current ? 0 : -1}
                  aria-selected={r.seq === p.openSeq}
                  onClick={() => {
                    setActiveSeq(r.seq);
                    p.onOpen(r);
                  }}
                  onFocus={() => setActiveSeq(r.seq)}
                >
                  {COLUMNS.map((c) => (
                    <div key={c} role="cell" className={`cell col-${c}`} data-col={c} title={r.cells[c]} {...(c === 'verdict' ? { 'data-verdict': r.verdict } : {})}>
                      {r.cells[c]}
                    </div>
                  ))}
                </div>
              );
            })}
          </div>
        )}
      </div>
    </div>
  );
}
