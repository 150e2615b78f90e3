"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import type { AccountSummary } from "@/lib/account-actions";
import { LocalTime } from "./local-time";

const STATUS_TEXT: Record<AccountSummary["status"], string> = {
  active: "Active",
  expiring: "Expiring soon",
  expired: "Expired",
  reauth_required: "Sign-in needed",
  signed_out: "Signed out",
};

function countdown(expiresAt: string | null, now: number): string {
  if (!expiresAt) return "no expiry given";
  const seconds = Math.round((Date.parse(expiresAt) - now) / 1000);
  if (seconds <= 0) return "expired";
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min ${String(s).padStart(2, "0")} s`;
}

async function call(method: string, url: string, payload?: unknown): Promise<unknown> {
  const init: RequestInit = payload === undefined ? { method } : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(payload) };
  const response = await fetch(url, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((body as { message?: string }).message ?? `HTTP ${response.status}`);
  return body;
}

/** grantCapNote: what another consent costs where the provider caps live grants (lib/providers/grant-cap.ts). */
type CardProps = { account: AccountSummary; providerName: string; forcedRefreshIntervalSeconds: number; grantCapNote?: string | null };

export function AccountCard({ account, providerName, forcedRefreshIntervalSeconds, grantCapNote }: CardProps) {
  const router = useRouter();
  const [now, setNow] = useState<number | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [userinfo, setUserinfo] = useState<unknown>(null);
  const [moreScopes, setMoreScopes] = useState("");
  const base = `/api/accounts/${encodeURIComponent(account.id)}`;
  const headingId = `card-${account.id}`;
  const needsSignIn = account.status === "reauth_required" || account.status === "signed_out";
  // The server allows one forced refresh per interval after any refresh: say when.
  const refreshableAt = account.refreshedAt ? Date.parse(account.refreshedAt) + forcedRefreshIntervalSeconds * 1000 : 0;
  const waitSeconds = now === null ? 0 : Math.ceil((refreshableAt - now) / 1000);

  useEffect(() => {
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  const run = async (label: string, action: () => Promise<void>) => {
    setBusy(label);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(null);
    }
  };

  return (
    <article className="card" aria-labelledby={headingId} data-provider={account.provider} data-account={account.id} data-identity={account.identity ?? ""}>
      <div className="row">
        <h3 id={headingId}>
          {providerName}
          {account.identity ? <span className="identity"> · {account.identity}</span> : null}
        </h3>
        <span className={`status status-${account.status}`} data-testid="status">
          {STATUS_TEXT[account.status]}
        </span>
      </div>
      <dl>
        <dt>Access token</dt>
        <dd data-testid="countdown">{now === null ? "…" : countdown(account.expiresAt, now)}</dd>
        <dt>Last refresh</dt>
        <dd data-testid="refreshed-at">
          <LocalTime iso={account.refreshedAt} />
        </dd>
        {account.reauthBy && !needsSignIn ? (
          <>
            <dt>Sign in again by</dt>
            <dd data-testid="reauth-by">
              <LocalTime iso={account.reauthBy} />
            </dd>
          </>
        ) : null}
        <dt>Scopes</dt>
        <dd>
          <ul className="scopes" data-testid="scopes">
            {account.scopes.map((scope) => (
              <li key={scope}>{scope}</li>
            ))}
          </ul>
        </dd>
        {account.lastError ? (
          <>
            <dt>Last error</dt>
            <dd className="error">{account.lastError}</dd>
          </>
        ) : null}
      </dl>
      <div className="actions">
        {needsSignIn ? (
          <button type="button" disabled={busy !== null} data-testid="reconnect" onClick={() => run("reconnect", async () => {
            // The provider's consent for this account (its login hinted), back here as the same account.
            const { url } = (await call("POST", `${base}/reconnect`)) as { url: string };
            window.location.assign(url);
          })}>
            {busy === "reconnect" ? "Opening…" : "Reconnect"}
          </button>
        ) : (
          <>
            <button type="button" disabled={busy !== null || waitSeconds > 0} data-testid="refresh" onClick={() => run("refresh", async () => {
              await call("POST", `${base}/refresh`);
              router.refresh();
            })}>
              {busy === "refresh" ? "Refreshing…" : waitSeconds > 0 ? `Refresh again in ${waitSeconds} s` : "Refresh now"}
            </button>
            <button type="button" className="secondary" disabled={busy !== null} onClick={() => run("userinfo", async () => {
              setUserinfo(((await call("GET", `${base}/userinfo`)) as { userinfo: unknown }).userinfo);
              router.refresh();
            })}>
              {busy === "userinfo" ? "Calling…" : "Call the provider's API"}
            </button>
          </>
        )}
        <button type="button" className="danger" disabled={busy !== null} onClick={() => run("disconnect", async () => {
          if (!window.confirm(`Disconnect ${providerName}? Its tokens are revoked at the provider.`)) return;
          await call("DELETE", base);
          router.refresh();
        })}>
          {busy === "disconnect" ? "Disconnecting…" : "Disconnect"}
        </button>
      </div>
      {needsSignIn ? null : (
        <form
          className="more-access"
          onSubmit={(event) => {
            event.preventDefault();
            void run("scopes", async () => {
              const scopes = moreScopes.split(/[\s,]+/).filter(Boolean);
              const { url } = (await call("POST", `${base}/scopes`, { scopes })) as { url: string };
              window.location.assign(url); // the provider's consent, then back here
            });
          }}
        >
          <label htmlFor={`scopes-${account.id}`} className="muted">
            More access
          </label>
          <input id={`scopes-${account.id}`} value={moreScopes} onChange={(event) => setMoreScopes(event.target.value)} placeholder="scopes, e.g. phone" />
          <button type="submit" className="secondary" disabled={busy !== null || moreScopes.trim() === ""}>
            {busy === "scopes" ? "Opening…" : "Request more access"}
          </button>
          {grantCapNote ? <p className="muted">{grantCapNote}</p> : null}
        </form>
      )}
      {error ? <p className="error" role="alert">{error}</p> : null}
      {userinfo ? (
        <pre className="userinfo" data-testid="userinfo" aria-label="Userinfo answer">{JSON.stringify(userinfo, null, 2)}</pre>
      ) : null}
    </article>
  );
}
