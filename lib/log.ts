// JSON-lines logger. Redaction lives here, not in callers: any field whose name
// says token, secret, code, cookie or authorization is replaced, at any depth.

const SENSITIVE = /token|secret|password|authorization|cookie|^code$|code_verifier|assertion|key/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, SENSITIVE.test(key) ? "[redacted]" : redact(item, depth + 1)]),
  );
}

type Fields = Record<string, unknown>;

export function logger(name: string) {
  const write = (level: "info" | "warn" | "error", event: string, fields: Fields = {}) => {
    const line = JSON.stringify({ level, time: new Date().toISOString(), logger: name, event, ...(redact(fields) as Fields) });
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else if (process.env.TOKENKEEPER_QUIET !== "1") console.log(line);
  };
  return {
    info: (event: string, fields?: Fields) => write("info", event, fields),
    warn: (event: string, fields?: Fields) => write("warn", event, fields),
    error: (event: string, fields?: Fields) => write("error", event, fields),
  };
}
