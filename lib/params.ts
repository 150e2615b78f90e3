import { z } from "zod";
import { invalidRequest } from "./errors";

// Request parameters (query strings, path segments, JSON bodies) checked by zod, with
// one kind of answer for all of them: 400 invalid_request naming the parameter (the
// code RFC 6749 §5.2 and RFC 6750 §3.1 give a malformed request). Edge-safe, no I/O.

/**
 * A whole number in [min, max] written as plain decimal digits: a query string's
 * "" is not 0, nor "0x10" 16, nor "1e3" 1000, nor " 5" 5 (what Number() and
 * z.coerce would make of them). A JSON number that is a whole number is taken as is.
 * Its JSON Schema is `{type: "integer", minimum, maximum}`.
 */
export function decimalInteger(min: number, max: number) {
  const message = `must be a whole number from ${min} to ${max}, in plain decimal digits`;
  return z.preprocess((value) => (typeof value === "string" && /^\d{1,15}$/.test(value) ? Number(value) : value), z.int({ error: message }).min(min).max(max));
}

/**
 * Parses `input` with `schema`, or throws invalid_request naming the first bad
 * parameter: "query parameter minTtl: must be …", "unknown query parameter: other".
 * `where`: what the parameters are (query, path, body).
 */
export function parseParams<T extends z.ZodType>(schema: T, input: unknown, where: "query" | "path" | "body"): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === "unrecognized_keys") throw invalidRequest(`unknown ${where} parameter: ${issue.keys.join(", ")}`);
  const name = issue.path.map(String).join(".");
  throw invalidRequest(name ? `${where} parameter ${name}: ${issue.message}` : `${where}: ${issue.message}`);
}
