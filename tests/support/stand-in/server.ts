// One configurable OAuth provider, served over TLS on loopback and reached under the
// provider's real host names (./tls.ts). It plays what a provider documents: the
// client authentication and body its token endpoint demands, how it rotates refresh
// tokens (and the reuse grace it allows), the shape of its expiry and of its errors,
// nested answers, revocation, a cap on live grants per user, an OpenID Connect issuer
// where Auth.js's provider wants one, and an API that checks the bearer. Configs per
// provider live in ./providers.ts.
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { routeHostsToLoopback, testCertificate } from "./tls";

export type Rotation = "none" | "strict" | "lenient" | "may-rotate";

/** One provider's documented behaviour, as the stand-in plays it. */
export type StandInConfig = {
  /** The catalogue entry this plays (lib/providers/catalogue.ts). */
  id: string;
  /** What the stand-in plays, in a few words (the report's list). */
  plays: string;
  /** Where the provider documents it. */
  docs: string;
  authorize: string;
  token: string;
  /** Where Auth.js's provider exchanges the code, when not at `token` (Slack's OpenID Connect endpoint). */
  signInToken?: string;
  revocation?: string;
  /** Auth.js's profile source: GET (or POST) of `url` (a prefix when `prefix`), answering `body(user)`. */
  profile?: { url: string; prefix?: boolean; body: (user: StandInUser) => unknown };
  /** An OpenID Connect issuer: discovery, JWKS and an ID token on the code exchange. */
  oidc?: { issuer: string; userinfo?: string };
  api: string;
  /** What the token endpoint demands on a refresh (the code exchange is Auth.js's and accepts either). */
  clientAuth: "basic" | "post";
  body?: "json";
  rotation: Rotation;
  /** How long a spent refresh token still refreshes (issuing a new pair) under strict rotation; past it, reuse revokes the grant. */
  reuseGraceSeconds?: number;
  /** Live grants kept per user: a code exchange beyond it revokes the user's oldest grant. */
  liveGrantCap?: number;
  /** Access token lifetime; null: no expiry at all (never expires). */
  expiresIn: number | null;
  /** expires_at (epoch s) beside expires_in (Strava), or instead of it. */
  expiresAt?: "beside";
  /** No refresh token at all (GitHub OAuth Apps). */
  noRefreshToken?: boolean;
  scopeAsArray?: boolean;
  /** The refresh answer nests the user's tokens here (Slack's authed_user), top level ok:true. */
  nest?: string;
  /** Fields added to every token answer (refresh_token_expires_in, instance_url …). */
  extra?: Record<string, unknown>;
  /** The answer to a refresh token that is revoked, spent or unknown, as the provider sends it. */
  refused: { status: number; body: unknown };
};

/** `number`: the same user as a number, for providers whose ids are numbers (GitHub, Strava, HubSpot). */
export type StandInUser = { sub: string; number: number; email: string; name: string };

type Grant = { user: StandInUser; scope: string; revoked: boolean; refreshes: number };
type Spent = { grant: Grant; spentAt: number };
type Code = { grant: Grant; challenge?: string; nonce?: string; clientId: string };

export type StandInStats = {
  authorizations: URLSearchParams[];
  codeExchanges: number;
  refreshes: number;
  /** How each refresh authenticated and encoded its body. */
  refreshRequests: { clientAuth: "basic" | "post" | "none"; body: "form" | "json" }[];
  revocations: number;
  apiCalls: { method: string; url: string; headers: Record<string, string> }[];
};

const newToken = (prefix: string) => `${prefix}_${randomBytes(18).toString("base64url")}`;

