import "server-only";
import { env, type Env } from "../env";
import { discord } from "./discord";
import { google } from "./google";
import { oidc } from "./oidc";
import type { ProviderSpec } from "./types";

export type { ProviderSpec } from "./types";

/** The providers whose credentials are set, by id. */
export function providersFrom(source: Env): Map<string, ProviderSpec> {
  const specs: ProviderSpec[] = [];
  if (source.AUTH_GOOGLE_ID && source.AUTH_GOOGLE_SECRET) specs.push(google(source.AUTH_GOOGLE_ID, source.AUTH_GOOGLE_SECRET));
  if (source.AUTH_DISCORD_ID && source.AUTH_DISCORD_SECRET) specs.push(discord(source.AUTH_DISCORD_ID, source.AUTH_DISCORD_SECRET));
  if (source.AUTH_OIDC_ISSUER && source.AUTH_OIDC_ID && source.AUTH_OIDC_SECRET) {
    specs.push(oidc(source.AUTH_OIDC_ISSUER, source.AUTH_OIDC_ID, source.AUTH_OIDC_SECRET));
  }
  return new Map(specs.map((spec) => [spec.id, spec]));
}

let cached: Map<string, ProviderSpec> | undefined;

export function enabledProviders(): Map<string, ProviderSpec> {
  cached ??= providersFrom(env());
  return cached;
}
