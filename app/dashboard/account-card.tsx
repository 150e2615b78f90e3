"use client";

import { useRouter } from "next/navigation";
import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { toast } from "sonner";
import type { AccountSummary } from "@/lib/accounts";
import { accountStatus, type AccountStatus } from "@/lib/tokens/token-decision";
import { CopyableId } from "../_components/copyable-id";
import { LocalTime } from "../_components/local-time";
import { apiErrorText, localTime, type ApiFailure } from "../_components/messages";
import {
  AlertDialog,
  AlertDialogAction,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
  AlertDialogTrigger,
} from "../_components/ui/alert-dialog";
import { Badge } from "../_components/ui/badge";
import { Button } from "../_components/ui/button";
import { Card, CardContent, CardFooter, CardHeader } from "../_components/ui/card";

type Tone = "ok" | "warn" | "bad" | "idle";
// Each status in plain words, with what happens next or what to do.
const STATUS: Record<AccountStatus, { label: string; tone: Tone; text: (provider: string) => string }> = {
  active: { label: "Connected", tone: "ok", text: () => "Working. Apps you allow can use this account, even when you’re away." },
  expiring: { label: "Renewing soon", tone: "ok", text: () => "Working. Its access key is about to be renewed automatically." },
  expired: { label: "Renews on next use", tone: "warn", text: () => "Its access key has expired; it is renewed automatically the next time an app uses it." },
  reauth_required: { label: "Sign-in needed", tone: "bad", text: (provider) => `${provider} no longer accepts this connection — access was revoked or has expired. Reconnect to continue.` },
  signed_out: { label: "Signed out", tone: "idle", text: () => "Background access stopped when you signed out. Reconnect to resume it." },
};

/** The status as of `now`: the server's, moved on by the clock while the page stays open. */
function liveStatus(account: AccountSummary, now: number | null): AccountStatus {
  if (now === null || account.status === "reauth_required" || account.status === "signed_out") return account.status;
  return accountStatus({ status: "active", expires_at: account.expiresAt === null ? null : BigInt(Math.floor(Date.parse(account.expiresAt) / 1000)) }, new Date(now));
}

