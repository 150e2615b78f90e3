// The dev provider: a real OpenID Connect server (panva/oidc-provider) on loopback,
// configured like the strictest provider we serve: refresh tokens rotate on every
// use and reusing a rotated one is invalid_grant and revokes the grant (Discord).
// Tests use its faults hook to make the token endpoint slow or failing.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import Provider from "oidc-provider";
import { createOidcStore } from "./oidc-store";

export type DevClient = { clientId: string; clientSecret: string; redirectUris: string[] };

/**
 * What the token endpoint does instead of its normal answer (tests only): wait
 * `delayMs`, then answer `status` without processing the request (a hang that ends
 * in a gateway error), or, without `status`, process it late.
 */
export type TokenFault = { delayMs?: number; status?: number; error?: string; retryAfterSeconds?: number };
export type TokenRequest = { grantType: string; refreshToken?: string };

export type DevOidcOptions = {
  port?: number;
  clients: DevClient[];
  accessTokenTtlSeconds?: number;
  /** A private signing JWK to keep across restarts; generated when absent. */
  signingKey?: JWK;
  cookieKeys?: string[];
  /** Persist grants, sessions and tokens here (JSON); memory only when absent. */
  storeFile?: string;
};

export type DevOidcServer = {
  issuer: string;
  provider: Provider;
  stats: { refreshRequests: number; refreshSuccesses: number; invalidGrants: number };
  faults: {
    token?: (request: TokenRequest) => TokenFault | undefined;
    /** Rewrites a successful token response (e.g. to drop the refresh token, as Google does). */
    tokenResponse?: (body: Record<string, unknown>, request: TokenRequest) => Record<string, unknown>;
    /** Claims of one login that replace the derived ones (e.g. another person's email with email_verified false, or none). */
    claims?: (login: string) => Record<string, unknown> | undefined;
    /** An HTTP status to answer the discovery document with instead (the provider down at a sign-in's start). */
    discovery?: () => number | undefined;
  };
  close(): Promise<void>;
};

export async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  return { ...(await exportJWK(privateKey)), alg: "RS256", use: "sig", kid: `dev-${Date.now()}` };
}

export async function startDevOidc(options: DevOidcOptions): Promise<DevOidcServer> {
  const store = createOidcStore(options.storeFile);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: Pick<DevOidcServer, "stats" | "faults"> = {
    stats: { refreshRequests: 0, refreshSuccesses: 0, invalidGrants: 0 },
    faults: {},
  };
  const provider = new Provider(issuer, {
    adapter: store.Adapter,
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    })),
    jwks: { keys: [options.signingKey ?? (await generateSigningKey())] },
    cookies: { keys: options.cookieKeys ?? [crypto.randomUUID()] },
    // Any user name signs in; its claims are derived from it (faults.claims may change them).
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          const claims: Record<string, unknown> = {
            sub: id,
            name: id,
            preferred_username: id,
            email: `${id}@dev.tokenkeeper.test`,
            email_verified: true,
            phone_number: "+1 555 0100",
            address: { country: "Nowhere" },
            ...state.faults.claims?.(id),
          };
          // A claim set to undefined is one the provider does not send at all.
          for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
          return claims as { sub: string };
        },
      };
    },
    // phone and address are not asked for at sign-in: an app can ask for them later
    // ("Request more access"), and userinfo then answers their claims.
    claims: { openid: ["sub"], profile: ["name", "preferred_username"], email: ["email", "email_verified"], phone: ["phone_number"], address: ["address"] },
    // Auth.js reads the profile from the ID token.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true }, revocation: { enabled: true }, userinfo: { enabled: true } },
    rotateRefreshToken: true,
    ttl: {
      AccessToken: options.accessTokenTtlSeconds ?? 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 30 * 24 * 3600,
      Grant: 365 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
    },
  });
  provider.proxy = false;

  provider.use(async (ctx, next) => {
    const status = ctx.path === "/.well-known/openid-configuration" ? state.faults.discovery?.() : undefined;
    if (!status) return next();
    ctx.status = status;
    ctx.body = { error: "server_error", error_description: "injected by the test" };
  });
  provider.use(async (ctx, next) => {
    if (ctx.method !== "POST" || ctx.path !== "/token") return next();
    // Read the form here to count and fault refresh requests; oidc-provider then
    // reads the already-parsed body from req.body.
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    (ctx.req as unknown as { body: Buffer }).body = raw;
    const form = new URLSearchParams(raw.toString("utf8"));
    const request: TokenRequest = { grantType: form.get("grant_type") ?? "", refreshToken: form.get("refresh_token") ?? undefined };
    if (request.grantType === "refresh_token") state.stats.refreshRequests += 1;
    const fault = state.faults.token?.(request);
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault?.status) {
      ctx.status = fault.status;
      if (fault.retryAfterSeconds !== undefined) ctx.set("retry-after", String(fault.retryAfterSeconds));
      ctx.body = { error: fault.error ?? "server_error", error_description: "injected by the test" };
      return;
    }
    await next();
    if (ctx.status === 200 && state.faults.tokenResponse) ctx.body = state.faults.tokenResponse({ ...(ctx.body as object) }, request);
    if (request.grantType !== "refresh_token") return;
    if (ctx.status === 200) state.stats.refreshSuccesses += 1;
    else if ((ctx.body as { error?: string } | undefined)?.error === "invalid_grant") state.stats.invalidGrants += 1;
  });

  server.on("request", provider.callback());
  return {
    issuer,
    provider,
    ...state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          store.flush();
          resolve();
        });
      }),
  };
}
