import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";

// Next.js names and tags its request spans with the full URL (`http.target`), and
// @vercel/otel's fetch instrumentation does the same for every outgoing call (the span
// name and `http.url`). The Auth.js callback's URL carries the authorization code and
// state, and a proxy call's URL carries whatever query the user sent the provider. So
// no URL in a span keeps its query or fragment: this processor cuts them from the span
// name and every string attribute before any exporter sees the span (exporters run
// after it, on the same object, as @vercel/otel's own processor amends attributes).

// An absolute URL, or a path at the start of a value or after a space, up to its query.
const URL_WITH_QUERY = /((?:[a-z][a-z0-9+.-]*:\/\/|(?:^|(?<=\s))\/)[^\s?#]*)[?#]\S*/gi;

/** `value` with the query and fragment of every URL or path in it removed. */
export function withoutQueries(value: string): string {
  return value.replace(URL_WITH_QUERY, "$1");
}

// Attributes that hold nothing but a query.
const QUERY_ATTRIBUTES = new Set(["url.query", "http.query"]);

export class QueryRedactingSpanProcessor implements SpanProcessor {
  onStart(_span: Span, _context: Context): void {}

  onEnd(span: ReadableSpan): void {
    const mutable = span as { name: string; attributes: Record<string, unknown> };
    mutable.name = withoutQueries(span.name);
    for (const [key, value] of Object.entries(span.attributes)) {
      if (QUERY_ATTRIBUTES.has(key)) delete mutable.attributes[key];
      else if (typeof value === "string") mutable.attributes[key] = withoutQueries(value);
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
