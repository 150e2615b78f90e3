import { describe, expect, it } from "vitest";
import { accountApiBase, checkApiBase } from "@/lib/providers/api-base";

// An API base named by a token answer is network input: the proxy sends the user's
// bearer there. Only an https origin under the provider's documented domains is taken.

const SALESFORCE = { field: "instance_url", domains: ["salesforce.com"] } as const;

describe("checkApiBase (Salesforce's instance_url)", () => {
  it.each([
    ["https://acme.my.salesforce.com", { url: "https://acme.my.salesforce.com" }],
    ["https://na1.salesforce.com/", { url: "https://na1.salesforce.com" }],
    ["https://Acme--UAT.sandbox.my.salesforce.com:443", { url: "https://acme--uat.sandbox.my.salesforce.com" }],
    ["http://acme.my.salesforce.com", { refused: "instance_url is not https" }],
    ["https://salesforce.com", { refused: "instance_url's host salesforce.com is not under salesforce.com" }],
    ["https://acme.my.salesforce.com.attacker.example", { refused: "instance_url's host acme.my.salesforce.com.attacker.example is not under salesforce.com" }],
    ["https://attackersalesforce.com", { refused: "instance_url's host attackersalesforce.com is not under salesforce.com" }],
    ["https://user:pass@acme.my.salesforce.com", { refused: "instance_url is not a bare origin (credentials, a port, a path, a query or a fragment)" }],
    ["https://acme.my.salesforce.com:8443", { refused: "instance_url is not a bare origin (credentials, a port, a path, a query or a fragment)" }],
    ["https://acme.my.salesforce.com/services/data", { refused: "instance_url is not a bare origin (credentials, a port, a path, a query or a fragment)" }],
    ["https://acme.my.salesforce.com/?next=https://attacker.example", { refused: "instance_url is not a bare origin (credentials, a port, a path, a query or a fragment)" }],
    ["acme.my.salesforce.com", { refused: "instance_url is not a URL" }],
    [42, { refused: "instance_url is not a URL" }],
  ])("%s", (value, expected) => {
    expect(checkApiBase(value, SALESFORCE)).toStrictEqual(expected);
  });
});

describe("accountApiBase", () => {
  const spec = { apiBaseUrl: "https://login.salesforce.com", apiBaseFromAnswer: SALESFORCE };

  it.each([
    ["the account's stored base", spec, "https://acme.my.salesforce.com", "https://acme.my.salesforce.com"],
    ["the provider's base while none is stored", spec, null, "https://login.salesforce.com"],
    ["the provider's base over a stored one that no longer passes", spec, "https://attacker.example", "https://login.salesforce.com"],
    ["the provider's base where it is static, whatever is stored", { apiBaseUrl: "https://api.github.com" }, "https://acme.my.salesforce.com", "https://api.github.com"],
  ])("is %s", (_, provider, stored, expected) => {
    expect(accountApiBase(provider, stored)).toBe(expected);
  });
});
