import { discord } from "./discord";
import { google } from "./google";
import { oidc } from "./oidc";
import type { ConfiguredProvider, ProviderEnv } from "./types";

// Every provider Tokenkeeper knows, listed once. Auth.js (auth.config.ts, edge-safe)
// and the refresh engine (lib/providers/index.ts) both read this list, so the two
// can never disagree. A new provider is one file beside this one plus one line here.
const DEFINITIONS = [google, discord, oidc];

/** The providers whose credentials are set in `env`, in button order. */
export function configuredProviders(env: ProviderEnv): ConfiguredProvider[] {
  return DEFINITIONS.map((definition) => definition.configure(env)).filter((provider) => provider !== undefined);
}
