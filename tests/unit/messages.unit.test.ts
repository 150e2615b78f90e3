import { describe, expect, it } from "vitest";
import { apiErrorText, localTime, signInErrorText, signOutConsequence } from "@/app/_components/messages";

// The words a person reads on the dashboard and the sign-in page (#22).
const now = new Date("2026-11-29T18:58:32Z");

describe("signInErrorText", () => {
  it("says a cancelled consent in plain words, never Auth.js's code", () => {
    expect(signInErrorText("OAuthCallbackError")).toBe("Sign-in was cancelled, or the provider did not give permission. Nothing was changed — you can try again.");
    expect(signInErrorText("SomethingNew")).not.toContain("SomethingNew");
  });
});

describe("apiErrorText", () => {
  it("gives a refused refresh's time in the reader's zone, not as ISO", () => {
    const text = apiErrorText({ status: 429, error: "rate_limited", retryAfterSeconds: 30 }, "Google · ada@example.com", now, "en-GB");
    expect(text).toBe(
      `Google · ada@example.com was refreshed moments ago. You can refresh it again at ${new Date("2026-11-29T18:59:02Z").toLocaleTimeString("en-GB", { hour: "numeric", minute: "2-digit", second: "2-digit" })}.`,
    );
    expect(text).not.toMatch(/\d{4}-\d\d-\d\dT/);
  });
  it.each([
    ["reauth_required", 409, "The provider no longer accepts Discord — access was revoked or has expired. Reconnect to continue."],
    ["provider_misconfigured", 502, "The provider refused this site’s own credentials, so Discord can’t be renewed right now. Nothing was lost; the people who run this site need to fix a setting."],
    ["not_found", 404, "Discord is no longer linked. Reload the page to see your accounts."],
    [undefined, 500, "Something went wrong with Discord (error 500). Try again."],
  ])("says %s in a sentence", (error, status, text) => {
    expect(apiErrorText({ status, error }, "Discord", now)).toBe(text);
  });
});

describe("localTime", () => {
  it("shows the date only for another day", () => {
    expect(localTime(new Date(now.getTime() + 5_000), now, "en-GB")).not.toMatch(/2026/);
    expect(localTime(new Date(now.getTime() + 3 * 86_400_000), now, "en-GB")).toMatch(/2026/);
  });
});

describe("signOutConsequence", () => {
  it("says what each TOKENKEEPER_SIGN_OUT mode does to N accounts", () => {
    expect(signOutConsequence("clear", 2)).toBe("Background access stops for your 2 connected accounts: apps can’t act for you until you sign in again.");
    expect(signOutConsequence("keep", 1)).toBe("Your 1 connected account keeps background access: apps go on acting for you. Disconnect an account to stop that.");
    expect(signOutConsequence("keep", 0)).toBe("None of your accounts has background access now, so nothing else changes.");
  });
});
