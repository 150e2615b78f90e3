import * as o from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { errorResponse, ProviderUnavailableError, ReauthRequiredError, TokenError } from "@/lib/errors";
import { providerSpecs } from "@/lib/providers";
import { classifyProviderError, RETRY_AFTER_CAP_MS } from "@/lib/providers/requests";

const spec = providerSpecs({ AUTH_OIDC_ISSUER: "https://login.example.com", AUTH_OIDC_ID: "id", AUTH_OIDC_SECRET: "secret" }).get("oidc")!;
const as: o.AuthorizationServer = { issuer: "https://login.example.com", token_endpoint: "https://login.example.com/token" };
const now = new Date("2026-01-01T00:00:00Z");

/** What oauth4webapi itself throws for this token-endpoint answer, classified. */
async function classify(status: number, body: string | object, headers: Record<string, string> = {}): Promise<TokenError> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const response = new Response(text, { status, headers: { "content-type": typeof body === "string" ? "text/html" : "application/json", ...headers } });
  const error = await o.processRefreshTokenResponse(as, { client_id: "id" }, response).then(() => undefined, (e: unknown) => e);
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

  it("keeps other 4xx answers as provider_rejected, not as a reason to back off", async () => {
    expect(await classify(400, { error: "invalid_client" })).toMatchObject({ code: "provider_rejected", providerStatus: 400 });
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
