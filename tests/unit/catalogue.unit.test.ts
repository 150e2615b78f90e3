import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env";
import { classifyErrorAnswer } from "@/lib/providers/error-classes";
import { CATALOGUE } from "@/lib/providers/catalogue";
import { configure, envNames } from "@/lib/providers/descriptor";
import { configuredProviders, DESCRIPTORS } from "@/lib/providers/registry";
import { grantCapNote } from "@/lib/providers/grant-cap";
import { GENERIC_STAND_INS, SALESFORCE, STAND_INS } from "../support/stand-in/providers";

// The catalogue as one table: every entry, checked for what makes it usable.

const BASE = { DATABASE_URL: "postgresql://u@db.example.com/x", AUTH_SECRET: "s".repeat(32), TOKEN_ENCRYPTION_KEYS: "k" };
const credentialsFor = (id: string, issuer = "https://login.example.com/tenant/v2.0") => {
  const names = envNames(id);
  return { [names.id]: `${id}-id`, [names.secret]: `${id}-secret`, [names.issuer]: issuer };
};

type AuthjsConfig = { id: string; authorization?: string | { url?: string; params?: Record<string, unknown> }; options?: { authorization?: string | { params?: Record<string, unknown> } } };
/** The authorization parameters Auth.js will send: the provider's, then the app's options over them. */
function authorizationParams(config: AuthjsConfig): Record<string, string> {
  const params: Record<string, string> = {};
  for (const authorization of [config.authorization, config.options?.authorization]) {
    if (typeof authorization === "string") for (const [name, value] of new URL(authorization).searchParams) params[name] = value;
    else for (const [name, value] of Object.entries(authorization?.params ?? {})) params[name] = String(value);
  }
  return params;
}

describe.each(CATALOGUE.map((descriptor) => [descriptor.id, descriptor] as const))("the catalogue entry %s", (id, descriptor) => {
  const configured = configure(descriptor, credentialsFor(id))!;
  const authjs = (typeof configured.authjs === "function" ? configured.authjs() : configured.authjs) as AuthjsConfig;

  it("is enabled by Auth.js's own variables, under Auth.js's id (the callback path)", () => {
    expect(authjs.id).toBe(id);
    expect(configure(descriptor, {})).toBeUndefined();
    expect(configure(descriptor, { [envNames(id).id]: "only-the-id" })).toBeUndefined();
  });

  it("asks Auth.js for the parameters without which the provider issues no refresh token", () => {
    expect(authorizationParams(authjs)).toMatchObject(descriptor.offlineParams);
  });

  it("cites where the provider documents its behaviour, and names an https API base", () => {
    expect(new URL(descriptor.docs).protocol).toBe("https:");
    expect(new URL(configured.spec.apiBaseUrl).protocol).toBe("https:");
  });

  it("keeps its variables through the validated environment (no provider is dropped by the schema)", () => {
    const parsed = parseEnv({ ...BASE, ...credentialsFor(id) }) as unknown as Record<string, string>;
    expect(configuredProviders(parsed).map((provider) => provider.id)).toContain(id);
  });
});

describe.each([...STAND_INS, ...GENERIC_STAND_INS, SALESFORCE].map((config) => [config.id, config] as const))("the %s stand-in's refusal", (id, standIn) => {
  it("reads as reauth_required through the entry's error matchers", () => {
    const spec = configure(DESCRIPTORS.find((descriptor) => descriptor.id === id)!, credentialsFor(id))!.spec;
    const { status, body } = standIn.refused;
    const error = (body as { error?: unknown }).error;
    expect(classifyErrorAnswer({ status, error: typeof error === "string" ? error : undefined, body }, spec.errorMatchers)).toBe("reauth_required");
  });
});

describe("the catalogue", () => {
  it("has one entry per id, and a stand-in for every entry but the generic OIDC one (run by the dev provider)", () => {
    const ids = CATALOGUE.map((descriptor) => descriptor.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set([...STAND_INS, SALESFORCE].map((config) => config.id))).toStrictEqual(new Set(ids.filter((id) => id !== "oidc")));
  });

  it("is the README's provider table: every entry with its id and variables, and each grant cap named", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const table = readme.slice(readme.indexOf("## Providers"), readme.indexOf("### Adding a provider"));
    for (const descriptor of CATALOGUE) {
      const row = table.split("\n").find((line) => line.includes(`(\`${descriptor.id}\`)`));
      expect(row, descriptor.id).toBeDefined();
      expect(row).toContain(envNames(descriptor.id).id);
      if (descriptor.liveGrantCap) expect(row).toMatch(/live grants? per user/);
    }
  });

  it("derives the variable names as Auth.js does", () => {
    expect(envNames("microsoft-entra-id")).toStrictEqual({ id: "AUTH_MICROSOFT_ENTRA_ID_ID", secret: "AUTH_MICROSOFT_ENTRA_ID_SECRET", issuer: "AUTH_MICROSOFT_ENTRA_ID_ISSUER" });
  });
});

describe("what another consent costs where a provider caps live grants", () => {
  it.each([
    ["zoom", "Zoom keeps one grant per user for this app: a consent anywhere else with this app's credentials (another deployment or tool) ends this one, which then needs a new sign-in."],
    [
      "salesforce",
      "Salesforce keeps at most 5 grants per user for this app: a consent beyond that, here or anywhere else with this app's credentials, ends the oldest, which then needs a new sign-in.",
    ],
    ["github", null],
  ])("%s", (id, note) => {
    const provider = configure(CATALOGUE.find((descriptor) => descriptor.id === id)!, credentialsFor(id))!;
    expect(grantCapNote(provider.name, provider.spec.liveGrantCap)).toBe(note);
  });
});

describe("any other Auth.js OAuth provider", () => {
  const enabled = (env: Record<string, string>) => configuredProviders(env).find((provider) => provider.id === Object.keys(env)[0]!.slice(5, -3).toLowerCase().replace(/_/g, "-"));

  it("is enabled by its Auth.js variables, marked generic, with Auth.js's token endpoint and client authentication", async () => {
    const gitlab = enabled({ AUTH_GITLAB_ID: "gitlab-id", AUTH_GITLAB_SECRET: "gitlab-secret" })!;
    expect(gitlab).toMatchObject({ id: "gitlab", name: "GitLab", generic: true, spec: { clientAuth: "basic", apiBaseUrl: "https://gitlab.com", rotation: { mode: "strict" } } });
    expect(await gitlab.spec.authorizationServer()).toMatchObject({
      issuer: "https://gitlab.com",
      token_endpoint: "https://gitlab.com/oauth/token",
      userinfo_endpoint: "https://gitlab.com/api/v4/user",
    });
    // A module that says client_secret_post is taken at its word.
    expect(enabled(credentialsFor("mattermost", "https://chat.example.com"))?.spec.clientAuth).toBe("post");
  });

  it("discovers an OpenID Connect provider from its AUTH_<ID>_ISSUER", () => {
    const keycloak = enabled(credentialsFor("keycloak", "https://sso.example.com/realms/acme"))!;
    expect(keycloak).toMatchObject({ generic: true, spec: { apiBaseUrl: "https://sso.example.com" } });
  });

  it("is not generic where the catalogue has an entry", () => {
    expect(DESCRIPTORS.filter((descriptor) => descriptor.id === "github").map((descriptor) => descriptor.generic ?? false)).toStrictEqual([false]);
    expect(new Set(DESCRIPTORS.map((descriptor) => descriptor.id)).size).toBe(DESCRIPTORS.length);
  });
});
