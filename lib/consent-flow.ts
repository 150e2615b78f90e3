import "server-only";
import { startProviderSignIn, sessionUserId } from "./authjs-http";
import { appOrigin } from "./accounts";
import { CONSENT_MARKER_COOKIE, consentMarker, consentMarkerFor, consentParams, type VerifiedConsentLink, verifyConsentLink } from "./consent";
import { findAccountById } from "./db/accounts";
import { claimConsentLink } from "./db/consent-links";
import { AppError } from "./errors";
import { logger } from "./log";
import { tokenkeeper } from "./tokenkeeper";

// What a browser sees of a consent link: GET /api/v1/consent?link=… starts the
// provider's consent for the link's account (signed in as its owner, else after
// signing in), and /api/v1/consent/refused says why a consent changed nothing.

const log = logger("consent");

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The app's shell (app/layout.tsx) and its design tokens (app/globals.css), for the
// pages a route handler answers outside the React tree: same header, type and colours.
const PAGE_STYLE = `
*,::before,::after{box-sizing:border-box;margin:0}
html{background:#f7f8fa;color:#14171c;font-family:ui-sans-serif,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;-webkit-font-smoothing:antialiased;line-height:1.5}
a{color:#1f4fd1;text-underline-offset:4px;text-decoration:none}a:hover{text-decoration:underline}
:focus-visible{outline:3px solid #1f4fd1;outline-offset:2px}
header{border-bottom:1px solid #dcdfe5;background:#fff}
.bar{max-width:72rem;margin:0 auto;height:3.5rem;display:flex;align-items:center;justify-content:space-between;gap:1rem;padding:0 1rem}
.brand{display:flex;align-items:center;gap:.5rem;font-weight:600;color:#14171c}.brand:hover{text-decoration:none}
nav a{font-size:.875rem;font-weight:500}
main{max-width:28rem;margin:0 auto;padding:4.5rem 1rem 2rem;display:flex;flex-direction:column;align-items:flex-start;gap:1rem}
h1{font-size:1.5rem;line-height:2rem;font-weight:700;letter-spacing:-.025em}
p{color:#525b67}
.button{display:inline-flex;align-items:center;height:2.25rem;padding:0 1rem;border-radius:.375rem;background:#1f4fd1;color:#fff;font-size:.875rem;font-weight:500}
.button:hover{text-decoration:none;background:#3461d6}
@media (min-width:640px){.bar{padding:0 1.5rem}main{padding-top:5rem}}`;

/** A small page of the app's own, for a person (never the provider's content), in the app's look. */
function page(status: number, title: string, body: string, headers: HeadersInit = {}): Response {
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)} · Tokenkeeper</title><link rel="icon" href="/icon.svg" type="image/svg+xml"><style>${PAGE_STYLE}</style></head><body>` +
    `<header><div class="bar"><a href="/" class="brand"><img src="/icon.svg" alt="" width="24" height="24">Tokenkeeper</a>` +
    `<nav aria-label="Main"><a href="/dashboard">Dashboard</a></nav></div></header>` +
    `<main id="main"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(body)}</p>` +
    `<a class="button" href="/dashboard">Go to your connections</a></main></body></html>`;
  return new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers } });
}

/**
 * Opens a consent link: 303 to the provider's consent for the link's account, with
 * Auth.js's sign-in cookies and the marker (lib/consent.ts); 303 to /signin first
 * when signed out; a page saying why for an expired or forged link (400), another
 * user's session (403), an account that is gone (404) or a link used before (410).
 */
export async function openConsentLink(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const secrets = tokenkeeper().config.sessionSecrets;
  let link: VerifiedConsentLink;
  try {
    link = await verifyConsentLink(secrets, url.searchParams.get("link") ?? "");
  } catch (error) {
    if (error instanceof AppError) return page(400, "This link cannot be used", error.message);
    throw error;
  }
  const userId = await sessionUserId(request);
  if (!userId) {
    const signIn = new URL("/signin", appOrigin(request));
    signIn.searchParams.set("callbackUrl", url.pathname + url.search);
    return Response.redirect(signIn, 303);
  }
  if (userId !== link.userId) return page(403, "This link is for another user", "You are signed in as someone else. Sign out, then open the link again and sign in as the account's owner.");
  const row = await findAccountById(tokenkeeper().db, link.accountId);
  const provider = row && tokenkeeper().config.providers.find((candidate) => candidate.id === row.provider);
  if (!row || row.userId !== userId || !provider) return page(404, "This account is gone", "The account this link names was disconnected, or its provider is no longer enabled.");
  const origin = appOrigin(request);
  const marker = await consentMarker(secrets[0]!, row, origin.startsWith("https:"));
  let started: Awaited<ReturnType<typeof startProviderSignIn>>;
  try {
    started = await startProviderSignIn(origin, row.provider, consentParams(provider, row, link.scopes), marker.callbackPath);
  } catch (error) {
    log.warn("consent.start_failed", { accountId: row.id, provider: row.provider, error });
    return page(503, `${provider.name} could not be reached`, "The consent could not start. Open the link again in a minute: it has not been used.");
  }
  const { location, setCookies } = started;
  // Single use, counted once the consent has started: a signed-out or wrong-user opening
  // above uses nothing, nor one whose start failed (a provider's discovery down).
  if (!(await claimConsentLink(tokenkeeper().db, link.jti, link.expiresAt))) {
    return page(410, "This link was already used", "Each reconnect link works once. Ask for a new one, or reconnect the account from your connections.");
  }
  log.info("consent.start", { accountId: row.id, provider: row.provider, scopes: link.scopes.length });
  const headers = new Headers({ location, "cache-control": "no-store" });
  for (const cookie of [...setCookies, marker.cookie]) headers.append("set-cookie", cookie);
  return new Response(null, { status: 303, headers });
}

/**
 * The page a refused consent ends on (Auth.js's signIn callback sends the browser
 * here): 409, naming the identity that was expected (read from the marker), and
 * clears the marker. Without a marker (opened by hand, or a second time) there is
 * nothing to explain: 404.
 */
export async function consentRefusedPage(request: Request): Promise<Response> {
  // The marker is read as the callback read it: the callback-URL cookie is still there.
  const asCallback = new Request(new URL("/api/auth/callback/refused", request.url), { headers: request.headers });
  const marker = await consentMarkerFor(asCallback, tokenkeeper().config.sessionSecrets);
  if (!marker) {
    return page(
      404,
      "No refused consent here",
      "This page explains a reconnect or more-access consent that came back as another account. This browser has none to explain: nothing was refused, and nothing was changed.",
    );
  }
  const providerName = tokenkeeper().config.providers.find((provider) => provider.id === marker.provider)?.name ?? marker.provider;
  log.warn("consent.refused", { accountId: marker.accountId, provider: marker.provider });
  return page(
    409,
    "That was another account",
    `The provider signed you in as a different account than the ${providerName} account ${marker.identity ?? marker.providerAccountId}. Nothing was changed: no account was added and no tokens were stored. Try again and sign in at the provider as that account.`,
    { "set-cookie": `${CONSENT_MARKER_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax` },
  );
}
