import Atlassian from "next-auth/providers/atlassian";
import Box from "next-auth/providers/box";
import Discord from "next-auth/providers/discord";
import Dropbox from "next-auth/providers/dropbox";
import GitHub from "next-auth/providers/github";
import Google from "next-auth/providers/google";
import HubSpot from "next-auth/providers/hubspot";
import LinkedIn from "next-auth/providers/linkedin";
import MicrosoftEntraID from "next-auth/providers/microsoft-entra-id";
import Notion from "next-auth/providers/notion";
import Reddit from "next-auth/providers/reddit";
import Salesforce from "next-auth/providers/salesforce";
import Slack from "next-auth/providers/slack";
import Spotify from "next-auth/providers/spotify";
import Strava from "next-auth/providers/strava";
import Twitch from "next-auth/providers/twitch";
import Twitter from "next-auth/providers/twitter";
import Zoom from "next-auth/providers/zoom";
import { emailVerifiedClaim } from "./email";
import { codeIn, stravaErrors, tokenRefusedInDescription, twitchStatusMessage } from "./error-shapes";
import type { ProviderDescriptor } from "./types";

// Every provider Tokenkeeper knows, one entry each, in button order. Each field is
// what the provider documents at `docs`; the stand-in of tests/support/stand-in plays
// the same behaviour (tests/pglite/catalogue.test.ts). Auth.js's own provider does
// the sign-in; the rest is what keeping its tokens needs.

/** An Auth.js authorization URL given as a string (Spotify, X, Zoom, Reddit) with more parameters. */
const withParams = (url: string, params: Record<string, string>) => {
  const merged = new URL(url);
  for (const [name, value] of Object.entries(params)) merged.searchParams.set(name, value);
  return merged.href;
};

const staticEndpoints =
  (issuer: string, token: string, more: { revocation?: string; userinfo?: string } = {}) =>
  () => ({ issuer, token, ...more });

