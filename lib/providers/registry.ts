import { AUTHJS_PROVIDERS } from "./authjs-providers";
import { CATALOGUE } from "./catalogue";
import { configure } from "./descriptor";
import { genericDescriptor } from "./generic";
import type { ConfiguredProvider, ProviderDescriptor, ProviderEnv } from "./types";

// The environment schema and the Config (lib/env.ts) read the providers through here,
// and Auth.js (auth.ts) and the refresh engine (lib/tokenkeeper.ts) take the Config's
// one list of enabled providers, so they can never disagree. A new provider is one entry in lib/providers/catalogue.ts;
// any other Auth.js provider works as a generic one (lib/providers/generic.ts).

/** Every provider that can be enabled: the catalogue's, then Auth.js's others as generic ones. */
export const DESCRIPTORS: readonly ProviderDescriptor[] = [...CATALOGUE, ...Object.entries(AUTHJS_PROVIDERS).map(([id, factory]) => genericDescriptor(id, factory))];

/** The providers whose credentials are set in `env`, in button order. */
export function configuredProviders(env: ProviderEnv): ConfiguredProvider[] {
  return DESCRIPTORS.map((descriptor) => configure(descriptor, env)).filter((provider) => provider !== undefined);
}
