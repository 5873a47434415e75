/** Polling for the privileged suites: wait until a condition holds, naming it when it never does. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Calls fn every `everyMs` until it answers something truthy (answered) or
 * `timeoutMs` passes (throws "timed out waiting for <what>", with the last
 * error fn threw, if any). fn may throw meanwhile: that counts as not yet.
 */
export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
