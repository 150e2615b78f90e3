// The local stand-in for Vercel Cron: `npm start`, `npm run dev` and `npm run
// vercel-dev` run the `crons` of vercel.json against the local app, because nothing
// else does locally (`vercel dev` never runs them for a Next.js app). Each path is
// called as Vercel calls it (https://vercel.com/docs/cron-jobs/manage-cron-jobs):
// GET, `Authorization: Bearer $CRON_SECRET` when that is set, `user-agent:
// vercel-cron/1.0`, schedules in UTC.
import { readFileSync } from "node:fs";
import { Cron } from "croner";
import { z } from "zod";
import { configError } from "../lib/errors";
import { logger } from "../lib/log";

const log = logger("cron-runner");

export type CronJob = { path: string; schedule: string };

// Vercel accepts five fields of numbers, `*`, `,`, `-` and `/` only: no names (MON,
// JAN), no `L`/`W`/`#`/`?`, no seconds, and not both a day of the month and a day of
// the week. Refusing the rest here keeps local schedules to what a deployment accepts.
const FIELD = /^[0-9*,/-]+$/;

function checkSchedule(schedule: string): void {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5 || !fields.every((field) => FIELD.test(field))) {
    throw configError(`vercel.json: cron schedule "${schedule}" is not five fields of numbers, "*", ",", "-" and "/" (what Vercel accepts).`);
  }
  if (fields[2] !== "*" && fields[4] !== "*") {
    throw configError(`vercel.json: cron schedule "${schedule}" sets both a day of the month and a day of the week, which Vercel refuses.`);
  }
}

/**
 * A croner job for `schedule`, in UTC as on Vercel; paused unless `run` is given, and
 * `blocked` called for a tick skipped while `run` is still going. Throws `config` for
 * a schedule Vercel would refuse.
 */
function cron(schedule: string, run?: () => Promise<void>, blocked?: () => void): Cron {
  checkSchedule(schedule);
  const options = { timezone: "UTC", mode: "5-part" } as const;
  try {
    return run ? new Cron(schedule, { ...options, protect: blocked ?? true }, run) : new Cron(schedule, { ...options, paused: true });
  } catch (error) {
    // croner's own words for what it cannot read, e.g. a minute of 60
    throw configError(`vercel.json: cron schedule "${schedule}": ${(error as Error).message}`, { cause: error });
  }
}

/** Whether `schedule` fires in the minute of `at` (UTC). Throws `config` for a schedule Vercel would refuse. */
export function firesAt(schedule: string, at: Date): boolean {
  const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
  return cron(schedule).match(minute);
}

const VercelJson = z.object({
  crons: z.array(z.object({ path: z.string().startsWith("/"), schedule: z.string() })).default([]),
});

/** The `crons` of a vercel.json file. Throws `config` when the file does not parse or a schedule is one Vercel refuses. */
export function readCrons(vercelJsonPath: string): CronJob[] {
  const parsed = VercelJson.safeParse(JSON.parse(readFileSync(vercelJsonPath, "utf8")));
  if (!parsed.success) throw configError(`vercel.json: "crons" must be a list of {path: "/…", schedule}: ${parsed.error.issues[0]?.message}`);
  for (const job of parsed.data.crons) checkSchedule(job.schedule);
  return parsed.data.crons;
}

/** TOKENKEEPER_LOCAL_CRON: `on` (default) or `off`. Throws `config` for anything else. */
export function localCronEnabled(env: Record<string, string | undefined>): boolean {
  const value = env.TOKENKEEPER_LOCAL_CRON ?? "on";
  if (value !== "on" && value !== "off") throw configError(`TOKENKEEPER_LOCAL_CRON must be "on" or "off", not "${value}".`);
  return value === "on";
}

export type CronRunnerOptions = {
  /** The app's outer address, e.g. http://localhost:3000. */
  baseUrl: string;
  cronSecret?: string;
  jobs: CronJob[];
  /** A run still going after this long is abandoned (ms; default 300 000, Vercel's default function limit). */
  timeoutMs?: number;
};

export type CronRunner = { stop(): void };

/**
 * Starts one croner job per cron. A tick that comes while the previous run of the
 * same path is still going is skipped (croner's `protect`), as overlapping runs of a
 * sweep only compete for the same rows. Each run is one JSON log line: `cron.run`
 * `{path, status, ms, answer}` or `cron.failed` `{path, ms, error}`.
 */
export function startCronRunner(options: CronRunnerOptions): CronRunner {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const aborts = new AbortController();
  const headers: Record<string, string> = { "user-agent": "vercel-cron/1.0" };
  if (options.cronSecret) headers.authorization = `Bearer ${options.cronSecret}`;

  const call = async (path: string) => {
    const started = Date.now();
    try {
      const response = await fetch(new URL(path, options.baseUrl), { headers, signal: AbortSignal.any([aborts.signal, AbortSignal.timeout(timeoutMs)]) });
      const text = await response.text();
      let answer: unknown = text.slice(0, 200);
      try {
        answer = JSON.parse(text);
      } catch {
        // not JSON: the start of the body says what answered
      }
      log.info("cron.run", { path, status: response.status, ms: Date.now() - started, answer });
    } catch (error) {
      if (aborts.signal.aborted) return;
      log.warn("cron.failed", { path, ms: Date.now() - started, error });
    }
  };

  const jobs = options.jobs.map(({ path, schedule }) =>
    cron(
      schedule,
      () => call(path),
      () => log.info("cron.skipped", { path, reason: "previous run still going" }),
    ),
  );
  log.info("cron.started", { baseUrl: options.baseUrl, jobs: options.jobs });
  return {
    stop() {
      for (const job of jobs) job.stop();
      aborts.abort();
    },
  };
}
