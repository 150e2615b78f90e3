// Which requests the edge middleware lets through. Pure, so the edge suite, the
// unit tests and middleware.ts all judge paths by the same rules. middleware.ts's
// matcher must cover exactly the protected prefixes and ENCODING_CHECKED_PREFIXES (a
// unit test holds them together).

export type GateDecision = { kind: "pass" } | { kind: "unauthorized" } | { kind: "invalid_request" } | { kind: "signin"; callbackUrl: string };

export const PROTECTED_PAGE_PREFIXES = ["/dashboard"];
export const PROTECTED_API_PREFIXES = ["/api/accounts"];

/** Paths the middleware sees only to refuse an undecodable path: every route handler's. */
export const ENCODING_CHECKED_PREFIXES = ["/api"];

const under = (pathname: string, prefix: string) => pathname === prefix || pathname.startsWith(`${prefix}/`);

/** Whether the gate's decision on `pathname` depends on the session (a protected page or account route). */
export const needsSession = (pathname: string) => [...PROTECTED_API_PREFIXES, ...PROTECTED_PAGE_PREFIXES].some((prefix) => under(pathname, prefix));

/** Does every percent-escape of the path decode? Next answers a bare 500 for a route parameter that does not. */
function decodable(pathname: string): boolean {
  try {
    decodeURIComponent(pathname);
    return true;
  } catch {
    return false;
  }
}

export function gate(url: URL, signedIn: boolean): GateDecision {
  if (!decodable(url.pathname)) return { kind: "invalid_request" };
  if (signedIn || !needsSession(url.pathname)) return { kind: "pass" };
  if (PROTECTED_API_PREFIXES.some((prefix) => under(url.pathname, prefix))) return { kind: "unauthorized" };
  if (PROTECTED_PAGE_PREFIXES.some((prefix) => under(url.pathname, prefix))) {
    return { kind: "signin", callbackUrl: url.pathname + url.search };
  }
  return { kind: "pass" };
}
