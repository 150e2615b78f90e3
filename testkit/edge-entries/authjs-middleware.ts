// The comparison: Auth.js's own middleware wrapper around the edge-safe config, as
// STYLE.md's reference apps use it, given the providers and the session secrets the
// environment sets, as auth.ts gives them in Node.
import NextAuth from "next-auth";
import { authConfig } from "../../auth.config";
import { configuredProviders } from "../../lib/providers/registry";
import { sessionSecretList } from "../../lib/session-check";

export const middleware = NextAuth({
  ...authConfig,
  providers: configuredProviders(process.env).map((provider) => provider.authjs),
  secret: sessionSecretList(process.env),
}).auth;
