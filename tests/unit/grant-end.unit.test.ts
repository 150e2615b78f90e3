import { describe, expect, it } from "vitest";
import { grantEndAfterRefresh, reauthWarning, refreshTokenExpiryAfterRefresh, type GrantEndBefore } from "@/lib/tokens/grant-end";

const now = new Date("2026-06-01T00:00:00Z");
const hours = (h: number) => new Date(now.getTime() + h * 3_600_000);
const days = (d: number) => hours(d * 24);
const none: GrantEndBefore = { refreshTokenExpiresAt: null, refreshedAt: null, reauthBy: null, reauthWarnedAt: null };

describe("grantEndAfterRefresh", () => {
  const cases: [string, GrantEndBefore, Date | null, Date | null][] = [
    ["knows no end when the provider says nothing", { ...none, refreshedAt: hours(-1) }, null, null],
    ["waits for a second refresh to tell sliding from absolute", none, days(90), null],
    ["sees a sliding lifetime in an expiry that moved as far as time did", { ...none, refreshTokenExpiresAt: days(89), refreshedAt: days(-1) }, days(90), null],
    ["sees an absolute lifetime in an expiry that stayed put", { ...none, refreshTokenExpiresAt: days(30), refreshedAt: hours(-1) }, days(30), days(30)],
    [
      "keeps what it knew when refreshed again within a minute (seconds cannot tell)",
      { ...none, refreshTokenExpiresAt: days(30), refreshedAt: new Date(now.getTime() - 5_000), reauthBy: null },
      days(30),
      null,
    ],
    [
      "keeps the end it knew within the tolerance, so the warning is sent once",
      { ...none, refreshTokenExpiresAt: days(30), refreshedAt: hours(-1), reauthBy: new Date(days(30).getTime() - 2000) },
      days(30),
      new Date(days(30).getTime() - 2000),
    ],
  ];
  it.each(cases)("%s", (_label, before, next, expected) => {
    expect(grantEndAfterRefresh(before, next, now)).toStrictEqual(expected);
  });
});

describe("reauthWarning (account.reauth_upcoming, once per grant end)", () => {
  it("is due the given number of days before the end", () => {
    expect(reauthWarning(days(10), none, 7, now)).toStrictEqual({ reauthWarnedAt: null, warn: false, dueAt: days(3) });
    expect(reauthWarning(days(7), none, 7, now)).toStrictEqual({ reauthWarnedAt: now, warn: true, dueAt: null });
  });
  it("is not sent twice for the same end, and again for a new one", () => {
    expect(reauthWarning(days(5), { reauthBy: days(5), reauthWarnedAt: days(-2) }, 7, now)).toStrictEqual({ reauthWarnedAt: days(-2), warn: false, dueAt: null });
    expect(reauthWarning(days(6), { reauthBy: days(5), reauthWarnedAt: days(-2) }, 7, now)).toStrictEqual({ reauthWarnedAt: now, warn: true, dueAt: null });
  });
  it("is nothing without an end", () => {
    expect(reauthWarning(null, { reauthBy: days(5), reauthWarnedAt: days(-2) }, 7, now)).toStrictEqual({ reauthWarnedAt: null, warn: false, dueAt: null });
  });
});

describe("refreshTokenExpiryAfterRefresh (the provider's documented refresh-token lifetime)", () => {
  const now = new Date("2026-06-01T00:00:00Z");
  const day = 86_400_000;
  const signedIn = new Date("2026-05-01T00:00:00Z");
  const at = (base: Date, days: number) => new Date(base.getTime() + days * day);
  it.each([
    ["the answer said: it wins", { kind: "idle", days: 90 } as const, at(now, 30), true, { refreshTokenExpiresAt: null, refreshedAt: signedIn }, { refreshTokenExpiresAt: at(now, 30) }],
    ["idle: restarts from now", { kind: "idle", days: 90 } as const, null, false, { refreshTokenExpiresAt: at(signedIn, 90), refreshedAt: signedIn }, { refreshTokenExpiresAt: at(now, 90) }],
    [
      "absolute, first refresh after the consent: from the sign-in",
      { kind: "absolute", days: 180 } as const,
      null,
      true,
      { refreshTokenExpiresAt: null, refreshedAt: signedIn },
      { refreshTokenExpiresAt: at(signedIn, 180), reauthBy: at(signedIn, 180) },
    ],
    [
      "absolute, later (rotated): the stored end stands",
      { kind: "absolute", days: 180 } as const,
      null,
      true,
      { refreshTokenExpiresAt: at(signedIn, 180), refreshedAt: now },
      { refreshTokenExpiresAt: at(signedIn, 180), reauthBy: at(signedIn, 180) },
    ],
    ["unknown, rotated: nothing known", undefined, null, true, { refreshTokenExpiresAt: at(now, 5), refreshedAt: signedIn }, { refreshTokenExpiresAt: null }],
    ["unknown, kept: the stored expiry holds", undefined, null, false, { refreshTokenExpiresAt: at(now, 5), refreshedAt: signedIn }, { refreshTokenExpiresAt: at(now, 5) }],
  ])("%s", (_label, lifetime, said, rotated, before, expected) => {
    expect(refreshTokenExpiryAfterRefresh(lifetime, said, rotated, before, now)).toStrictEqual(expected);
  });
});
