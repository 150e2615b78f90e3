import { metrics, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";

// Spans and counters, through the global OpenTelemetry API: a no-op until
// instrumentation.ts (or a test) registers a provider. Attributes are ids, counts and
// outcomes only; a token or secret never becomes one.

const NAME = "tokenkeeper";

/** Runs `work` in a span named `name`, recording its outcome; the span ends when work does. */
export async function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer(NAME).startActiveSpan(name, { attributes }, async (span) => {
    try {
      const result = await work(span);
      span.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      span.setAttribute("tokenkeeper.error_code", typeof code === "string" ? code : (error as Error).name);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

// Created on first use, so a provider registered later (a test) is the one used.
let counters: { refreshes: ReturnType<ReturnType<typeof metrics.getMeter>["createCounter"]>; failures: ReturnType<ReturnType<typeof metrics.getMeter>["createCounter"]> } | undefined;

/** Counts one refresh attempt by provider and outcome (refreshed, or the error code). */
export function countRefresh(provider: string, outcome: string): void {
  counters ??= {
    refreshes: metrics.getMeter(NAME).createCounter("tokenkeeper.refreshes", { description: "Refresh attempts, by provider and outcome" }),
    failures: metrics.getMeter(NAME).createCounter("tokenkeeper.refresh.failures", { description: "Failed refreshes, by provider and outcome" }),
  };
  counters.refreshes.add(1, { "tokenkeeper.provider": provider, "tokenkeeper.outcome": outcome });
  if (outcome !== "refreshed") counters.failures.add(1, { "tokenkeeper.provider": provider, "tokenkeeper.outcome": outcome });
}
