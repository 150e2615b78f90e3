// Vitest stands in for the React Server environment that the real "server-only" checks.
export {};
