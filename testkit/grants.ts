// Real grants at the dev provider (authorization code + PKCE, through its login and
// consent forms) and Account rows holding their tokens, encrypted as the app does.
import * as o from "oauth4webapi";
import type { Db } from "@/lib/db/client";
import type { TokenWrite } from "@/lib/db/refresh";
import { encryptToken, parseKeyring } from "@/lib/tokens/crypto";
import { DEFAULT_SWEEP_POLICY, nextSweepAt } from "@/lib/tokens/sweep-policy";
import { Agent, loginAtDevProvider } from "./browserless";
import type { TestStack } from "./stack";

export type IssuedTokens = { accessToken: string; refreshToken: string; idToken?: string; expiresIn: number };

const REDIRECT = "http://localhost:3999/api/auth/callback/oidc";

export async function issueTokens(stack: TestStack, login: string): Promise<IssuedTokens> {
  const issuer = new URL(stack.env.AUTH_OIDC_ISSUER!);
  const options = { [o.allowInsecureRequests]: true };
  const as = await o.processDiscoveryResponse(issuer, await o.discoveryRequest(issuer, options));
  const client: o.Client = { client_id: stack.env.AUTH_OIDC_ID! };
  const verifier = o.generateRandomCodeVerifier();
  const state = o.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: "openid profile email offline_access",
    prompt: "consent",
    state,
    code_challenge: await o.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  }).toString();
  const back = await loginAtDevProvider(new Agent(), url.href, login, REDIRECT);
  const params = o.validateAuthResponse(as, client, new URL(back), state);
  const auth = o.ClientSecretBasic(stack.env.AUTH_OIDC_SECRET!);
  const response = await o.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT, verifier, options);
  const result = await o.processAuthorizationCodeResponse(as, client, response);
  if (!result.refresh_token) throw new Error("the dev provider issued no refresh token");
  return { accessToken: result.access_token, refreshToken: result.refresh_token, idToken: result.id_token, expiresIn: result.expires_in ?? 0 };
}

export type SeededAccount = { userId: string; accountId: string; tokens: IssuedTokens };

/** A user with an `oidc` Account holding `tokens`, expiring at `expiresAt` (epoch seconds). */
export async function seedAccount(db: Db, stack: TestStack, login: string, tokens: IssuedTokens, expiresAt: number, fields: Record<string, unknown> = {}): Promise<SeededAccount> {
  const keyring = parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS);
  const user = await db.user.create({ data: { name: login, email: `${login}@dev.tokenkeeper.test` } });
  const slot = { provider: "oidc", providerAccountId: login };
  const now = new Date();
  // The tokens as issued expiresIn seconds before expiresAt (a token about to expire was
  // not just refreshed: the sweep's next due time counts from the last refresh).
  const refreshedAt = new Date(Math.min(now.getTime(), (expiresAt - tokens.expiresIn) * 1000));
  const account = await db.account.create({
    data: {
      userId: user.id,
      type: "oidc",
      provider: "oidc",
      providerAccountId: login,
      access_token: await encryptToken(keyring, tokens.accessToken, slot, "access_token"),
      refresh_token: await encryptToken(keyring, tokens.refreshToken, slot, "refresh_token"),
      id_token: tokens.idToken ? await encryptToken(keyring, tokens.idToken, slot, "id_token") : null,
      expires_at: expiresAt,
      token_type: "bearer",
      // As a sign-in leaves it: just used, next sweep as the policy says.
      refreshedAt,
      lastUsedAt: now,
      nextSweepAt: nextSweepAt(DEFAULT_SWEEP_POLICY, { lastUsedAt: now, expiresAt: new Date(expiresAt * 1000), refreshedAt }, now),
      ...fields,
    },
  });
  return { userId: user.id, accountId: account.id, tokens };
}

export const epochNow = () => Math.floor(Date.now() / 1000);

/** A form POST to the dev provider as the app's client (client_secret_basic). */
export function postToProvider(stack: Pick<TestStack, "env">, path: string, fields: Record<string, string>): Promise<Response> {
  const credentials = Buffer.from(`${stack.env.AUTH_OIDC_ID}:${stack.env.AUTH_OIDC_SECRET}`).toString("base64");
  return fetch(`${stack.env.AUTH_OIDC_ISSUER}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${credentials}` },
    body: new URLSearchParams(fields).toString(),
  });
}

/** What the dev provider's userinfo answers `accessToken` (GET /me): 200 while the token is live, 401 once it is not. */
export async function userinfoStatus(stack: Pick<TestStack, "env">, accessToken: string): Promise<number> {
  return (await fetch(`${stack.env.AUTH_OIDC_ISSUER}/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status;
}

/** `count` accounts with real grants, issued `parallel` at a time; `expiresAt(i)` per account. */
export async function seedMany(db: Db, stack: TestStack, prefix: string, count: number, expiresAt: (i: number) => number, parallel = 8): Promise<SeededAccount[]> {
  const seeded: SeededAccount[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        const login = `${prefix}-${i}`;
        seeded[i] = await seedAccount(db, stack, login, await issueTokens(stack, login), expiresAt(i));
      }
    }),
  );
  return seeded;
}

/** A refresh's write for account `id` under the lease `owner`: the given tokens, nothing else (no scope, ID token, lifetimes or warning), not handed out. */
export function tokenWrite(id: string, owner: string, tokens: Pick<TokenWrite, "accessToken" | "refreshToken" | "expiresAt">): TokenWrite {
  return {
    id,
    owner,
    ...tokens,
    scope: null,
    tokenType: "bearer",
    idToken: null,
    refreshTokenExpiresAt: null,
    reauthBy: null,
    reauthWarnedAt: null,
    warnReauth: false,
    nextSweepAt: new Date(),
    used: false,
  };
}