export class StandIn {
  private config!: StandInConfig;
  private readonly codes = new Map<string, Code>();
  private readonly refreshTokens = new Map<string, Grant>();
  private readonly spent = new Map<string, Spent>();
  /** Each user's grants, oldest first (the live-grant cap ends the oldest). */
  private readonly grantsOf = new Map<string, Grant[]>();
  private readonly accessTokens = new Map<string, { grant: Grant; expiresAt: number | null }>();
  private users = 0;
  /** The user of the latest authorization. */
  lastUser?: StandInUser;
  /** The next authorization is this user's (signing in again as someone the provider knows); else a new user's. */
  nextUser?: StandInUser;
  stats!: StandInStats;
  /** The next refresh is processed (a rotation happens) but its answer never sent. */
  loseNextAnswer = false;

  private constructor(
    private readonly keys: { privateKey: CryptoKey; jwk: Record<string, unknown> },
    readonly stop: () => Promise<void>,
  ) {}

  /** Starts the stand-in for every host of `configs`, and routes global fetch to it. */
  static async start(configs: readonly StandInConfig[]): Promise<StandIn> {
    const hosts = [
      ...new Set(
        configs.flatMap((config) =>
          [config.authorize, config.token, config.signInToken, config.revocation, config.profile?.url, config.oidc?.issuer, config.oidc?.userinfo, config.api]
            .filter((url): url is string => Boolean(url))
            .map((url) => new URL(url).hostname),
        ),
      ),
    ];
    const { cert, key } = await testCertificate(hosts);
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    let standIn: StandIn;
    const server = createServer({ cert, key }, (request, response) => {
      standIn.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { "content-type": "text/plain" }).end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const restore = routeHostsToLoopback(hosts, (server.address() as AddressInfo).port, cert);
    standIn = new StandIn({ privateKey: privateKey as CryptoKey, jwk: { ...(await exportJWK(publicKey)), kid: "stand-in", alg: "RS256", use: "sig" } }, async () => {
      restore();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    return standIn;
  }

  /** Plays `config` from now on, with fresh counters. */
  play(config: StandInConfig): this {
    this.config = config;
    this.loseNextAnswer = false;
    this.stats = { authorizations: [], codeExchanges: 0, refreshes: 0, refreshRequests: [], revocations: 0, apiCalls: [] };
    return this;
  }

  /** Revokes every grant of the user (as the user would in the provider's settings). */
  revokeUser(sub: string) {
    const grants = [...this.refreshTokens.values(), ...[...this.spent.values()].map((entry) => entry.grant), ...[...this.accessTokens.values()].map((entry) => entry.grant)];
    for (const grant of grants) if (grant.user.sub === sub) grant.revoked = true;
  }

  /** How many of the user's grants are live (not revoked): what the live-grant cap keeps. */
  liveGrants(sub: string): number {
    return (this.grantsOf.get(sub) ?? []).filter((grant) => !grant.revoked).length;
  }

  /** Ends the access tokens' lives now (the provider's clock ran on), keeping the grants. */
  expireAccessTokens() {
    for (const entry of this.accessTokens.values()) entry.expiresAt = 0;
  }

  private async handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? "/", `https://${request.headers.host}`);
    const at = `${url.origin}${url.pathname}`;
    const body = await readBody(request);
    const config = this.config;
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
      response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers }).end(JSON.stringify(value));
    const issuer = config.oidc?.issuer;
    if (issuer && at === `${issuer}/.well-known/openid-configuration`) {
      return json(200, {
        issuer,
        authorization_endpoint: config.authorize,
        token_endpoint: config.signInToken ?? config.token,
        userinfo_endpoint: config.oidc?.userinfo ?? config.profile?.url,
        revocation_endpoint: config.revocation,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
      });
    }
    if (issuer && at === `${issuer}/.well-known/jwks.json`) return json(200, { keys: [this.keys.jwk] });
    if (at === config.authorize) return this.authorize(url, response);
    if (at === config.token || at === config.signInToken) return this.tokenEndpoint(request, body, json);
    if (at === config.revocation) {
      const fields = parseBody(request, body);
      const grant = this.refreshTokens.get(fields.token ?? "") ?? this.accessTokens.get(fields.token ?? "")?.grant;
      if (grant) grant.revoked = true;
      this.stats.revocations++;
      return json(200, {});
    }
    const profile = config.profile;
    const userinfo = config.oidc?.userinfo;
    if ((profile && (at === profile.url || (profile.prefix && at.startsWith(profile.url)))) || at === userinfo) {
      // HubSpot's token-info URL carries the token in its path instead of a bearer.
      const token = profile?.prefix ? at.slice(profile.url.length).replace(/^\//, "") : bearerOf(request);
      const live = this.live(token);
      if (!live) return json(401, { error: "invalid_token" });
      return json(200, at === userinfo ? { sub: live.user.sub, email: live.user.email, email_verified: true, name: live.user.name } : profile!.body(live.user));
    }
    if (at.startsWith(config.api)) {
      const live = this.live(bearerOf(request));
      this.stats.apiCalls.push({ method: request.method ?? "GET", url: url.href, headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)])) });
      if (!live) return json(401, { error: "invalid_token", message: "the access token is not valid" });
      return json(200, { provider: config.id, path: url.pathname, user: live.user.sub });
    }
    return json(404, { error: "not_found", at });
  }

  private live(token: string | undefined) {
    const entry = token ? this.accessTokens.get(token) : undefined;
    if (!entry || entry.grant.revoked) return undefined;
    if (entry.expiresAt !== null && entry.expiresAt <= Date.now() / 1000) return undefined;
    return entry.grant;
  }

  private authorize(url: URL, response: ServerResponse) {
    const params = url.searchParams;
    this.stats.authorizations.push(params);
    const redirect = new URL(params.get("redirect_uri") ?? "");
    const user = this.nextUser ?? { sub: `user-${++this.users}`, number: this.users, email: `user-${this.users}@stand-in.test`, name: `Stand-in user ${this.users}` };
    this.nextUser = undefined;
    this.lastUser = user;
    const code = newToken("code");
    this.codes.set(code, {
      grant: { user, scope: params.get("scope") ?? "", revoked: false, refreshes: 0 },
      challenge: params.get("code_challenge") ?? undefined,
      nonce: params.get("nonce") ?? undefined,
      clientId: params.get("client_id") ?? "",
    });
    redirect.searchParams.set("code", code);
    if (params.has("state")) redirect.searchParams.set("state", params.get("state")!);
    response.writeHead(302, { location: redirect.href }).end();
  }

  private async tokenEndpoint(request: IncomingMessage, raw: string, json: (status: number, value: unknown) => void) {
    const fields = parseBody(request, raw);
    const config = this.config;
    if (fields.grant_type === "authorization_code") {
      const code = this.codes.get(fields.code ?? "");
      this.codes.delete(fields.code ?? "");
      if (!code) return json(400, { error: "invalid_grant" });
      if (
        code.challenge &&
        createHash("sha256")
          .update(fields.code_verifier ?? "")
          .digest("base64url") !== code.challenge
      )
        return json(400, { error: "invalid_grant", error_description: "PKCE" });
      this.stats.codeExchanges++;
      this.grantLive(code.grant);
      const answer = this.issue(code.grant, undefined);
      if (config.oidc) {
        answer.id_token = await new SignJWT({ email: code.grant.user.email, email_verified: true, name: code.grant.user.name, ...(code.nonce ? { nonce: code.nonce } : {}) })
          .setProtectedHeader({ alg: "RS256", kid: "stand-in" })
          .setIssuer(config.oidc.issuer)
          .setAudience(code.clientId)
          .setSubject(code.grant.user.sub)
          .setIssuedAt()
          .setExpirationTime("10m")
          .sign(this.keys.privateKey);
      }
      return json(200, answer);
    }
    if (fields.grant_type !== "refresh_token") return json(400, { error: "unsupported_grant_type" });
    const clientAuth = request.headers.authorization?.startsWith("Basic ") ? "basic" : fields.client_secret ? "post" : "none";
    const body = isJson(request) ? "json" : "form";
    this.stats.refreshRequests.push({ clientAuth, body });
    this.stats.refreshes++;
    // What the provider documents it demands, or it refuses the client.
    if (clientAuth !== config.clientAuth || body !== (config.body ?? "form"))
      return json(401, { error: "invalid_client", error_description: `expected ${config.clientAuth} in a ${config.body ?? "form"} body` });
    const token = fields.refresh_token ?? "";
    const current = this.refreshTokens.get(token);
    const reused = this.spent.get(token);
    const inGrace = reused !== undefined && Date.now() - reused.spentAt <= (config.reuseGraceSeconds ?? 0) * 1000;
    // Reusing a spent token of a strictly rotating grant revokes the grant (RFC 9700
    // §4.14.2), but within the grace the provider documents (Atlassian's 10-minute
    // leeway) it refreshes again.
    if (reused && config.rotation === "strict" && !inGrace) reused.grant.revoked = true;
    const grant = current ?? (config.rotation === "lenient" || inGrace ? reused?.grant : undefined);
    if (!grant || grant.revoked) return json(config.refused.status, config.refused.body);
    grant.refreshes++;
    const rotate = config.rotation === "strict" || config.rotation === "lenient" || (config.rotation === "may-rotate" && grant.refreshes % 2 === 1);
    if (rotate) {
      this.refreshTokens.delete(token);
      // A reuse within the grace does not restart it.
      if (!reused) this.spent.set(token, { grant, spentAt: Date.now() });
    }
    const answer = this.issue(grant, rotate ? undefined : token);
    if (this.loseNextAnswer) {
      // Processed and rotated, but the answer is lost on the way (the client times out).
      this.loseNextAnswer = false;
      return;
    }
    json(200, config.nest ? { ok: true, [config.nest]: answer } : answer);
  }

  /** Counts a new grant for its user; beyond the live-grant cap, the user's oldest live grant is revoked. */
  private grantLive(grant: Grant) {
    const grants = [...(this.grantsOf.get(grant.user.sub) ?? []), grant];
    this.grantsOf.set(grant.user.sub, grants);
    const cap = this.config.liveGrantCap;
    const live = grants.filter((each) => !each.revoked);
    if (cap !== undefined && live.length > cap) live[0]!.revoked = true;
  }

  /** A token answer for `grant`: a new access token, and a new refresh token unless `keep` is the one to keep. */
  private issue(grant: Grant, keep: string | undefined): Record<string, unknown> {
    const config = this.config;
    const accessToken = newToken("at");
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = config.expiresIn === null ? null : now + config.expiresIn;
    this.accessTokens.set(accessToken, { grant, expiresAt });
    const answer: Record<string, unknown> = { access_token: accessToken, token_type: "bearer", scope: config.scopeAsArray ? grant.scope.split(" ") : grant.scope, ...config.extra };
    if (expiresAt !== null) answer.expires_in = config.expiresIn;
    if (expiresAt !== null && config.expiresAt) answer.expires_at = expiresAt;
    if (!config.noRefreshToken && keep === undefined) {
      const refreshToken = newToken("rt");
      this.refreshTokens.set(refreshToken, grant);
      answer.refresh_token = refreshToken;
    }
    return answer;
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (text += chunk));
    request.on("end", () => resolve(text));
    request.on("error", reject);
  });
}

const isJson = (request: IncomingMessage) => (request.headers["content-type"] ?? "").includes("json");

function parseBody(request: IncomingMessage, raw: string): Record<string, string | undefined> {
  if (isJson(request)) return JSON.parse(raw || "{}") as Record<string, string>;
  return Object.fromEntries(new URLSearchParams(raw));
}

const bearerOf = (request: IncomingMessage) => /^Bearer (.+)$/i.exec(request.headers.authorization ?? "")?.[1];
