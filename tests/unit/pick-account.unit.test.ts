import { describe, expect, it } from "vitest";
import { parseAccountRef, pickAccount, type AccountRef } from "@/lib/tokens/pick-account";

const rows = [
  { id: "c-google-work", provider: "google" },
  { id: "c-google-home", provider: "google" },
  { id: "c-discord", provider: "discord" },
];

describe("parseAccountRef", () => {
  const providers = new Set(["google", "discord", "oidc"]);
  it.each([
    ["google", { provider: "google" }],
    ["c-google-work", { accountId: "c-google-work" }],
    ["ckzq1x2y3000008l4c0a1b2c3", { accountId: "ckzq1x2y3000008l4c0a1b2c3" }],
  ])("reads %s", (segment, expected) => {
    expect(parseAccountRef(segment, providers)).toStrictEqual(expected);
  });
  it.each([[""], ["../x"], ["a b"], ["x".repeat(65)], ["%2e%2e"]])("answers 400 for %j", (segment) => {
    expect(() => parseAccountRef(segment, providers)).toThrow(expect.objectContaining({ code: "invalid_request" }));
  });
});

describe("pickAccount", () => {
  const cases: [string, AccountRef & { provider?: string }, string | { code: string; details?: unknown }][] = [
    ["names an account by its id", { accountId: "c-google-home" }, "c-google-home"],
    ["names the one account at a provider by the provider", { provider: "discord" }, "c-discord"],
    ["refuses a provider id where the user has two accounts, listing them", { provider: "google" }, { code: "ambiguous_account", details: { accounts: ["c-google-work", "c-google-home"] } }],
    ["does not know another user's account id", { accountId: "someone-elses" }, { code: "not_found" }],
    ["does not find a provider with no account", { provider: "oidc" }, { code: "not_found" }],
    ["takes an id only at the provider it is asked for", { accountId: "c-discord", provider: "google" }, { code: "not_found" }],
    ["takes an id at its own provider", { accountId: "c-google-work", provider: "google" }, "c-google-work"],
  ];
  it.each(cases)("%s", (_label, ref, expected) => {
    if (typeof expected === "string") expect(pickAccount(rows, ref).id).toBe(expected);
    else expect(() => pickAccount(rows, ref)).toThrow(expect.objectContaining(expected));
  });
});
