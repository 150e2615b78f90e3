import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firesAt, localCronEnabled, readCrons } from "@/dev/cron-runner";

// Schedules are UTC on Vercel whatever the machine's zone: run these in a zone that is
// not UTC, so a schedule read in local time would fail them.
const zone = process.env.TZ;
beforeAll(() => {
  process.env.TZ = "America/New_York";
});
afterAll(() => {
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
});

const utc = (iso: string) => new Date(`${iso}Z`);

describe("firesAt: which minutes (UTC) a vercel.json schedule fires in", () => {
  it.each([
    ["*/10 * * * *", "2026-11-30T12:00:00", true],
    ["*/10 * * * *", "2026-11-30T12:10:59", true], // any second of the minute
    ["*/10 * * * *", "2026-11-30T12:05:00", false],
    ["* * * * *", "2026-11-30T23:59:00", true],
    ["0 5 * * *", "2026-11-30T05:00:00", true],
    ["0 5 * * *", "2026-11-30T10:00:00", false], // 05:00 in New York
    ["0 5 * * *", "2026-11-30T05:01:00", false],
    ["15,45 * * * *", "2026-11-30T07:45:00", true],
    ["15,45 * * * *", "2026-11-30T07:30:00", false],
    ["0 */6 * * *", "2026-11-30T18:00:00", true],
    ["0 */6 * * *", "2026-11-30T19:00:00", false],
    ["30 2 * * 1-5", "2026-11-30T02:30:00", true], // a Monday
    ["30 2 * * 1-5", "2026-11-29T02:30:00", false], // a Sunday
    ["0 9 * * 0", "2026-11-29T09:00:00", true],
    ["0 0 1 * *", "2026-12-01T00:00:00", true],
    ["0 0 1 * *", "2026-11-30T00:00:00", false],
    ["0 0 1 1 *", "2027-01-01T00:00:00", true],
    ["0 0 1 1 *", "2026-12-31T19:00:00", false], // midnight of New Year in New York
  ])("%s at %s: %s", (schedule, at, fires) => {
    expect(firesAt(schedule, utc(at))).toBe(fires);
  });

  it.each([
    ["a day name", "0 5 * * MON", "not five fields of numbers"],
    ["a month name", "0 0 1 JAN *", "not five fields of numbers"],
    ["seconds", "0 */10 * * * *", "not five fields of numbers"],
    ["a shortcut", "@daily", "not five fields of numbers"],
    ["the last day of the month", "0 0 L * *", "not five fields of numbers"],
    ["both a day of the month and of the week", "0 0 1 * 1", "both a day of the month and a day of the week"],
    ["a minute of 60", "60 * * * *", 'cron schedule "60 * * * *"'],
  ])("refuses %s, as Vercel does", (_label, schedule, message) => {
    expect(() => firesAt(schedule, new Date())).toThrow(expect.objectContaining({ code: "config", message: expect.stringContaining(message) }));
  });
});

describe("readCrons", () => {
  it("reads this app's vercel.json: the sweep every 10 minutes, webhook retries every minute", () => {
    expect(readCrons(join(import.meta.dirname, "..", "..", "vercel.json"))).toStrictEqual([
      { path: "/api/cron/refresh-tokens", schedule: "*/10 * * * *" },
      { path: "/api/cron/webhooks", schedule: "* * * * *" },
    ]);
  });
});

describe("TOKENKEEPER_LOCAL_CRON", () => {
  it.each([
    [undefined, true],
    ["on", true],
    ["off", false],
  ])("%s: runner on = %s", (value, on) => {
    expect(localCronEnabled({ TOKENKEEPER_LOCAL_CRON: value })).toBe(on);
  });

  it("refuses any other value, naming the two it takes", () => {
    expect(() => localCronEnabled({ TOKENKEEPER_LOCAL_CRON: "false" })).toThrow('TOKENKEEPER_LOCAL_CRON must be "on" or "off", not "false".');
  });
});
