import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isOperator } from "@/lib/operator";
import { Agent, signInThroughApp, startSignIn, type Fetcher } from "../../testkit/browserless";
import { APP_URL, appFetcher } from "../support/app";
import { startTestStack, type TestStack } from "../../testkit/stack";

// #16, item 3: an email the provider does not vouch for is never stored, matched for
// linking or compared with the operator list. Through Auth.js's real sign-in path, with
// the dev provider claiming other people's addresses on request (faults.claims).
let stack: TestStack;
let fetcher: Fetcher;
const OPERATOR = "grace@dev.tokenkeeper.test";

beforeAll(async () => {
  stack = await startTestStack("pglite");
  process.env.TOKENKEEPER_OPERATOR_EMAILS = OPERATOR;
  fetcher = await appFetcher();
});
afterAll(() => stack?.stop());

const claimsOf: Record<string, Record<string, unknown>> = {};
beforeAll(() => {
  stack.oidc!.faults.claims = (login) => claimsOf[login];
});

async function sessionOf(agent: Agent): Promise<{ user: { id: string; name: string; email?: string | null } }> {
  return (await agent.request(`${APP_URL}/api/auth/session`)).json();
}
const userOf = async (login: string) => {
  const account = await stack.db.account.findUniqueOrThrow({ where: { provider_providerAccountId: { provider: "oidc", providerAccountId: login } } });
  return stack.db.user.findUniqueOrThrow({ where: { id: account.userId } });
};

describe("emails the provider does not vouch for (#16)", () => {
  it("neither stores nor trusts an operator's address claimed unverified, and the operator still signs in to their own", async () => {
    claimsOf.mallory = { email: OPERATOR, email_verified: false };
    const mallory = await signInThroughApp(APP_URL, "mallory", fetcher);
    expect((await userOf("mallory")).email).toBeNull();
    const session = await sessionOf(mallory);
    expect(session.user.name).toBe("mallory");
    expect(session.user.email ?? null).toBeNull();
    expect(isOperator(session.user.email)).toBe(false);

    // The address's owner, verified: their own user, not OAuthAccountNotLinked.
    const grace = await signInThroughApp(APP_URL, "grace", fetcher);
    const graceUser = await userOf("grace");
    expect(graceUser).toMatchObject({ email: OPERATOR });
    expect(graceUser.id).not.toBe((await userOf("mallory")).id);
    expect(isOperator((await sessionOf(grace)).user.email)).toBe(true);
  });

  it("lets a person whose claimed address belongs to someone else sign in, without linking to that someone", async () => {
    await signInThroughApp(APP_URL, "ada", fetcher);
    claimsOf.eve = { email: "ada@dev.tokenkeeper.test", email_verified: false };
    const eve = await signInThroughApp(APP_URL, "eve", fetcher);
    expect((await sessionOf(eve)).user.name).toBe("eve");
    const eveUser = await userOf("eve");
    expect(eveUser.email).toBeNull();
    expect(eveUser.id).not.toBe((await userOf("ada")).id);
    expect(await stack.db.account.count({ where: { userId: (await userOf("ada")).id } })).toBe(1);
  });

  it("takes a provider that says nothing about verification as not vouching", async () => {
    claimsOf.quiet = { email: "quiet@dev.tokenkeeper.test", email_verified: undefined };
    const quiet = await signInThroughApp(APP_URL, "quiet", fetcher);
    expect((await userOf("quiet")).email).toBeNull();
    expect((await sessionOf(quiet)).user.email ?? null).toBeNull();
    // Verified on a later sign-in: the same person, the same user (by account, not by email).
    delete claimsOf.quiet;
    await signInThroughApp(APP_URL, "quiet", fetcher);
    expect(await stack.db.user.count({ where: { name: "quiet" } })).toBe(1);
  });
});

describe("what a visitor's request causes in Auth.js", () => {
  it("logs a forged session cookie as a warning, never as an error: no visitor can fill the error log", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const response = await fetcher(`${APP_URL}/api/auth/session`, { headers: { cookie: "authjs.session-token=forged.forged.forged.forged.forged" } });
      expect(response.status).toBe(200);
      expect(errors.mock.calls.flat().join("\n")).not.toContain("authjs.error");
      expect(warnings.mock.calls.flat().join("\n")).toMatch(/"level":"warn".*"event":"authjs.error".*JWTSessionError/);
    } finally {
      errors.mockRestore();
      warnings.mockRestore();
    }
  });

  /** Where the dev provider's own "Cancel" (oidc-provider's interaction abort) sends the user back: access_denied, as a real provider sends it. */
  async function cancelledConsent(agent: Agent): Promise<string> {
    const isBack = (url: string) => url.startsWith(`${APP_URL}/api/auth/callback/`);
    const { url: interaction } = await agent.follow(await startSignIn(APP_URL, agent), {}, isBack);
    const { url: callback } = await agent.follow(`${interaction}/abort`, {}, isBack);
    expect(new URL(callback).searchParams.get("error")).toBe("access_denied");
    return callback;
  }

  it("logs a cancelled consent (access_denied) as a warning, any other error the provider sends back as an error", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => {});
    const logged = (spy: typeof errors) => spy.mock.calls.flat().join("\n");
    try {
      const agent = new Agent(fetcher);
      const done = await agent.request(await cancelledConsent(agent));
      expect(done.headers.get("location")).toMatch(/error=/);
      expect(logged(errors)).not.toContain("authjs.error");
      expect(logged(warnings)).toMatch(/"level":"warn".*"event":"authjs.error".*OAuthCallbackError/);

      // The same answer with RFC 6749's server_error: the provider's fault, worth an operator's look.
      const failed = new URL(await cancelledConsent(agent));
      failed.searchParams.set("error", "server_error");
      await agent.request(failed.href);
      expect(logged(errors)).toMatch(/"level":"error".*"event":"authjs.error".*OAuthCallbackError/);
    } finally {
      errors.mockRestore();
      warnings.mockRestore();
    }
  });
});
