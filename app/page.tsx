import { auth } from "@/auth";
import { Button } from "./_components/ui/button";
import { SignInButtons } from "./sign-in-buttons";

export const dynamic = "force-dynamic";

const POINTS = [
  { title: "Stays connected", text: "Connect an account once. Apps you use keep working for you after you close this page — no signing in again every hour." },
  { title: "You stay in control", text: "See every account you’ve connected and what it allows. Disconnect any of them at any time; access is withdrawn at the provider too." },
  { title: "Kept private", text: "Your passwords never pass through here, and the access keys your providers issue are stored encrypted and never shown to anyone." },
];

export default async function Home() {
  const session = await auth();
  return (
    <div className="grid gap-10 lg:grid-cols-[1fr_24rem] lg:items-start">
      <section aria-labelledby="hero" className="flex flex-col gap-6">
        <h1 id="hero" className="text-3xl font-bold tracking-tight sm:text-4xl">
          Connect your accounts once. Let the apps you trust keep working for you.
        </h1>
        <p className="max-w-prose text-lg text-muted-foreground">
          Tokenkeeper keeps your Google, Discord and other connections working for the apps you’ve allowed to use them — and lets you see and end that access whenever you like.
        </p>
        <ul className="grid gap-4 sm:grid-cols-3 lg:grid-cols-1 xl:grid-cols-3">
          {POINTS.map((point) => (
            <li key={point.title} className="rounded-xl border border-border bg-card p-4">
              <h2 className="font-semibold">{point.title}</h2>
              <p className="mt-1 text-sm text-muted-foreground">{point.text}</p>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="start" className="flex flex-col gap-4 rounded-xl border border-border bg-card p-6 shadow-sm">
        {session?.user ? (
          <>
            <h2 id="start" className="text-lg font-semibold">
              Welcome back
            </h2>
            <Button asChild size="lg" className="text-primary-foreground hover:no-underline">
              <a href="/dashboard">Open your connections</a>
            </Button>
          </>
        ) : (
          <>
            <h2 id="start" className="text-lg font-semibold">
              Get started
            </h2>
            <p className="text-sm text-muted-foreground">Sign in with the account you want to connect first.</p>
            <SignInButtons />
          </>
        )}
      </section>
    </div>
  );
}
