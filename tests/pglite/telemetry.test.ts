import { context, metrics, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { FetchInstrumentation } from "@vercel/otel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenFetch } from "@/lib/provider-proxy";
import { QueryRedactingSpanProcessor, withoutQueries } from "@/lib/span-redaction";
import { decryptToken, parseKeyring } from "@/lib/tokens/crypto";
import { epochNow, issueTokens, seedAccount } from "../../testkit/grants";
import { engineFor, startTestStack, sweepOnce, type TestStack } from "../../testkit/stack";

// Spans and counters (#13), read from in-memory exporters around the real engine,
// the dev provider and a real database.
const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
let stack: TestStack;
const issued = new Set<string>();

beforeAll(async () => {
  // As @vercel/otel sets it up: a context that follows async calls, so spans nest.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  // As instrumentation.ts registers it: the redaction first, then the exporter; and
  // @vercel/otel's own fetch instrumentation, which names spans by the full URL.
  const provider = new BasicTracerProvider({ spanProcessors: [new QueryRedactingSpanProcessor(), new SimpleSpanProcessor(spans)] });
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({ instrumentations: [new FetchInstrumentation()], tracerProvider: provider });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  stack = await startTestStack("pglite");
});
afterAll(() => stack?.stop());

async function seeded(login: string, expiresAt: number) {
  const tokens = await issueTokens(stack, login);
  issued.add(tokens.accessToken).add(tokens.refreshToken);
  return seedAccount(stack.db, stack, login, tokens, expiresAt);
}
const named = (name: string) => spans.getFinishedSpans().filter((span) => span.name === name);

describe("telemetry", () => {
  it("traces each refresh and its provider call, with outcome, rotation and duration", async () => {
    const account = await seeded("otel-ok", epochNow() - 5);
    await engineFor(stack).getAccessToken(account.userId, "oidc");
    const [refresh] = named("tokenkeeper.refresh");
    expect(refresh!.attributes).toMatchObject({
      "tokenkeeper.provider": "oidc",
      "tokenkeeper.account_id": account.accountId,
      "tokenkeeper.trigger": "on_demand",
      "tokenkeeper.outcome": "refreshed",
      "tokenkeeper.rotated": true,
    });
    expect(refresh!.attributes["tokenkeeper.duration_ms"]).toBeGreaterThan(0);
    const [grant] = named("tokenkeeper.provider.refresh_grant");
    expect(grant!.attributes).toMatchObject({ "tokenkeeper.provider": "oidc", "tokenkeeper.operation": "refresh_grant" });
    expect(grant!.parentSpanContext?.spanId).toBe(refresh!.spanContext().spanId);
  });

  it("records a failing provider call and the refresh's outcome", async () => {
    const account = await seeded("otel-down", epochNow() - 5);
    stack.oidc!.faults.token = ({ grantType }) => (grantType === "refresh_token" ? { status: 503 } : undefined);
    try {
      await expect(engineFor(stack).getAccessToken(account.userId, "oidc")).rejects.toMatchObject({ code: "provider_unavailable" });
    } finally {
      stack.oidc!.faults.token = undefined;
    }
    const failed = named("tokenkeeper.refresh").find((span) => span.attributes["tokenkeeper.account_id"] === account.accountId)!;
    expect(failed.attributes).toMatchObject({ "tokenkeeper.outcome": "provider_unavailable", "tokenkeeper.error_code": "provider_unavailable" });
    expect(named("tokenkeeper.provider.refresh_grant").some((span) => span.attributes["http.response.status_code"] === 503)).toBe(true);
  });

  it("traces each sweep run with its counts, and counts refreshes and failures by provider and outcome", async () => {
    await seeded("otel-sweep", epochNow() + 30);
    await sweepOnce(stack);
    const [run] = named("tokenkeeper.sweep");
    expect(run!.attributes).toMatchObject({ "tokenkeeper.role": "coordinator", "tokenkeeper.sweep.refreshed": expect.any(Number) });
    expect(run!.attributes["tokenkeeper.sweep.refreshed"]).toBeGreaterThanOrEqual(1);
    expect(named("tokenkeeper.refresh").some((span) => span.attributes["tokenkeeper.trigger"] === "sweep")).toBe(true);

    await reader.forceFlush();
    const points = metricExporter.getMetrics().flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
    const sum = (name: string, outcome: string) =>
      points
        .filter((metric) => metric.descriptor.name === name)
        .flatMap((metric) => metric.dataPoints as { attributes: Record<string, unknown>; value: unknown }[])
        .filter((point) => point.attributes["tokenkeeper.outcome"] === outcome && point.attributes["tokenkeeper.provider"] === "oidc")
        .reduce((total, point) => Math.max(total, point.value as number), 0);
    expect(sum("tokenkeeper.refreshes", "refreshed")).toBeGreaterThanOrEqual(2);
    expect(sum("tokenkeeper.refreshes", "provider_unavailable")).toBe(1);
    expect(sum("tokenkeeper.refresh.failures", "provider_unavailable")).toBe(1);
  });

  it("keeps no query of a proxied call in any span, though the fetch span names the URL (#16)", async () => {
    const account = await seeded("otel-query", epochNow() + 3600);
    const response = await tokenFetch(account.userId, "oidc", "me?secret_query=q-1234567&code=c-7654321");
    expect(await response.json()).toMatchObject({ sub: "otel-query" });
    // The fetch span ends once the instrumentation has counted the body.
    await expect.poll(() => spans.getFinishedSpans().some((span) => span.name.startsWith("fetch GET") && span.name.endsWith("/me"))).toBe(true);
    const everything = JSON.stringify(spans.getFinishedSpans().map((span) => ({ name: span.name, attributes: span.attributes })));
    expect(everything).not.toContain("q-1234567");
    expect(everything).not.toContain("c-7654321");
  });

  it.each([
    ["GET /api/auth/callback/oidc?code=abc&state=def", "GET /api/auth/callback/oidc"],
    ["fetch GET https://api.example/v1/files?alt=media#top", "fetch GET https://api.example/v1/files"],
    ["/api/accounts/a1/proxy/items?q=1", "/api/accounts/a1/proxy/items"],
    ["executing api route (app) /api/accounts/[account]/proxy/[...path]", "executing api route (app) /api/accounts/[account]/proxy/[...path]"],
    ["why? no URL here", "why? no URL here"],
  ])("cuts the query from %s", (value, expected) => {
    expect(withoutQueries(value)).toBe(expected);
  });

  it("puts no token or secret in any span", async () => {
    const keyring = parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS);
    for (const row of await stack.db.account.findMany()) {
      for (const column of ["access_token", "refresh_token"] as const) if (row[column]) issued.add(await decryptToken(keyring, row[column]!, row, column));
    }
    const secrets = [...issued, stack.env.AUTH_OIDC_SECRET!, stack.env.TOKEN_ENCRYPTION_KEYS!, stack.env.AUTH_SECRET!];
    const everything = JSON.stringify(spans.getFinishedSpans().map((span) => ({ name: span.name, attributes: span.attributes, events: span.events })));
    expect(spans.getFinishedSpans().length).toBeGreaterThan(5);
    for (const secret of secrets) expect(everything.includes(secret)).toBe(false);
  });
});
