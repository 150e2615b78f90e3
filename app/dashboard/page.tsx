import { redirect } from "next/navigation";
import { auth, signOut } from "@/auth";
import { authProviderLabels } from "@/auth.config";
import { listAccounts } from "@/lib/account-actions";
import { env } from "@/lib/env";
import { isOperator, operatorPanel } from "@/lib/operator";
import { SignInButtons } from "../sign-in-buttons";
import { AccountCard } from "./account-card";
import { LocalTime } from "./local-time";

export const dynamic = "force-dynamic";

export default async function Dashboard() {
  const session = await auth();
  if (!session?.user?.id) redirect("/signin?callbackUrl=/dashboard");
  // Non-operators get no panel at all: nothing of it reaches their HTML or RSC payload.
  const [accounts, panel] = await Promise.all([listAccounts(session.user.id), isOperator(session.user.email) ? operatorPanel() : null]);
  const forcedRefreshIntervalSeconds = env().TOKEN_FORCED_REFRESH_INTERVAL_SECONDS;
  const labels = authProviderLabels();
  // A provider without a catalogue entry runs on what Auth.js knows of it: said on its cards.
  const providerNames = new Map(labels.map(({ id, name, generic }) => [id, generic ? `${name} (generic)` : name]));
  const grantCapNotes = new Map(labels.map(({ id, grantCapNote }) => [id, grantCapNote]));

  return (
    <>
      <div className="row">
        <div>
          <h1>Your connected accounts</h1>
          <p className="muted">Signed in as {session.user.name ?? session.user.email ?? session.user.id}</p>
        </div>
        <form
          action={async () => {
            "use server";
            await signOut({ redirectTo: "/" });
          }}
        >
          <button type="submit" className="secondary">
            Sign out
          </button>
        </form>
      </div>

      {accounts.length === 0 ? <p>No provider account is linked.</p> : null}
      <section className="cards" aria-label="Connected accounts">
        {accounts.map((account) => (
          <AccountCard
            key={account.id}
            account={account}
            providerName={providerNames.get(account.provider) ?? account.provider}
            forcedRefreshIntervalSeconds={forcedRefreshIntervalSeconds}
            grantCapNote={grantCapNotes.get(account.provider) ?? null}
          />
        ))}
      </section>

      <h2>Link another account</h2>
      <p className="muted">Another provider, or a second account at one already linked: the provider asks who you are again.</p>
      <SignInButtons callbackUrl="/dashboard" label="Link an account at" link />

      {panel ? (
        <>
      <h2>Operator panel</h2>
      <div className="panel">
        {panel.misconfiguredProviders.map((pause) => (
          <p key={pause.provider} className="error" role="alert" data-testid="provider-misconfigured">
            {providerNames.get(pause.provider) ?? pause.provider} refuses this app&apos;s client credentials since <LocalTime iso={pause.pausedAt} />: {pause.error}. The sweep
            leaves it alone until <LocalTime iso={pause.pausedUntil} /> and tries again then; a refresh that works lifts this.
          </p>
        ))}
        <p>
          <strong>{panel.expiringWithinHour}</strong> active access {panel.expiringWithinHour === 1 ? "token expires" : "tokens expire"} within the next hour.
        </p>
        {panel.runs.length === 0 ? (
          <p className="muted">The refresh sweep has not run yet. It runs every 10 minutes on Vercel (see the README to run it by hand).</p>
        ) : (
          <table>
            <caption className="muted">Last sweep runs</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Claimed</th>
                <th scope="col">Refreshed</th>
                <th scope="col">Failed</th>
                <th scope="col">Re-auth</th>
                <th scope="col">Skipped</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {panel.runs.map((run) => (
                <tr key={run.startedAt}>
                  <td>
                    <LocalTime iso={run.startedAt} />
                    {run.error ? <span className="error"> — {run.error}</span> : null}
                    {!run.finishedAt && !run.error ? <span className="muted"> (running or stopped)</span> : null}
                  </td>
                  <td>{run.claimed}</td>
                  <td>{run.refreshed}</td>
                  <td>{run.failed}</td>
                  <td>{run.reauthRequired}</td>
                  <td>{run.skipped}</td>
                  <td>{run.durationMs === null ? "—" : `${run.durationMs} ms`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h3>Webhook deliveries</h3>
        {panel.deliveries.length === 0 ? (
          <p className="muted">No event has been sent{panel.webhooksOn ? "" : " (set TOKENKEEPER_WEBHOOK_URL to send them)"}.</p>
        ) : (
          <table>
            <caption className="muted">Newest events</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Created</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
              </tr>
            </thead>
            <tbody>
              {panel.deliveries.map((delivery) => (
                <tr key={delivery.id}>
                  <td>{delivery.type}</td>
                  <td>
                    <LocalTime iso={delivery.createdAt} />
                  </td>
                  <td className={delivery.state === "delivered" ? "" : "error"}>
                    {delivery.state}
                    {delivery.lastError && delivery.state !== "delivered" ? ` — ${delivery.lastError}` : ""}
                  </td>
                  <td>{delivery.attempts}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h3>Tokens handed to services</h3>
        {panel.tokenAudits.length === 0 ? (
          <p className="muted">No service has fetched a token with an API key yet.</p>
        ) : (
          <table data-testid="token-audit">
            <caption className="muted">Newest first (GET /api/v1/accounts/…/token)</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Key</th>
                <th scope="col">Account</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {panel.tokenAudits.map((audit, index) => (
                <tr key={`${audit.createdAt}-${index}`}>
                  <td>
                    <LocalTime iso={audit.createdAt} />
                  </td>
                  <td>{audit.keyName}</td>
                  <td>
                    {audit.provider ?? "unlinked"} {audit.accountId}
                  </td>
                  <td>
                    {audit.purpose ?? "—"}
                    {audit.refreshed ? ` (refreshed for minTtl ${audit.minTtl} s)` : ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
        </>
      ) : null}
    </>
  );
}
