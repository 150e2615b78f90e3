import * as o from "oauth4webapi";

const DISCOVERY_TIMEOUT_MS = 5_000;

// Hostnames that can only mean this machine (URL.hostname keeps IPv6 brackets):
// plain http is allowed for them alone, which is what the dev provider needs.
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Plain http is allowed for a loopback URL alone. */
export const isLoopbackHttp = (url: URL) => url.protocol === "http:" && LOOPBACK.has(url.hostname);

// Discovery is cached per issuer for the life of the process; a failed discovery
// is forgotten so the next call tries again.
const discovered = new Map<string, Promise<o.AuthorizationServer>>();

/** The issuer's OpenID Connect discovery document (RFC 8414 / OIDC Discovery 1.0), cached. */
export function discover(issuer: URL, allowHttp: boolean): Promise<o.AuthorizationServer> {
  const key = issuer.href;
  let pending = discovered.get(key);
  if (!pending) {
    pending = o.discoveryRequest(issuer, { [o.allowInsecureRequests]: allowHttp, signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) }).then((response) => o.processDiscoveryResponse(issuer, response));
    pending.catch(() => discovered.delete(key));
    discovered.set(key, pending);
  }
  return pending;
}
