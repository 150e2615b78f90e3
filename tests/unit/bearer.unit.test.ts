import { describe, expect, it } from "vitest";
import { hasBearer } from "@/lib/bearer";

describe("hasBearer", () => {
  const secret = "s3cret-s3cret-s3cret";
  it("accepts exactly the bearer secret", () => expect(hasBearer(`Bearer ${secret}`, secret)).toBe(true));
  it("refuses a missing, empty or wrong header", () => {
    expect(hasBearer(null, secret)).toBe(false);
    expect(hasBearer("", secret)).toBe(false);
    expect(hasBearer("Bearer ", secret)).toBe(false);
    expect(hasBearer(secret, secret)).toBe(false);
  });
  it("refuses a secret that differs only in its last byte", () => {
    expect(hasBearer(`Bearer ${secret.slice(0, -1)}X`, secret)).toBe(false);
  });
});
