import * as o from "oauth4webapi";
import { isLoopbackHost } from "../loopback";
import type { ProviderSpec } from "./types";

const DISCOVERY_TIMEOUT_MS = 5_000;

// Discovery is cached per issuer for the life of the process; a failed discovery
// is forgotten so the next call tries again.
const discovered = new Map<string, Promise<o.AuthorizationServer>>();

export function discover(issuer: URL, allowHttp: boolean): Promise<o.AuthorizationServer> {
  const key = issuer.href;
  let pending = discovered.get(key);
  if (!pending) {
    pending = o
      .discoveryRequest(issuer, { [o.allowInsecureRequests]: allowHttp, signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) })
      .then((response) => o.processDiscoveryResponse(issuer, response));
    pending.catch(() => discovered.delete(key));
    discovered.set(key, pending);
  }
  return pending;
}

/** Any OpenID Connect provider, configured from its issuer's discovery document. */
export function oidc(issuer: string, clientId: string, clientSecret: string): ProviderSpec {
  const url = new URL(issuer);
  const allowHttp = url.protocol === "http:" && isLoopbackHost(url.hostname);
  return {
    id: "oidc",
    clientId,
    clientSecret,
    clientAuth: "basic",
    // Unknown in general: assume the strict case and never refresh concurrently.
    rotatesRefreshTokens: true,
    allowHttp,
    authorizationServer: () => discover(url, allowHttp),
  };
}
