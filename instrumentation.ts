// OpenTelemetry for the Node functions (Next calls register() once per instance):
// Vercel's own setup, exporting wherever the project's OTEL_* settings say. The
// spans and counters are in lib/telemetry.ts; none carries a token or a secret, and
// no URL in any span keeps its query (lib/span-redaction.ts: the sign-in callback's
// code and state, a proxied call's query). The edge middleware makes no spans of
// ours: loading the SDK there would double its bundle, so it is loaded for the Node
// runtime only.
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const [{ registerOTel }, { QueryRedactingSpanProcessor }] = await Promise.all([import("@vercel/otel"), import("./lib/span-redaction")]);
    // First, so every exporter after it sees the spans redacted.
    registerOTel({ serviceName: "tokenkeeper", spanProcessors: [new QueryRedactingSpanProcessor(), "auto"] });
  }
}
