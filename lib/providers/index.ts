import "server-only";
import { env } from "../env";
import { configuredProviders } from "./registry";
import type { ProviderEnv, ProviderSpec } from "./types";

export type { ProviderSpec } from "./types";

/** The Node side of every enabled provider, by id. */
export function providerSpecs(env: ProviderEnv): Map<string, ProviderSpec> {
  return new Map(configuredProviders(env).map((provider) => [provider.id, provider.spec]));
}

let cached: Map<string, ProviderSpec> | undefined;

export function enabledProviders(): Map<string, ProviderSpec> {
  // The validated environment (a malformed issuer URL is a named config error).
  cached ??= providerSpecs(env() as unknown as ProviderEnv);
  return cached;
}
