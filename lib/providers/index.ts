import "server-only";
import { configuredProviders } from "./registry";
import type { ConfiguredProvider, ProviderEnv, ProviderSpec } from "./types";

export type { ProviderSpec } from "./types";

/** The Node side of each of `providers`, by id: what the engine, the proxy and revocation look up. */
export function specsById(providers: readonly ConfiguredProvider[]): Map<string, ProviderSpec> {
  return new Map(providers.map((provider) => [provider.id, provider.spec]));
}

/** The Node side of every provider `env` enables, by id (the app's come from its Config; tests and benchmarks name theirs). */
export function providerSpecs(env: ProviderEnv): Map<string, ProviderSpec> {
  return specsById(configuredProviders(env));
}
