// workerd has no process: give the middleware the env Next's edge runtime would.
declare const __EDGE_ENV__: Record<string, string>;
(globalThis as { process?: unknown }).process ??= { env: __EDGE_ENV__ };
export {};
