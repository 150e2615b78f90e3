import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { auth, authProviderLabels, signOut } from "@/auth";
import { listAccounts } from "@/lib/accounts";
import { signOutMode } from "@/lib/env";
import { isOperator, operatorPanel } from "@/lib/operator";
import { CopyableId } from "../_components/copyable-id";
import { ProviderMark } from "../_components/provider-mark";
import { cn } from "../_components/ui/cn";
import { SignInButtons } from "../sign-in-buttons";
import { AccountCard } from "./account-card";
import { OperatorPanel } from "./operator-panel";
import { SignOutButton } from "./sign-out-button";
import { tokenkeeper } from "@/lib/tokenkeeper";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Your connections" };

export default async function Dashboard() {
  const session = await auth();
  if (!session?.user?.id) redirect("/signin?callbackUrl=/dashboard");
  // Non-operators get no panel at all: nothing of it reaches their HTML or RSC payload.
  const [accounts, panel] = await Promise.all([listAccounts(session.user.id), isOperator(session.user.email) ? operatorPanel() : null]);
  const forcedRefreshIntervalSeconds = tokenkeeper().config.TOKEN_FORCED_REFRESH_INTERVAL_SECONDS;
  const labels = authProviderLabels();
  // A provider without a catalogue entry runs on what Auth.js knows of it: said on its cards.
  const providerNames = new Map(labels.map(({ id, name, generic }) => [id, generic ? `${name} (generic)` : name]));
  const grantCapNotes = new Map(labels.map(({ id, grantCapNote }) => [id, grantCapNote]));
  // What sign-out would change: the accounts that have background access now.
  const withBackgroundAccess = accounts.filter((account) => account.status !== "signed_out" && account.status !== "reauth_required").length;

  return (
    <div className="flex flex-col gap-8">
      <div className="flex flex-col gap-4 sm:flex-row sm:items-center sm:justify-between">
        <div className="min-w-0">
          <h1 className="text-2xl font-bold tracking-tight sm:text-3xl">Your connections</h1>
          <p className="mt-1 truncate text-sm text-muted-foreground">Signed in as {session.user.email ?? session.user.name ?? "you"}</p>
          {/* What a service of the app names you by (GET /api/v1/users/{userId}/accounts). */}
          <p className="mt-1 flex flex-wrap items-center gap-x-2 text-sm text-muted-foreground">
            Your user id <CopyableId label="user id" value={session.user.id} testId="user-id" />
          </p>
        </div>
        <SignOutButton
          mode={signOutMode()}
          accounts={withBackgroundAccess}
          action={async () => {
            "use server";
            await signOut({ redirectTo: "/" });
          }}
        />
      </div>

      <section aria-labelledby="connections" className="flex flex-col gap-4">
        <h2 id="connections" className="sr-only">
          Connected accounts
        </h2>
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-3">
          {accounts.map((account) => (
            <AccountCard
              key={account.id}
              account={account}
              providerName={providerNames.get(account.provider) ?? account.provider}
              mark={<ProviderMark provider={account.provider} className="size-6" />}
              forcedRefreshIntervalSeconds={forcedRefreshIntervalSeconds}
              grantCapNote={grantCapNotes.get(account.provider) ?? null}
            />
          ))}
          <section
            aria-labelledby="link-account"
            className={cn(
              "flex flex-col gap-3 rounded-xl border border-dashed border-border bg-card/60 p-5",
              // The empty state takes the whole row: it is the page's one thing to do.
              accounts.length === 0 && "items-center py-12 text-center md:col-span-2 xl:col-span-3 [&_ul]:w-full",
            )}
            data-testid={accounts.length === 0 ? "empty-state" : "link-card"}
          >
            <h3 id="link-account" className="font-semibold">
              {accounts.length === 0 ? "Connect your first account" : "Connect another account"}
            </h3>
            <p className="text-sm text-muted-foreground">
              {accounts.length === 0
                ? "Nothing is connected yet. Pick a provider and sign in there; the account then appears here, and apps you allow can use it."
                : "Another provider, or a second account at one you already use: the provider asks which account."}
            </p>
            <SignInButtons callbackUrl="/dashboard" label="Connect" link />
          </section>
        </div>
      </section>

      {panel ? <OperatorPanel panel={panel} providerNames={providerNames} /> : null}
    </div>
  );
}
