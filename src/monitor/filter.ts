/**
 * cilium monitor's filters (pkg/monitor/format MonitorFormatter.match): event
 * types, source endpoint, destination endpoint, either. Plus the stop
 * conditions of `beeline monitor`: a count of printed events and a duration.
 * Parsing throws UsageError naming the flag; matching is pure.
 */
import { BlEventType } from '../datapath/generated/abi.js';
import { UsageError } from '../common/errors.js';
import { eventEndpoints, eventTypeText, type MonitorEvent } from '../observer/event.js';

export interface MonitorFilter {
  /** Event types to show (hdr.type); empty: all. */
  types: ReadonlySet<number>;
  /** Source endpoint ids (`--from`); empty: any. */
  from: ReadonlySet<number>;
  /** Destination endpoint ids (`--to`); empty: any. */
  to: ReadonlySet<number>;
  /** Either endpoint (`--related-to`); empty: any. */
  related: ReadonlySet<number>;
}

/** The filter of a monitor without filter flags: everything passes. */
export const MATCH_ALL: MonitorFilter = { types: new Set(), from: new Set(), to: new Set(), related: new Set() };

/** `--type` names: Cilium's (drop, debug, capture, trace, policy-verdict), from our enum bl_event_type. */
export function eventTypeNames(): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of Object.values(BlEventType)) if (v !== BlEventType.BL_EVENT_UNSPEC) m.set(eventTypeText(v), v);
  return m;
}

/** Splits repeated and comma-separated flag values: `['drop,trace', 'debug']` → three. */
function values(raw: readonly string[]): string[] {
  return raw.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** Parses `--type` values (repeatable, comma-separated). */
export function parseTypes(raw: readonly string[]): Set<number> {
  const names = eventTypeNames();
  const out = new Set<number>();
  for (const v of values(raw)) {
    const t = names.get(v.toLowerCase());
    if (t === undefined) throw new UsageError(`--type ${v}: unknown event type`, `one of: ${[...names.keys()].join(', ')}`);
    out.add(t);
  }
  return out;
}

/** Parses endpoint ids of `--from`, `--to`, `--related-to` (repeatable, comma-separated; 0..65535 as Cilium's). */
export function parseEndpointIds(flag: string, raw: readonly string[]): Set<number> {
  const out = new Set<number>();
  for (const v of values(raw)) {
    if (!/^\d+$/.test(v) || Number(v) > 0xffff) throw new UsageError(`${flag} ${v}: not an endpoint id`, 'endpoint ids are whole numbers from 0 to 65535 (beeline endpoint list)');
    out.add(Number(v));
  }
  return out;
}

/** The filter from the command's flag values; throws UsageError naming the bad flag. */
export function buildFilter(o: { type?: readonly string[]; from?: readonly string[]; to?: readonly string[]; relatedTo?: readonly string[] }): MonitorFilter {
  return {
    types: parseTypes(o.type ?? []),
    from: parseEndpointIds('--from', o.from ?? []),
    to: parseEndpointIds('--to', o.to ?? []),
    related: parseEndpointIds('--related-to', o.relatedTo ?? []),
  };
}

/** Whether a filter passes an event type and its endpoints (Cilium's match). */
export function matchFields(f: MonitorFilter, type: number, src: number, dst: number): boolean {
  if (f.types.size > 0 && !f.types.has(type)) return false;
  if (f.from.size > 0 && !f.from.has(src)) return false;
  if (f.to.size > 0 && !f.to.has(dst)) return false;
  if (f.related.size > 0 && !f.related.has(src) && !f.related.has(dst)) return false;
  return true;
}

/** Whether a filter passes a decoded event. A record too short for a header has type -1 and passes only an empty type filter. */
export function matches(f: MonitorFilter, ev: MonitorEvent): boolean {
  const type = ev.kind === 'other' ? ev.type : ev.hdr.type;
  const { src, dst } = eventEndpoints(ev);
  return matchFields(f, type, src, dst);
}

/** `-n/--count`: a whole number of events, at least 1. */
export function parseCount(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`--count ${raw}: not a number of events`, 'a whole number, at least 1');
  }
  return Number(raw);
}

export { parseDuration } from '../common/duration.js';
