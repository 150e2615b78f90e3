import { describe, expect, it } from "vitest";
import { providerSpecs } from "@/lib/providers";
import { configuredProviders } from "@/lib/providers/registry";

const ALL = {
  AUTH_GOOGLE_ID: "g-id",
  AUTH_GOOGLE_SECRET: "g-secret",
  AUTH_DISCORD_ID: "d-id",
  AUTH_DISCORD_SECRET: "d-secret",
  AUTH_OIDC_ISSUER: "https://login.example.com/realm",
  AUTH_OIDC_ID: "o-id",
  AUTH_OIDC_SECRET: "o-secret",
};

const authjsId = (provider: ReturnType<typeof configuredProviders>[number]["authjs"]) => (typeof provider === "function" ? provider() : provider).id;

describe("the provider registry", () => {
  it.each([
    ["every provider", ALL, ["google", "discord", "oidc"]],
    ["none", {}, []],
    ["Google without its secret", { ...ALL, AUTH_GOOGLE_SECRET: "" }, ["discord", "oidc"]],
    ["OIDC without an issuer", { ...ALL, AUTH_OIDC_ISSUER: undefined }, ["google", "discord"]],
    ["OIDC with an issuer that is no URL", { ...ALL, AUTH_OIDC_ISSUER: "login.example.com" }, ["google", "discord"]],
  ])("gives Auth.js and the refresh engine the same providers: %s", (_label, env, ids) => {
    const configured = configuredProviders(env);
    // The Auth.js id is the callback path and Account.provider; the engine looks specs up by it.
    expect(configured.map((provider) => authjsId(provider.authjs))).toStrictEqual(ids);
    expect([...providerSpecs(env).keys()]).toStrictEqual(ids);
  });

  it("asks Google for offline access on the consent screen, and OIDC for offline_access", () => {
    const [google, , oidc] = configuredProviders(ALL);
    const params = (provider: typeof google) => {
      type Params = { authorization?: { params?: Record<string, string> } };
      // Auth.js's built-in providers keep the app's options apart until it merges them.
      const config = (typeof provider!.authjs === "function" ? provider!.authjs() : provider!.authjs) as Params & { options?: Params };
      return (config.options ?? config).authorization?.params;
    };
    expect(params(google)).toMatchObject({ access_type: "offline", prompt: "consent" });
    expect(params(oidc)?.scope).toContain("offline_access");
  });

  it("names each provider's API base, the OIDC one overridable", () => {
    expect(Object.fromEntries([...providerSpecs(ALL)].map(([id, spec]) => [id, spec.apiBaseUrl]))).toStrictEqual({
      google: "https://www.googleapis.com",
      discord: "https://discord.com/api",
      oidc: "https://login.example.com",
    });
    expect(providerSpecs({ ...ALL, AUTH_OIDC_API_BASE_URL: "https://api.example.com/v2" }).get("oidc")!.apiBaseUrl).toBe("https://api.example.com/v2");
  });

  it("allows plain http only for a loopback issuer", () => {
    expect(providerSpecs({ ...ALL, AUTH_OIDC_ISSUER: "http://127.0.0.1:3001" }).get("oidc")!.allowHttp).toBe(true);
    expect(providerSpecs({ ...ALL, AUTH_OIDC_ISSUER: "http://login.example.com" }).get("oidc")!.allowHttp).toBe(false);
  });
});
