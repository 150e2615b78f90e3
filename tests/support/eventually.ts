/** Polls `check` every 25 ms until it answers something other than undefined, for at most `ms`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, ms = 3_000): Promise<T> {
  for (const started = Date.now(); Date.now() - started < ms; await new Promise((resolve) => setTimeout(resolve, 25))) {
    const value = await check();
    if (value !== undefined) return value;
  }
  throw new Error("timed out waiting");
}