export const CATALOGUE: readonly ProviderDescriptor[] = [
  {
    id: "google",
    name: "Google",
    docs: "https://developers.google.com/identity/protocols/oauth2/web-server#offline",
    // A refresh token only with offline access, and only on the consent screen.
    authjs: ({ clientId, clientSecret }, params) => Google({ clientId, clientSecret, authorization: { params: { ...params, response_type: "code" } } }),
    endpoints: staticEndpoints("https://accounts.google.com", "https://oauth2.googleapis.com/token", {
      revocation: "https://oauth2.googleapis.com/revoke",
      userinfo: "https://openidconnect.googleapis.com/v1/userinfo",
    }),
    clientAuth: "post",
    offlineParams: { access_type: "offline", prompt: "consent" },
    linkParams: { prompt: "select_account consent", access_type: "offline" },
    // Incremental authorization: the new grant keeps the scopes granted before.
    moreScopesParams: { include_granted_scopes: "true", access_type: "offline", prompt: "consent" },
    expiry: "expires_in",
    apiBase: "https://www.googleapis.com",
    rotation: { mode: "none" },
    // Unused for six months (seven days for an app in testing): gone.
    refreshTokenLifetime: { kind: "idle", days: 180 },
    // Google's ID token says whether it verified the address (email_verified).
    emailVerified: emailVerifiedClaim,
    // System parameters as headers: https://cloud.google.com/apis/docs/system-parameters
    apiHeaders: ["x-goog-user-project", "x-goog-fieldmask", "x-http-method-override"],
  },
  {
    id: "discord",
    name: "Discord",
    docs: "https://discord.com/developers/docs/topics/oauth2#authorization-code-grant-refresh-token-exchange-example",
    authjs: ({ clientId, clientSecret }) => Discord({ clientId, clientSecret }),
    endpoints: staticEndpoints("https://discord.com", "https://discord.com/api/oauth2/token", {
      revocation: "https://discord.com/api/oauth2/token/revoke",
      userinfo: "https://discord.com/api/users/@me",
    }),
    clientAuth: "post",
    offlineParams: {},
    linkParams: { prompt: "consent" },
    moreScopesParams: { prompt: "consent" },
    expiry: "expires_in",
    apiBase: "https://discord.com/api",
    // Each refresh token is single-use: two concurrent refreshes revoke the grant.
    rotation: { mode: "strict" },
    // The user object says whether the address is verified (`verified`, https://discord.com/developers/docs/resources/user).
    emailVerified: (profile) => profile.verified === true,
    // https://discord.com/developers/docs/resources/audit-log
    apiHeaders: ["x-audit-log-reason"],
  },
  {
    id: "github",
    name: "GitHub",
    docs: "https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens",
    authjs: ({ clientId, clientSecret }) => GitHub({ clientId, clientSecret }),
    // No RFC 7009 endpoint (revoking is DELETE /applications/{client_id}/grant).
    endpoints: staticEndpoints("https://github.com/login/oauth", "https://github.com/login/oauth/access_token", { userinfo: "https://api.github.com/user" }),
    clientAuth: "post",
    // A GitHub App with expiring user tokens sends a refresh token (8 hours / 6 months,
    // refresh_token_expires_in); an OAuth App's tokens never expire and come alone.
    offlineParams: {},
    linkParams: { prompt: "select_account" },
    expiry: "expires_in",
    apiBase: "https://api.github.com",
    rotation: { mode: "strict" },
    refreshTokenLifetime: { kind: "answer" },
    // Errors come with HTTP 200.
    errorMatchers: [codeIn("error", { bad_refresh_token: "reauth_required", incorrect_client_credentials: "misconfigured" })],
    apiHeaders: ["x-github-api-version"],
  },
  {
    id: "microsoft-entra-id",
    name: "Microsoft Entra ID",
    docs: "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#refresh-the-access-token",
    // The tenant's issuer, e.g. https://login.microsoftonline.com/<tenant-id>/v2.0.
    issuer: "required",
    authjs: ({ clientId, clientSecret, issuer }, params) => MicrosoftEntraID({ clientId, clientSecret, issuer, authorization: { params } }),
    endpoints: ({ issuer }) => ({ discovery: issuer! }),
    clientAuth: "post",
    offlineParams: { scope: "openid profile email offline_access User.Read" },
    linkParams: { prompt: "select_account" },
    moreScopesParams: { prompt: "consent" },
    expiry: "expires_in",
    apiBase: "https://graph.microsoft.com",
    // A new refresh token each time; the old one stays valid until it expires.
    rotation: { mode: "lenient" },
    refreshTokenLifetime: { kind: "idle", days: 90 },
  },
  {
    id: "slack",
    name: "Slack",
    docs: "https://api.slack.com/authentication/rotation",
    authjs: ({ clientId, clientSecret }) => Slack({ clientId, clientSecret }),
    endpoints: staticEndpoints("https://slack.com", "https://slack.com/api/oauth.v2.access", { userinfo: "https://slack.com/api/openid.connect.userInfo" }),
    clientAuth: "post",
    offlineParams: {},
    expiry: "expires_in",
    apiBase: "https://slack.com/api",
    // With token rotation on: 12-hour access tokens, refresh tokens renewed as they are used.
    rotation: { mode: "may-rotate" },
    // Sign in with Slack's ID token (email_verified).
    emailVerified: emailVerifiedClaim,
    // oauth.v2.access nests the user's tokens; errors are HTTP 200 with ok:false.
    tokenAnswerPath: "authed_user",
    errorMatchers: [codeIn("error", { invalid_refresh_token: "reauth_required", token_revoked: "reauth_required", invalid_client_id: "misconfigured", bad_client_secret: "misconfigured" })],
  },
  {
    id: "salesforce",
    name: "Salesforce",
    docs: "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_refresh_token_flow.htm",
    authjs: ({ clientId, clientSecret }, params) => Salesforce({ clientId, clientSecret, authorization: { params } }),
    endpoints: staticEndpoints("https://login.salesforce.com", "https://login.salesforce.com/services/oauth2/token", {
      revocation: "https://login.salesforce.com/services/oauth2/revoke",
      userinfo: "https://login.salesforce.com/services/oauth2/userinfo",
    }),
    clientAuth: "post",
    offlineParams: { scope: "openid api refresh_token" },
    // No expires_in: the session's timeout decides; a 401 from the API means refresh.
    expiry: "none",
    // The answer's instance_url, at authorization and at each refresh, is the org's own
    // host and the base of its REST API ("OAuth 2.0 Web Server Flow", "OAuth 2.0 Refresh
    // Token Flow for Renewed Sessions"): https://MyDomainName.my.salesforce.com, legacy
    // https://na1.salesforce.com, sandboxes under sandbox.my.salesforce.com ("My Domain
    // URL Formats"). Until an account's answers name one, the login host.
    apiBase: "https://login.salesforce.com",
    apiBaseFromAnswer: { field: "instance_url", domains: ["salesforce.com"] },
    rotation: { mode: "none" },
    // Salesforce's userinfo (email_verified).
    emailVerified: emailVerifiedClaim,
    // "Each connected app allows five unique approvals per user. After a fifth approval
    // is made, the oldest approval is revoked" (https://help.salesforce.com/s/articleView?id=platform.remoteaccess_request_approve.htm):
    // for OAuth 2.0 each refresh token is an approval.
    liveGrantCap: 5,
  },
  {
    id: "spotify",
    name: "Spotify",
    docs: "https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens",
    authjs: ({ clientId, clientSecret }) => Spotify({ clientId, clientSecret }),
    endpoints: staticEndpoints("https://accounts.spotify.com", "https://accounts.spotify.com/api/token", { userinfo: "https://api.spotify.com/v1/me" }),
    clientAuth: "basic",
    offlineParams: {},
    linkParams: { show_dialog: "true" },
    expiry: "expires_in",
    apiBase: "https://api.spotify.com/v1",
    rotation: { mode: "may-rotate" },
    // Six months from the first consent, whatever the refreshes.
    refreshTokenLifetime: { kind: "absolute", days: 180 },
  },
  {
    id: "twitter",
    name: "X",
    docs: "https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/user-access-token",
    authjs: ({ clientId, clientSecret }, params) => Twitter({ clientId, clientSecret, authorization: withParams("https://x.com/i/oauth2/authorize", params) }),
    endpoints: staticEndpoints("https://x.com", "https://api.x.com/2/oauth2/token", { revocation: "https://api.x.com/2/oauth2/revoke", userinfo: "https://api.x.com/2/users/me" }),
    clientAuth: "basic",
    offlineParams: { scope: "users.read tweet.read offline.access" },
    expiry: "expires_in",
    apiBase: "https://api.x.com/2",
    rotation: { mode: "strict" },
    errorMatchers: [tokenRefusedInDescription],
  },
  {
    id: "zoom",
    name: "Zoom",
    docs: "https://developers.zoom.us/docs/integrations/oauth/#refreshing-an-access-token",
    authjs: ({ clientId, clientSecret }) => Zoom({ clientId, clientSecret }),
    endpoints: staticEndpoints("https://zoom.us", "https://zoom.us/oauth/token", { revocation: "https://zoom.us/oauth/revoke", userinfo: "https://api.zoom.us/v2/users/me" }),
    clientAuth: "basic",
    offlineParams: {},
    expiry: "expires_in",
    apiBase: "https://api.zoom.us/v2",
    rotation: { mode: "strict" },
    // Zoom's user (verified: 1).
    emailVerified: (profile) => profile.verified === 1,
    refreshTokenLifetime: { kind: "idle", days: 90 },
    // One live grant per user per app ("token tolerance" 1): a new authorization
    // invalidates the user's previous tokens, as Zoom's staff state for user OAuth
    // (https://devforum.zoom.us/t/server-to-server-oauth-annoying-token-invalidation/72070,
    // https://devforum.zoom.us/t/the-procedure-for-increasing-the-token-tolerance-token-index-and-its-impact/95429).
    liveGrantCap: 1,
    errorMatchers: [tokenRefusedInDescription],
  },
  {
    id: "atlassian",
    name: "Atlassian",
    docs: "https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/#use-a-refresh-token-to-get-another-access-token-and-refresh-token-pair",
    authjs: ({ clientId, clientSecret }, params) => Atlassian({ clientId, clientSecret, authorization: { params } }),
    endpoints: staticEndpoints("https://auth.atlassian.com", "https://auth.atlassian.com/oauth/token", { userinfo: "https://api.atlassian.com/me" }),
    clientAuth: "post",
    tokenRequestBody: "json",
    offlineParams: { audience: "api.atlassian.com", scope: "read:me offline_access", prompt: "consent" },
    expiry: "expires_in",
    apiBase: "https://api.atlassian.com",
    // Rotating refresh tokens: 90 days idle, 365 days absolute. "Reuse of old tokens
    // outside the leeway interval invalidates all refresh tokens [...] The leeway interval
    // is 10 minutes" (Atlassian's announcement of rotating refresh tokens,
    // https://community.developer.atlassian.com/t/updated-31-january-2022-action-required-deprecating-persistent-refresh-tokens/54172):
    // within it the spent token still refreshes, so a lost answer is asked again at once.
    rotation: { mode: "strict", reuseGraceSeconds: 600 },
    // Atlassian's /me (email_verified).
    emailVerified: (profile) => profile.email_verified === true,
    refreshTokenLifetime: { kind: "idle", days: 90 },
    // A revoked refresh token is a 403 (unauthorized_client, "refresh_token is invalid").
    errorMatchers: [tokenRefusedInDescription],
  },
  {
    id: "strava",
    name: "Strava",
    docs: "https://developers.strava.com/docs/authentication/#refreshingexpiredaccesstokens",
    authjs: ({ clientId, clientSecret }) => Strava({ clientId, clientSecret }),
    endpoints: staticEndpoints("https://www.strava.com", "https://www.strava.com/api/v3/oauth/token", { userinfo: "https://www.strava.com/api/v3/athlete" }),
    clientAuth: "post",
    offlineParams: {},
    linkParams: { approval_prompt: "force" },
    // An absolute expires_at (epoch seconds) beside expires_in.
    expiry: "expires_at",
    apiBase: "https://www.strava.com/api/v3",
    rotation: { mode: "may-rotate" },
    errorMatchers: [stravaErrors],
  },
  {
    id: "twitch",
    name: "Twitch",
    docs: "https://dev.twitch.tv/docs/authentication/refresh-tokens/",
    authjs: ({ clientId, clientSecret }) => Twitch({ clientId, clientSecret }),
    endpoints: staticEndpoints("https://id.twitch.tv/oauth2", "https://id.twitch.tv/oauth2/token", {
      revocation: "https://id.twitch.tv/oauth2/revoke",
      userinfo: "https://id.twitch.tv/oauth2/userinfo",
    }),
    clientAuth: "post",
    offlineParams: {},
    linkParams: { force_verify: "true" },
    expiry: "expires_in",
    apiBase: "https://api.twitch.tv/helix",
    rotation: { mode: "may-rotate" },
    // Twitch's ID token claims (email_verified).
    emailVerified: emailVerifiedClaim,
    // Errors are {status, message}; scope comes as an array.
    errorMatchers: [twitchStatusMessage],
    apiHeaders: ["client-id"],
  },
  {
    id: "dropbox",
    name: "Dropbox",
    docs: "https://developers.dropbox.com/oauth-guide#using-refresh-tokens",
    authjs: ({ clientId, clientSecret }, params) => Dropbox({ clientId, clientSecret, authorization: { params } }),
    endpoints: staticEndpoints("https://www.dropbox.com", "https://api.dropboxapi.com/oauth2/token"),
    clientAuth: "post",
    offlineParams: { token_access_type: "offline" },
    linkParams: { force_reapprove: "true" },
    expiry: "expires_in",
    apiBase: "https://api.dropboxapi.com/2",
    // Long-lived refresh tokens, never rotated.
    rotation: { mode: "none" },
    // Dropbox's account (email_verified).
    emailVerified: (profile) => profile.email_verified === true,
    apiHeaders: ["dropbox-api-arg", "dropbox-api-select-user"],
  },
  {
    id: "linkedin",
    name: "LinkedIn",
    docs: "https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens",
    authjs: ({ clientId, clientSecret }) => LinkedIn({ clientId, clientSecret }),
    endpoints: staticEndpoints("https://www.linkedin.com/oauth", "https://www.linkedin.com/oauth/v2/accessToken", {
      revocation: "https://www.linkedin.com/oauth/v2/revoke",
      userinfo: "https://api.linkedin.com/v2/userinfo",
    }),
    clientAuth: "post",
    offlineParams: {},
    expiry: "expires_in",
    apiBase: "https://api.linkedin.com",
    rotation: { mode: "none" },
    // LinkedIn's ID token (email_verified).
    emailVerified: emailVerifiedClaim,
    // 365 days from the first consent (refresh_token_expires_in counts down).
    refreshTokenLifetime: { kind: "absolute", days: 365 },
    errorMatchers: [tokenRefusedInDescription],
    apiHeaders: ["linkedin-version", "x-restli-protocol-version"],
  },
  {
    id: "hubspot",
    name: "HubSpot",
    docs: "https://developers.hubspot.com/docs/api/oauth/refresh-access-token",
    authjs: ({ clientId, clientSecret }) => HubSpot({ clientId, clientSecret }),
    endpoints: staticEndpoints("https://app.hubspot.com", "https://api.hubapi.com/oauth/v1/token"),
    clientAuth: "post",
    offlineParams: {},
    expiry: "expires_in",
    apiBase: "https://api.hubapi.com",
    rotation: { mode: "none" },
    // {status: "BAD_REFRESH_TOKEN", message} with HTTP 400.
    errorMatchers: [codeIn("status", { BAD_REFRESH_TOKEN: "reauth_required", BAD_CLIENT_ID: "misconfigured", BAD_CLIENT_SECRET: "misconfigured" })],
  },
  {
    id: "box",
    name: "Box",
    docs: "https://developer.box.com/guides/authentication/tokens/refresh/",
    authjs: ({ clientId, clientSecret }) => Box({ clientId, clientSecret }),
    endpoints: staticEndpoints("https://account.box.com", "https://api.box.com/oauth2/token", { revocation: "https://api.box.com/oauth2/revoke", userinfo: "https://api.box.com/2.0/users/me" }),
    clientAuth: "post",
    offlineParams: {},
    expiry: "expires_in",
    apiBase: "https://api.box.com/2.0",
    // Single-use refresh tokens, but a repeated refresh answers the same new pair.
    rotation: { mode: "lenient" },
    refreshTokenLifetime: { kind: "idle", days: 60 },
  },
  {
    id: "notion",
    name: "Notion",
    docs: "https://developers.notion.com/reference/refresh-a-token",
    authjs: ({ clientId, clientSecret }) => {
      // Auth.js's Notion provider puts its redirectUri option into the authorization
      // parameters, over the callback URL Auth.js derives: leave that to Auth.js.
      const notion = Notion({ clientId, clientSecret, redirectUri: "" });
      delete (notion.authorization as { params: Record<string, unknown> }).params.redirect_uri;
      return notion;
    },
    endpoints: staticEndpoints("https://api.notion.com", "https://api.notion.com/v1/oauth/token", { revocation: "https://api.notion.com/v1/oauth/revoke" }),
    clientAuth: "basic",
    tokenRequestBody: "json",
    offlineParams: {},
    // Older integrations' tokens never expire and come without a refresh token.
    expiry: "expires_in",
    apiBase: "https://api.notion.com/v1",
    rotation: { mode: "strict" },
    apiHeaders: ["notion-version"],
  },
  {
    id: "reddit",
    name: "Reddit",
    docs: "https://github.com/reddit-archive/reddit/wiki/OAuth2#refreshing-the-token",
    authjs: ({ clientId, clientSecret }, params) => Reddit({ clientId, clientSecret, authorization: withParams("https://www.reddit.com/api/v1/authorize?scope=identity", params) }),
    endpoints: staticEndpoints("https://www.reddit.com", "https://www.reddit.com/api/v1/access_token", {
      revocation: "https://www.reddit.com/api/v1/revoke_token",
      userinfo: "https://oauth.reddit.com/api/v1/me",
    }),
    clientAuth: "basic",
    offlineParams: { duration: "permanent" },
    expiry: "expires_in",
    apiBase: "https://oauth.reddit.com",
    rotation: { mode: "none" },
  },
  {
    id: "oidc",
    name: "OpenID Connect",
    docs: "https://openid.net/specs/openid-connect-core-1_0.html#OfflineAccess",
    issuer: "required",
    authjs: ({ clientId, clientSecret, issuer }, params, env) => ({
      id: "oidc",
      name: env.AUTH_OIDC_NAME?.trim() || "OpenID Connect",
      type: "oidc",
      issuer,
      clientId,
      clientSecret,
      authorization: { params },
      checks: ["pkce", "state"],
    }),
    endpoints: ({ issuer }) => ({ discovery: issuer! }),
    clientAuth: "basic",
    // offline_access (granted on consent) is what makes it issue a refresh token at all.
    offlineParams: { scope: "openid profile email offline_access", prompt: "consent" },
    // Signing in again makes sure the consent is this account's, not whoever holds the provider's session.
    linkParams: { prompt: "login consent" },
    moreScopesParams: { prompt: "login consent" },
    expiry: "expires_in",
    apiBase: (env, { issuer }) => env.AUTH_OIDC_API_BASE_URL?.trim() || new URL(issuer!).origin,
    // Unknown in general: assume the strict case (never refresh concurrently).
    rotation: { mode: "strict" },
    // OpenID Connect Core §5.1 (email_verified).
    emailVerified: emailVerifiedClaim,
    extraEnv: { AUTH_OIDC_NAME: "text", AUTH_OIDC_API_BASE_URL: "url" },
  },
];
