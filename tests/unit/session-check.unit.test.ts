import { readFileSync } from "node:fs";
import { decode, encode } from "next-auth/jwt";
import { describe, expect, it } from "vitest";
import { checkSession } from "@/lib/session-check";

// The lean check opens a cookie once per isolate (#23); what depends on the clock or
// on the secrets is decided again on every request, as Auth.js's decode would.
const SECRET = "unit-session-secret-0123456789abcdef";
const OTHER = "another-session-secret-0123456789ab";
const NAME = "authjs.session-token";
const request = (cookie: string) => new Request("http://localhost:3000/dashboard", { headers: { cookie: `${NAME}=${cookie}` } });

describe("checkSession on a cookie it has opened before", () => {
  it("still refuses it once it expired (15 s tolerance, as Auth.js), and accepts it again at an earlier clock", async () => {
    const cookie = await encode({ token: { sub: "u1" }, secret: SECRET, salt: NAME, maxAge: 3600 });
    // The clock of the cookie's own second (exp − maxAge), not Date.now() after encode():
    // a second boundary between the two made the 14 s check land at 15 s.
    const { exp } = (await decode({ token: cookie, secret: SECRET, salt: NAME }))!;
    const now = (exp! - 3600) * 1000;
    expect((await checkSession(request(cookie), [SECRET], now)).signedIn).toBe(true);
    expect((await checkSession(request(cookie), [SECRET], now + 3600_000 + 14_000)).signedIn).toBe(true);
    expect((await checkSession(request(cookie), [SECRET], now + 3600_000 + 16_000)).signedIn).toBe(false);
    expect((await checkSession(request(cookie), [SECRET], now)).signedIn).toBe(true);
  });

  it("refuses it under secrets that do not open it, and re-seals it when only an older secret does", async () => {
    const cookie = await encode({ token: { sub: "u1" }, secret: SECRET, salt: NAME, maxAge: 3600 });
    expect((await checkSession(request(cookie), [SECRET])).signedIn).toBe(true);
    expect((await checkSession(request(cookie), [OTHER])).signedIn).toBe(false);
    const rotated = await checkSession(request(cookie), [OTHER, SECRET]);
    expect(rotated.signedIn).toBe(true);
    expect(rotated.renewal).toMatch(new RegExp(`^${NAME}=`));
    expect((await checkSession(request(cookie), [SECRET])).renewal).toBeUndefined();
  });
});

describe("the cookie format this decoder owns (#17)", () => {
  it("belongs to one exact next-auth version: an upgrade is a deliberate change the workerd suite checks", () => {
    const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { dependencies: Record<string, string> };
    expect(manifest.dependencies["next-auth"]).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
  });
});
