// Waiting on a condition, not on a clock: what a test waits for (a webhook delivered
// after the response, a use recorded off the response path) can take seconds on a
// loaded CI machine, so the bounds are generous; a condition met returns at once.

/** Polls `check` every 25 ms until it answers something other than undefined, for at most `ms`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  for (const started = Date.now(); Date.now() - started < ms; await new Promise((resolve) => setTimeout(resolve, 25))) {
    const value = await check();
    if (value !== undefined) return value;
  }
  throw new Error("timed out waiting");
}

/**
 * `count()` once it has reached `atLeast` (waited for as eventually does) and then
 * stayed `quietMs` more: for counting work sent off the response path, which may
 * arrive late, and seeing that nothing more follows it.
 */
export async function settledCount(count: () => number, atLeast: number, quietMs = 200): Promise<number> {
  await eventually(() => (count() >= atLeast ? true : undefined));
  await new Promise((resolve) => setTimeout(resolve, quietMs));
  return count();
}
