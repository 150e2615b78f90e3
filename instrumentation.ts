// OpenTelemetry for the Node functions (Next calls register() once per instance):
// Vercel's own setup, exporting wherever the project's OTEL_* settings say. The
// spans and counters are in lib/telemetry.ts; none carries a token or a secret.
// The edge middleware makes no spans of ours: loading the SDK there would double
// its bundle, so it is loaded for the Node runtime only.
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { registerOTel } = await import("@vercel/otel");
    registerOTel({ serviceName: "tokenkeeper" });
  }
}
