/**
 * The server's streams (application/x-ndjson): one JSON message per line,
 * possibly ending with a StreamTrailer line naming why the stream failed
 * (api/ui/ui.proto). Pure: ui/src/api.ts feeds it the response body's chunks.
 */
import type { Error__Output } from '../../api/generated/ui/Error.js';

/** One line of a stream: a message, or the trailer's error. */
export type StreamLine<M> = { message: M } | { error: Error__Output };

/**
 * A trailer is a line with a top-level `error` and none of the messages'
 * own fields (`flow`, `nodes`…): a message never has `error` at the top.
 */
export function parseStreamLine<M>(line: string): StreamLine<M> {
  const v = JSON.parse(line) as Record<string, unknown>;
  if (v && typeof v === 'object' && 'error' in v && v.error && typeof v.error === 'object' && !('flow' in v) && !('nodes' in v)) {
    const e = v.error as Partial<Error__Output>;
    return { error: { code: String(e.code ?? ''), message: String(e.message ?? ''), hint: String(e.hint ?? '') } };
  }
  return { message: v as M };
}

/** Splits text chunks into whole lines (the last, unfinished one kept for the next chunk). */
export class LineSplitter {
  private rest = '';

  /** The whole non-empty lines completed by this chunk. */
  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const parts = text.split('\n');
    this.rest = parts.pop() ?? '';
    return parts.filter((l) => l.trim() !== '');
  }

  /** What is left at the end of the stream (a last line without its newline). */
  end(): string[] {
    const last = this.rest;
    this.rest = '';
    return last.trim() ? [last] : [];
  }
}
