import * as o from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { errorResponse, ProviderMisconfiguredError, ProviderUnavailableError, ReauthRequiredError, type AppError } from "@/lib/errors";
import { classifyErrorAnswer, type ErrorAnswer, type ErrorClass, type ErrorMatcher } from "@/lib/providers/error-classes";
import { providerSpecs } from "@/lib/providers";
import { classifyProviderError, RETRY_AFTER_CAP_MS } from "@/lib/providers/requests";

const spec = providerSpecs({ AUTH_OIDC_ISSUER: "https://login.example.com", AUTH_OIDC_ID: "id", AUTH_OIDC_SECRET: "secret" }).get("oidc")!;
const as: o.AuthorizationServer = { issuer: "https://login.example.com", token_endpoint: "https://login.example.com/token" };
const now = new Date("2026-01-01T00:00:00Z");

/** What oauth4webapi itself throws for this token-endpoint answer, classified. */
async function classify(status: number, body: string | object, headers: Record<string, string> = {}): Promise<AppError> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const response = new Response(text, { status, headers: { "content-type": typeof body === "string" ? "text/html" : "application/json", ...headers } });
  const error = await o.processRefreshTokenResponse(as, { client_id: "id" }, response).then(
    () => undefined,
    (e: unknown) => e,
  );
  return classifyProviderError(spec, error, now);
}

describe("classifyProviderError (the back-off contract)", () => {
  it("makes invalid_grant a reauth_required error", async () => {
    const error = await classify(400, { error: "invalid_grant" });
    expect(error).toBeInstanceOf(ReauthRequiredError);
    expect(error).toMatchObject({ code: "reauth_required", status: 409 });
  });

  it.each([500, 502, 503])("makes a %i with an OAuth error body provider_unavailable, keeping the status", async (status) => {
    const error = await classify(status, { error: "server_error" });
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ providerStatus: status, retryAfter: undefined });
  });

  it("makes a 5xx HTML page provider_unavailable too", async () => {
    expect(await classify(502, "<html>Bad gateway</html>")).toMatchObject({ code: "provider_unavailable", providerStatus: 502 });
  });

  it("reads a 429's Retry-After in seconds and as an HTTP date", async () => {
    expect(await classify(429, { error: "slow_down" }, { "retry-after": "30" })).toMatchObject({
      code: "provider_unavailable",
      providerStatus: 429,
      retryAfter: new Date("2026-01-01T00:00:30Z"),
    });
    expect((await classify(429, { error: "slow_down" }, { "retry-after": "Thu, 01 Jan 2026 00:02:00 GMT" })).retryAfter).toStrictEqual(new Date("2026-01-01T00:02:00Z"));
  });

  it("caps a Retry-After that would freeze the account for years (#11)", async () => {
    const error = await classify(503, { error: "unavailable" }, { "retry-after": String(5 * 365 * 86_400) });
    expect(error.retryAfter).toStrictEqual(new Date(now.getTime() + RETRY_AFTER_CAP_MS));
  });

  it("ignores a Retry-After in the past or unreadable, so our own back-off applies", async () => {
    expect((await classify(429, { error: "x" }, { "retry-after": "Wed, 01 Jan 2020 00:00:00 GMT" })).retryAfter).toBeUndefined();
    expect((await classify(429, { error: "x" }, { "retry-after": "soon" })).retryAfter).toBeUndefined();
    expect((await classify(429, { error: "x" }, { "retry-after": "-5" })).retryAfter).toBeUndefined();
  });

  it("keeps other 4xx answers as provider_rejected", async () => {
    expect(await classify(400, { error: "invalid_scope" })).toMatchObject({ code: "provider_rejected", providerStatus: 400 });
  });

  // #18: what only the user can fix, and what only operators can.
  it.each(["invalid_grant", "interaction_required", "login_required", "consent_required", "account_selection_required"])("makes 400 %s reauth_required", async (code) => {
    const error = await classify(400, { error: code, error_description: "MFA required" });
    expect(error).toBeInstanceOf(ReauthRequiredError);
    expect(error.message).toContain(code);
  });

  it.each(["invalid_client", "unauthorized_client"])("makes 400 %s provider_misconfigured, naming the variables to check", async (code) => {
    const error = await classify(400, { error: code });
    expect(error).toBeInstanceOf(ProviderMisconfiguredError);
    expect(error).toMatchObject({ code: "provider_misconfigured", status: 502, providerStatus: 400 });
    expect(error.message).toContain("AUTH_OIDC_ID / AUTH_OIDC_SECRET");
  });

  it("makes a 401 challenge from the token endpoint provider_misconfigured (RFC 6749 §5.2)", async () => {
    const error = await classify(401, { error: "invalid_client" }, { "www-authenticate": 'Basic realm="token", error="invalid_client"' });
    expect(error).toMatchObject({ code: "provider_misconfigured", providerStatus: 401 });
  });

  it("makes timeouts and network failures provider_unavailable with no status", () => {
    expect(classifyProviderError(spec, new DOMException("The operation timed out.", "TimeoutError"))).toMatchObject({ code: "provider_unavailable", providerStatus: undefined });
    expect(classifyProviderError(spec, new TypeError("fetch failed"))).toMatchObject({ code: "provider_unavailable" });
  });

  it("keeps the original error as the cause", async () => {
    const error = await classify(400, { error: "invalid_grant" });
    expect(error.cause).toBeInstanceOf(o.ResponseBodyError);
  });
});

