import { describe, expect, it } from "vitest";
import { lifetimeSeconds, MAX_LIFETIME_SECONDS, repairTokenAnswer } from "@/lib/providers/token-answer";

// #18: a 200 answer as providers really send it is repaired, never refused for
// something other than a missing access token.
const base = { access_token: "at", token_type: "Bearer", expires_in: 3600, refresh_token: "rt" };

describe("repairTokenAnswer", () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>, number][] = [
    ["leaves a conformant answer alone", base, base, 0],
    ["assumes bearer when token_type is missing", { ...base, token_type: undefined }, { ...base, token_type: "bearer" }, 1],
    ["assumes bearer for an empty or unknown token_type", { ...base, token_type: "N_A" }, { ...base, token_type: "bearer" }, 1],
    ["reads expires_in sent as a string", { ...base, expires_in: "3599" }, { ...base, expires_in: 3599 }, 1],
    ["drops a zero expires_in (no expiry known)", { ...base, expires_in: 0 }, { ...base, expires_in: undefined }, 1],
    ["drops a negative expires_in", { ...base, expires_in: -30 }, { ...base, expires_in: undefined }, 1],
    ["drops an unreadable expires_in", { ...base, expires_in: "soon" }, { ...base, expires_in: undefined }, 1],
    ["keeps a 20-year expires_in", { ...base, expires_in: 20 * 365 * 86_400 }, { ...base, expires_in: 20 * 365 * 86_400 }, 0],
    ["joins scope sent as an array", { ...base, scope: ["openid", "email"] }, { ...base, scope: "openid email" }, 1],
    ["splits comma-separated scope", { ...base, scope: "repo,user, gist" }, { ...base, scope: "repo user gist" }, 1],
    ["drops a refresh_token that is not a string", { ...base, refresh_token: 42 }, { ...base, refresh_token: undefined }, 1],
  ];
  it.each(cases)("%s", (_label, body, expected, repairs) => {
    const repaired = repairTokenAnswer(JSON.parse(JSON.stringify(body)));
    expect(repaired.json).toStrictEqual(JSON.parse(JSON.stringify(expected)));
    expect(repaired.repairs).toHaveLength(repairs);
    expect(repaired.usable).toBe(true);
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["not a string", { value: "at" }],
  ])("calls an answer whose access_token is %s unusable, keeping its refresh token", (_label, accessToken) => {
    const repaired = repairTokenAnswer({ ...base, access_token: accessToken });
    expect(repaired.usable).toBe(false);
    expect(repaired.json.refresh_token).toBe("rt");
  });

  it("reads refresh_token_expires_in, and never names a token in its repairs", () => {
    const repaired = repairTokenAnswer({ ...base, access_token: "secret-at", token_type: "weird", refresh_token_expires_in: "15897600" });
    expect(repaired.refreshTokenExpiresIn).toBe(15_897_600);
    expect(JSON.stringify(repaired.repairs)).not.toContain("secret-at");
  });
});

describe("lifetimeSeconds", () => {
  it.each([
    [3600, 3600],
    ["3600", 3600],
    [" 59.9 ", 59],
    [0, undefined],
    [-1, undefined],
    [MAX_LIFETIME_SECONDS + 1, undefined],
    [Number.POSITIVE_INFINITY, undefined],
    ["1e9", undefined],
    [null, undefined],
  ])("reads %j as %j", (value, expected) => {
    expect(lifetimeSeconds(value)).toBe(expected);
  });
});
