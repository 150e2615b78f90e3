import { CATALOGUE } from "./catalogue";
import { configure } from "./descriptor";
import type { ConfiguredProvider, ProviderEnv } from "./types";

// Auth.js (auth.config.ts, edge-safe), the environment schema (lib/env.ts) and the
// refresh engine (lib/providers/index.ts) all read the catalogue through here, so
// they can never disagree. A new provider is one entry in lib/providers/catalogue.ts.

/** The providers whose credentials are set in `env`, in button order. */
export function configuredProviders(env: ProviderEnv): ConfiguredProvider[] {
  return CATALOGUE.map((descriptor) => configure(descriptor, env)).filter((provider) => provider !== undefined);
}