describe("classifyErrorAnswer (RFC 6749 §5.2, OpenID Connect Core §3.1.2.6)", () => {
  const cases: [string, ErrorAnswer, ErrorClass][] = [
    ["invalid_grant", { status: 400, error: "invalid_grant" }, "reauth_required"],
    ["interaction_required (MFA, conditional access)", { status: 400, error: "interaction_required" }, "reauth_required"],
    ["login_required", { status: 400, error: "login_required" }, "reauth_required"],
    ["consent_required", { status: 400, error: "consent_required" }, "reauth_required"],
    ["account_selection_required", { status: 400, error: "account_selection_required" }, "reauth_required"],
    ["invalid_client", { status: 400, error: "invalid_client" }, "misconfigured"],
    ["invalid_client as a 401", { status: 401, error: "invalid_client", challenged: true }, "misconfigured"],
    ["unauthorized_client", { status: 400, error: "unauthorized_client" }, "misconfigured"],
    ["a bare 401 challenge", { status: 401, challenged: true }, "misconfigured"],
    ["a 500", { status: 500, error: "server_error" }, "unavailable"],
    ["a 503 page", { status: 503 }, "unavailable"],
    ["a 429", { status: 429, error: "slow_down" }, "unavailable"],
    ["invalid_request", { status: 400, error: "invalid_request" }, "rejected"],
    ["invalid_scope", { status: 400, error: "invalid_scope" }, "rejected"],
    ["a 401 without a challenge", { status: 401 }, "rejected"],
    ["an error code it does not know, in a 200 (GitHub's bad_refresh_token)", { status: 200, error: "bad_refresh_token" }, "rejected"],
  ];
  it.each(cases)("%s", (_label, answer, expected) => {
    expect(classifyErrorAnswer(answer)).toBe(expected);
  });

  it("asks a provider's own matchers first, and the table when they pass", () => {
    const github: ErrorMatcher = (answer) => (answer.status === 200 && answer.error === "bad_refresh_token" ? "reauth_required" : undefined);
    expect(classifyErrorAnswer({ status: 200, error: "bad_refresh_token" }, [github])).toBe("reauth_required");
    expect(classifyErrorAnswer({ status: 400, error: "invalid_client" }, [github])).toBe("misconfigured");
  });
});

describe("errorResponse", () => {
  it("answers a catalogued error with its status and {error, message}", async () => {
    const response = errorResponse(new ReauthRequiredError("sign in again"));
    expect(response.status).toBe(409);
    expect(await response.json()).toStrictEqual({ error: "reauth_required", message: "sign in again" });
  });

  it("sends Retry-After in whole seconds, at least 1", async () => {
    const response = errorResponse(new ProviderUnavailableError("down", { retryAfter: new Date(Date.now() + 2_500) }));
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("3");
    expect(errorResponse(new ProviderUnavailableError("down", { retryAfter: new Date(Date.now() - 1) })).headers.get("retry-after")).toBe("1");
  });

  it("tells nothing of an unexpected error", async () => {
    const response = errorResponse(new Error("connection to 10.0.0.5 with password hunter2 failed"));
    expect(response.status).toBe(500);
    expect(await response.json()).toStrictEqual({ error: "internal", message: "Internal error" });
  });

  it("answers 401 unauthorized the one way", async () => {
    const { unauthorized } = await import("@/lib/errors");
    const response = errorResponse(unauthorized());
    expect(response.status).toBe(401);
    expect(await response.json()).toStrictEqual({ error: "unauthorized", message: "Sign in first." });
  });
});

describe("an error from another copy of lib/errors (Next bundles each route on its own)", () => {
  // The Tokenkeeper of a process lives on globalThis, built by whichever route ran
  // first: its engine throws that route's copy of these classes, and another route's
  // errorResponse must still answer them by their code (it answered 500 internal).
  it("is answered by its code and known to instanceof, class by class", async () => {
    // A query makes Vite load the module again as a module of its own, as a second route bundle would.
    const anotherRoute = "@/lib/errors?another-route";
    const copy = (await import(/* @vite-ignore */ anotherRoute)) as typeof import("@/lib/errors");
    const { AppError: OurAppError } = await import("@/lib/errors");
    expect(copy.ReauthRequiredError).not.toBe(ReauthRequiredError);
    const foreign = new copy.ReauthRequiredError("oidc tokens were cleared at sign-out: sign in again");
    const response = errorResponse(foreign);
    expect(response.status).toBe(409);
    expect(await response.json()).toStrictEqual({ error: "reauth_required", message: "oidc tokens were cleared at sign-out: sign in again" });
    expect(foreign instanceof ReauthRequiredError && foreign instanceof OurAppError).toBe(true);
    expect(new copy.AppError("not_found", "x") instanceof ReauthRequiredError).toBe(false);
    expect(new copy.ProviderUnavailableError("x") instanceof ProviderMisconfiguredError).toBe(false);
    expect(new Error("x") instanceof OurAppError).toBe(false);
  });

  it("refuses instanceof for a subclass that declares no kind of its own, which would match every AppError", async () => {
    const { AppError: OurAppError } = await import("@/lib/errors");
    class Unkinded extends OurAppError {}
    expect(() => new OurAppError("not_found", "x") instanceof Unkinded).toThrow(/Unkinded declares no error kind/);
  });
});
