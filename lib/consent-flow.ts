import "server-only";
import { startProviderSignIn, sessionUserId } from "./authjs-http";
import { appOrigin } from "./account-actions";
import { CONSENT_MARKER_COOKIE, consentMarker, consentMarkerFor, consentParams, verifyConsentLink } from "./consent";
import { findAccountById } from "./db/accounts";
import { db } from "./db/client";
import { TokenError } from "./errors";
import { logger } from "./log";
import { configuredProviders } from "./providers/registry";
import { sessionSecrets } from "./session-check";

// What a browser sees of a consent link: GET /api/v1/consent?link=… starts the
// provider's consent for the link's account (signed in as its owner, else after
// signing in), and /api/v1/consent/refused says why a consent changed nothing.

const log = logger("consent");

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small page of the app's own, for a person (never the provider's content). */
function page(status: number, title: string, body: string, headers: HeadersInit = {}): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head>` +
    `<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(body)}</p><p><a href="/dashboard">Go to your dashboard</a></p></body></html>`;
  const response = new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers } });
  return response;
}

/**
 * Opens a consent link: 303 to the provider's consent for the link's account, with
 * Auth.js's sign-in cookies and the marker (lib/consent.ts); 303 to /signin first
 * when signed out; a page saying why for an expired or forged link (400), another
 * user's session (403) or an account that is gone (404).
 */
export async function openConsentLink(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const secrets = sessionSecrets(process.env);
  let link;
  try {
    link = await verifyConsentLink(secrets, url.searchParams.get("link") ?? "");
  } catch (error) {
    if (error instanceof TokenError) return page(400, "This link cannot be used", error.message);
    throw error;
  }
  const userId = await sessionUserId(request);
  if (!userId) {
    const signIn = new URL("/signin", appOrigin(request));
    signIn.searchParams.set("callbackUrl", url.pathname + url.search);
    return Response.redirect(signIn, 303);
  }
  if (userId !== link.userId) return page(403, "This link is for another user", "You are signed in as someone else. Sign out, then open the link again and sign in as the account's owner.");
  const row = await findAccountById(db(), link.accountId);
  const provider = row && configuredProviders(process.env).find((candidate) => candidate.id === row.provider);
  if (!row || row.userId !== userId || !provider) return page(404, "This account is gone", "The account this link names was disconnected, or its provider is no longer enabled.");
  const origin = appOrigin(request);
  const marker = await consentMarker(secrets[0]!, row, origin.startsWith("https:"));
  const { location, setCookies } = await startProviderSignIn(origin, row.provider, consentParams(provider, row, link.scopes), marker.callbackPath);
  log.info("consent.start", { accountId: row.id, provider: row.provider, scopes: link.scopes.length });
  const headers = new Headers({ location, "cache-control": "no-store" });
  for (const cookie of [...setCookies, marker.cookie]) headers.append("set-cookie", cookie);
  return new Response(null, { status: 303, headers });
}

/**
 * The page a refused consent ends on (Auth.js's signIn callback sends the browser
 * here): it names the identity that was expected, read from the marker, and clears
 * the marker.
 */
export async function consentRefusedPage(request: Request): Promise<Response> {
  // The marker is read as the callback read it: the callback-URL cookie is still there.
  const asCallback = new Request(new URL("/api/auth/callback/refused", request.url), { headers: request.headers });
  const marker = await consentMarkerFor(asCallback, sessionSecrets(process.env));
  const providerName = marker && (configuredProviders(process.env).find((provider) => provider.id === marker.provider)?.name ?? marker.provider);
  const expected = marker ? `${providerName} account ${marker.identity ?? marker.providerAccountId}` : "account you were reconnecting";
  if (marker) log.warn("consent.refused", { accountId: marker.accountId, provider: marker.provider });
  return page(
    409,
    "That was another account",
    `The provider signed you in as a different account than the ${expected}. Nothing was changed: no account was added and no tokens were stored. Try again and sign in at the provider as that account.`,
    { "set-cookie": `${CONSENT_MARKER_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax` },
  );
}