function countdown(expiresAt: string | null, now: number): string {
  if (!expiresAt) return "doesn’t expire";
  const seconds = Math.round((Date.parse(expiresAt) - now) / 1000);
  if (seconds <= 0) return "expired";
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min ${String(s).padStart(2, "0")} s`;
}

class ApiError extends Error {
  constructor(readonly failure: ApiFailure) {
    super(failure.error ?? `HTTP ${failure.status}`);
  }
}

/** Same-origin JSON call to the account routes; a non-2xx answer throws ApiError with its code and Retry-After. */
async function call(method: string, url: string, payload?: unknown): Promise<unknown> {
  const init: RequestInit = payload === undefined ? { method } : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(payload) };
  const response = await fetch(url, init);
  const body = (await response.json().catch(() => ({}))) as { error?: string };
  if (!response.ok) {
    const retryAfter = Number(response.headers.get("retry-after"));
    throw new ApiError({ status: response.status, error: body.error, retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined });
  }
  return body;
}

/** grantCapNote: what another consent costs where the provider caps live grants (lib/providers/grant-cap.ts). */
type CardProps = { account: AccountSummary; providerName: string; mark: ReactNode; forcedRefreshIntervalSeconds: number; grantCapNote?: string | null };

export function AccountCard({ account, providerName, mark, forcedRefreshIntervalSeconds, grantCapNote }: CardProps) {
  const router = useRouter();
  const id = useId();
  const [now, setNow] = useState<number | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const inFlight = useRef(false);
  const [error, setError] = useState<string | null>(null);
  const [userinfo, setUserinfo] = useState<unknown>(null);
  const [moreScopes, setMoreScopes] = useState("");
  const base = `/api/accounts/${encodeURIComponent(account.id)}`;
  const subject = account.identity ? `${providerName} · ${account.identity}` : providerName;
  const status = liveStatus(account, now);
  const needsSignIn = status === "reauth_required" || status === "signed_out";
  // The server allows one forced refresh per interval after any refresh: say why the button waits.
  const refreshableAt = account.refreshedAt ? Date.parse(account.refreshedAt) + forcedRefreshIntervalSeconds * 1000 : 0;
  const waitSeconds = now === null ? 0 : Math.ceil((refreshableAt - now) / 1000);

  useEffect(() => {
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  // One action at a time per card, even on a double-click (state updates land a render later).
  const run = async (label: string, action: () => Promise<void>) => {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(label);
    setError(null);
    try {
      await action();
    } catch (e) {
      const text = e instanceof ApiError ? apiErrorText(e.failure, subject) : `Couldn’t reach Tokenkeeper for ${subject}. Check your connection and try again.`;
      // A lost grant is the card's status from now on (router.refresh below): said once, there.
      if (!(e instanceof ApiError && e.failure.error === "reauth_required")) setError(text);
      toast.error(text);
      router.refresh();
    } finally {
      inFlight.current = false;
      setBusy(null);
    }
  };

  const { label, tone, text } = STATUS[status];
  return (
    <Card aria-labelledby={`${id}-title`} data-provider={account.provider} data-account={account.id} data-identity={account.identity ?? ""}>
      <CardHeader>
        <span className="mt-0.5 rounded-lg border border-border bg-card p-1.5">{mark}</span>
        <div className="min-w-0 flex-1">
          <h3 id={`${id}-title`} className="font-semibold leading-tight">
            {providerName}
          </h3>
          {account.identity ? <p className="text-sm break-all text-muted-foreground">{account.identity}</p> : null}
        </div>
      </CardHeader>

      <CardContent>
        {/* Announced when the status changes, not on every tick of the countdown. */}
        <div role="status" className="flex flex-col items-start gap-1.5">
          <Badge tone={tone} data-testid="status">
            {label}
          </Badge>
          <p className="text-sm" data-testid="status-text">
            {text(providerName)}
          </p>
        </div>
        <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5 text-sm">
          {needsSignIn ? null : (
            <>
              <dt className="text-muted-foreground">Access key valid for</dt>
              <dd data-testid="countdown" className="tabular-nums">
                {now === null ? "…" : countdown(account.expiresAt, now)}
              </dd>
            </>
          )}
          <dt className="text-muted-foreground">Last renewed</dt>
          <dd data-testid="refreshed-at">
            <LocalTime iso={account.refreshedAt} fallback="not yet" />
          </dd>
          {account.reauthBy && !needsSignIn ? (
            <>
              <dt className="text-muted-foreground">Sign in again by</dt>
              <dd data-testid="reauth-by">
                <LocalTime iso={account.reauthBy} />
              </dd>
            </>
          ) : null}
          <dt className="text-muted-foreground">Allowed</dt>
          <dd>
            <ul className="flex flex-wrap gap-1" data-testid="scopes" aria-label="Allowed scopes">
              {account.scopes.map((scope) => (
                <li key={scope} className="rounded bg-muted px-1.5 py-0.5 font-mono text-xs break-all">
                  {scope}
                </li>
              ))}
            </ul>
          </dd>
          {/* What a service of the app names this account by (/api/v1/accounts/{accountId}/…). */}
          <dt className="text-muted-foreground">Account id</dt>
          <dd className="min-w-0">
            <CopyableId label="account id" value={account.id} testId="account-id" />
          </dd>
        </dl>
        {account.failureCount > 0 && !needsSignIn ? (
          <p className="text-sm text-warn" data-testid="failures">
            The last {account.failureCount === 1 ? "renewal" : `${account.failureCount} renewals`} didn’t go through; Tokenkeeper tries again
            {account.retryAfter ? ` at ${localTime(new Date(account.retryAfter))}` : " shortly"}. The current access key still works until it expires.
          </p>
        ) : null}
        {error ? (
          <p className="rounded-md border border-destructive/30 bg-destructive/5 p-2 text-sm text-destructive" data-testid="card-error">
            {error}
          </p>
        ) : null}
        {userinfo && !needsSignIn ? (
          <figure className="flex flex-col gap-1">
            <figcaption className="text-xs font-medium text-muted-foreground">What {providerName} says about this account (its userinfo answer)</figcaption>
            {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take keyboard focus to be scrolled (axe's scrollable-region-focusable) */}
            <pre tabIndex={0} data-testid="userinfo" className="max-h-60 overflow-auto rounded-md bg-muted p-3 font-mono text-xs whitespace-pre-wrap break-all">
              {JSON.stringify(userinfo, null, 2)}
            </pre>
          </figure>
        ) : null}
        {needsSignIn ? null : (
          <details className="group text-sm">
            <summary className="cursor-pointer font-medium text-primary">Ask for more access</summary>
            <form
              className="mt-2 flex flex-wrap items-end gap-2"
              onSubmit={(event) => {
                event.preventDefault();
                void run("scopes", async () => {
                  const scopes = moreScopes.split(/[\s,]+/).filter(Boolean);
                  const { url } = (await call("POST", `${base}/scopes`, { scopes })) as { url: string };
                  window.location.assign(url); // the provider's consent, then back here
                });
              }}
            >
              <div className="flex min-w-0 flex-1 basis-48 flex-col gap-1">
                <label htmlFor={`${id}-scopes`} className="text-xs text-muted-foreground">
                  Scopes, separated by spaces
                </label>
                <input
                  id={`${id}-scopes`}
                  value={moreScopes}
                  onChange={(event) => setMoreScopes(event.target.value)}
                  placeholder="e.g. phone"
                  className="h-9 rounded-md border border-border bg-card px-2"
                />
              </div>
              <Button type="submit" variant="outline" disabled={busy !== null || moreScopes.trim() === ""}>
                {busy === "scopes" ? "Opening…" : "Request more access"}
              </Button>
            </form>
            {grantCapNote ? <p className="mt-2 text-xs text-muted-foreground">{grantCapNote}</p> : null}
          </details>
        )}
      </CardContent>

      <CardFooter>
        {waitSeconds > 0 && !needsSignIn ? (
          <p id={`${id}-wait`} className="w-full text-xs text-muted-foreground" data-testid="refresh-wait">
            Just renewed — you can refresh again in {waitSeconds} s.
          </p>
        ) : null}
        {needsSignIn ? (
          <Button
            size="sm"
            data-testid="reconnect"
            disabled={busy !== null}
            onClick={() =>
              run("reconnect", async () => {
                // The provider's consent for this account (its login hinted), back here as the same account.
                const { url } = (await call("POST", `${base}/reconnect`)) as { url: string };
                window.location.assign(url);
              })
            }
          >
            {busy === "reconnect" ? "Opening…" : "Reconnect"}
          </Button>
        ) : (
          <>
            <Button
              size="sm"
              data-testid="refresh"
              disabled={busy !== null || waitSeconds > 0}
              aria-describedby={waitSeconds > 0 ? `${id}-wait` : undefined}
              onClick={() =>
                run("refresh", async () => {
                  await call("POST", `${base}/refresh`);
                  toast.success(`${subject} renewed`);
                  router.refresh();
                })
              }
            >
              {busy === "refresh" ? "Renewing…" : "Refresh now"}
            </Button>
            <Button
              size="sm"
              variant="outline"
              disabled={busy !== null}
              onClick={() =>
                run("userinfo", async () => {
                  setUserinfo(((await call("GET", `${base}/userinfo`)) as { userinfo: unknown }).userinfo);
                  toast.success(`${providerName} answered`);
                  router.refresh();
                })
              }
            >
              {busy === "userinfo" ? "Calling…" : "Test a call"}
            </Button>
          </>
        )}
        <AlertDialog>
          <AlertDialogTrigger asChild>
            <Button size="sm" variant="destructive-ghost" className="ml-auto" disabled={busy !== null}>
              {busy === "disconnect" ? "Disconnecting…" : "Disconnect"}
            </Button>
          </AlertDialogTrigger>
          <AlertDialogContent>
            <AlertDialogHeader>
              <AlertDialogTitle>Disconnect {subject}?</AlertDialogTitle>
              <AlertDialogDescription>
                Tokenkeeper withdraws this account’s access at {providerName} and forgets its keys. Apps that use it stop working for you until you connect it again.
              </AlertDialogDescription>
            </AlertDialogHeader>
            <AlertDialogFooter>
              <AlertDialogCancel>Keep connected</AlertDialogCancel>
              <AlertDialogAction
                destructive
                onClick={() =>
                  run("disconnect", async () => {
                    const { revoked } = (await call("DELETE", base)) as { revoked: boolean };
                    if (revoked) toast.success(`${subject} disconnected`);
                    else toast.warning(`${subject} is disconnected here, but ${providerName} didn’t confirm it withdrew access. You can also remove it in your ${providerName} account settings.`);
                    router.refresh();
                  })
                }
              >
                Disconnect
              </AlertDialogAction>
            </AlertDialogFooter>
          </AlertDialogContent>
        </AlertDialog>
      </CardFooter>
    </Card>
  );
}
