// JSON-lines logger. Redaction lives here, not in callers: a field whose name is
// one of the secret-bearing names below is replaced at any depth; everything else,
// error codes included, is kept so a line says why something failed.

// Compared lower-cased with "_" and "-" removed: access_token, accessToken and
// Access-Token are one name.
const SECRET_NAMES = new Set([
  "accesstoken",
  "refreshtoken",
  "idtoken",
  "token",
  "tokens",
  "sessiontoken",
  "clientsecret",
  "secret",
  "secrets",
  "password",
  "authorization",
  "cookie",
  "setcookie",
  "codeverifier",
  "assertion",
  "key",
  "keys",
  "tokenencryptionkeys",
  "plaintext",
  "ciphertext",
]);

const isSecretName = (key: string) => SECRET_NAMES.has(key.toLowerCase().replace(/[_-]/g, ""));

export function redact(value: unknown, depth = 0): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) {
    const { code, status } = value as { code?: unknown; status?: unknown };
    return { name: value.name, message: value.message, code, status, cause: value.cause === undefined ? undefined : redact(value.cause, depth + 1) };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, isSecretName(key) ? "[redacted]" : redact(item, depth + 1)]));
}

type Fields = Record<string, unknown>;
type Level = "info" | "warn" | "error";
const RANK: Record<Level, number> = { info: 0, warn: 1, error: 2 };

/**
 * TOKENKEEPER_LOG_LEVEL: the least severe level written (default info). Read here, on
 * each line, not through lib/env.ts: the edge middleware logs through lib/errors.ts.
 */
function threshold(): number {
  const level = process.env.TOKENKEEPER_LOG_LEVEL as Level | undefined;
  return level && level in RANK ? RANK[level] : 0;
}

export function logger(name: string) {
  const write = (level: Level, event: string, fields: Fields = {}) => {
    if (RANK[level] < threshold()) return;
    const line = JSON.stringify({ level, time: new Date().toISOString(), logger: name, event, ...(redact(fields) as Fields) });
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    info: (event: string, fields?: Fields) => write("info", event, fields),
    warn: (event: string, fields?: Fields) => write("warn", event, fields),
    error: (event: string, fields?: Fields) => write("error", event, fields),
  };
}
