// Production and local runs share every line of database code; only the URL that
// Neon's HTTP driver posts to differs. Neon hosts get the driver's own default
// (https://api.<host>/sql); a loopback host means the dev stack's local endpoint.

import { isLoopbackHost } from "../loopback";

export const DEFAULT_LOCAL_ENDPOINT = "http://127.0.0.1:4444/sql";

export function isLocalDatabase(databaseUrl: string): boolean {
  return isLoopbackHost(new URL(databaseUrl).hostname);
}

/** The value for neonConfig.fetchEndpoint, or undefined to keep Neon's default. */
export function localFetchEndpoint(databaseUrl: string, localEndpoint = DEFAULT_LOCAL_ENDPOINT): string | undefined {
  return isLocalDatabase(databaseUrl) ? localEndpoint : undefined;
}
