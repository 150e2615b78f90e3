// Is a request from a page of another site? Decided as Next's server actions decide:
// Fetch Metadata when the browser sends it, else the Origin header against the host
// the request was sent to (or AUTH_URL's, behind a proxy that rewrites Host). A
// request with neither comes from no browser (curl, a server): it is not cross-site.
// Pure, so a unit test can hold the table.

export function isCrossSite(headers: Headers, authUrl?: string): boolean {
  const site = headers.get("sec-fetch-site")?.toLowerCase();
  if (site !== undefined && site !== "same-origin" && site !== "none") return true;
  const origin = headers.get("origin");
  if (origin === null) return false;
  if (!URL.canParse(origin)) return true; // "null": a sandboxed frame, a data: URL
  const hosts = [headers.get("x-forwarded-host")?.split(",")[0]?.trim(), headers.get("host")];
  if (authUrl && URL.canParse(authUrl)) hosts.push(new URL(authUrl).host);
  return !hosts.includes(new URL(origin).host);
}
