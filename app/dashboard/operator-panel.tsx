import type { ReactNode } from "react";
import type { operatorPanel } from "@/lib/operator";
import { LocalTime } from "../_components/local-time";
import { cn } from "../_components/ui/cn";

type Panel = Awaited<ReturnType<typeof operatorPanel>>;

// A table on wide screens; below `sm` each row becomes a block of labelled values, so
// nothing is cut at 390 px (the label comes from data-label).
const table = "w-full text-sm max-sm:block";
const headRow = "max-sm:sr-only";
const row = "border-b border-border last:border-0 max-sm:block max-sm:py-2";
const cell = (label: string) => ({
  "data-label": label,
  className:
    "px-3 py-2 text-left align-top max-sm:flex max-sm:justify-between max-sm:gap-4 max-sm:px-0 max-sm:py-0.5 max-sm:before:font-medium max-sm:before:text-muted-foreground max-sm:before:content-[attr(data-label)]",
});

function Table({ caption, columns, children }: { caption: string; columns: string[]; children: ReactNode }) {
  return (
    <table className={table}>
      <caption className="pb-2 text-left text-sm font-medium text-muted-foreground max-sm:block">{caption}</caption>
      <thead className={headRow}>
        <tr className="border-b border-border">
          {columns.map((column) => (
            <th key={column} scope="col" className="px-3 py-2 text-left font-medium text-muted-foreground">
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody className="max-sm:block">{children}</tbody>
    </table>
  );
}

/** The operator panel; `providerNames` maps a provider id to the name people know it by. */
export function OperatorPanel({ panel, providerNames }: { panel: Panel; providerNames: ReadonlyMap<string, string> }) {
  return (
    <section aria-labelledby="operator-panel" className="flex flex-col gap-4 rounded-xl border border-border bg-card p-5 shadow-sm">
      <div>
        <h2 id="operator-panel" className="text-lg font-semibold">
          Operator panel
        </h2>
        <p className="text-sm text-muted-foreground">
          <strong className="text-foreground">{panel.expiringWithinHour}</strong> active access {panel.expiringWithinHour === 1 ? "key expires" : "keys expire"} within the next hour (the sweep renews
          them first).
        </p>
      </div>
      {panel.misconfiguredProviders.map((pause) => (
        <div key={pause.provider} role="alert" data-testid="provider-misconfigured" className="rounded-lg border border-destructive/40 bg-destructive/5 p-3 text-sm">
          <p className="font-medium text-destructive">
            {providerNames.get(pause.provider) ?? pause.provider} refuses this app’s client credentials since <LocalTime iso={pause.pausedAt} />
          </p>
          <p className="mt-1 text-muted-foreground">
            <span className="break-words text-foreground">{pause.error}</span>. The sweep leaves {providerNames.get(pause.provider) ?? pause.provider} alone until <LocalTime iso={pause.pausedUntil} />{" "}
            and tries again then; a refresh that works lifts this.
          </p>
        </div>
      ))}
      {panel.runs.length === 0 ? (
        <p className="text-sm text-muted-foreground">The renewal sweep hasn’t run yet. On Vercel it runs every 10 minutes; the README shows how to run it by hand.</p>
      ) : (
        <Table caption="Last sweep runs" columns={["Started", "Claimed", "Renewed", "Failed", "Sign-in needed", "Skipped", "Took"]}>
          {panel.runs.map((run) => (
            <tr key={run.id} className={row}>
              <td {...cell("Started")}>
                <span>
                  <LocalTime iso={run.startedAt} />
                  {run.error ? <span className="block text-destructive">Stopped: {run.error}</span> : null}
                  {!run.finishedAt && !run.error ? <span className="block text-muted-foreground">running, or stopped without a word</span> : null}
                </span>
              </td>
              <td {...cell("Claimed")}>{run.claimed}</td>
              <td {...cell("Renewed")}>{run.refreshed}</td>
              <td {...cell("Failed")}>{run.failed}</td>
              <td {...cell("Sign-in needed")}>{run.reauthRequired}</td>
              <td {...cell("Skipped")}>{run.skipped}</td>
              <td {...cell("Took")}>{run.durationMs === null ? "—" : run.durationMs < 1000 ? `${run.durationMs} ms` : `${(run.durationMs / 1000).toFixed(1)} s`}</td>
            </tr>
          ))}
        </Table>
      )}
      <h3 className="font-semibold">Webhook deliveries</h3>
      {panel.deliveries.length === 0 ? (
        <p className="text-sm text-muted-foreground">No event has been sent{panel.webhooksOn ? "" : " (set TOKENKEEPER_WEBHOOK_URL to send them)"}.</p>
      ) : (
        <Table caption="Newest events" columns={["Event", "Created", "State", "Attempts"]}>
          {panel.deliveries.map((delivery) => (
            <tr key={delivery.id} className={row}>
              <td {...cell("Event")}>
                <code className="break-all">{delivery.type}</code>
              </td>
              <td {...cell("Created")}>
                <LocalTime iso={delivery.createdAt} />
              </td>
              <td {...cell("State")}>
                <span className={cn(delivery.state !== "delivered" && "text-destructive")}>
                  {delivery.state}
                  {delivery.lastError && delivery.state !== "delivered" ? ` — ${delivery.lastError}` : ""}
                </span>
              </td>
              <td {...cell("Attempts")}>{delivery.attempts}</td>
            </tr>
          ))}
        </Table>
      )}
      <h3 className="font-semibold">Access keys handed to services</h3>
      {panel.tokenAudits.length === 0 ? (
        <p className="text-sm text-muted-foreground">No service has fetched an access key with an API key yet.</p>
      ) : (
        <div data-testid="token-audit">
          <Table caption="Newest first (GET /api/v1/accounts/…/token)" columns={["When", "API key", "Account", "Why"]}>
            {panel.tokenAudits.map((audit, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: audit rows carry no id and two may share a second; the list is rendered whole, never reordered
              <tr key={`${audit.createdAt}-${index}`} className={row}>
                <td {...cell("When")}>
                  <LocalTime iso={audit.createdAt} />
                </td>
                <td {...cell("API key")}>
                  <code className="break-all">{audit.keyName}</code>
                </td>
                <td {...cell("Account")}>
                  <span className="min-w-0 max-sm:text-right">
                    {audit.provider ? (providerNames.get(audit.provider) ?? audit.provider) : "unlinked"}
                    <code className="block break-all text-xs text-muted-foreground">{audit.accountId}</code>
                  </span>
                </td>
                <td {...cell("Why")}>
                  <span>
                    {audit.purpose ?? "—"}
                    {audit.refreshed ? <span className="block text-muted-foreground">renewed first, to last {audit.minTtl} s</span> : null}
                  </span>
                </td>
              </tr>
            ))}
          </Table>
        </div>
      )}
    </section>
  );
}
