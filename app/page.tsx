import { auth } from "@/auth";
import { SignInButtons } from "./sign-in-buttons";

export const dynamic = "force-dynamic";

export default async function Home() {
  const session = await auth();
  return (
    <>
      <h1>Tokenkeeper</h1>
      <p className="lead">
        Act on your users&apos; behalf at Google, Discord or any OpenID Connect provider, with access tokens that are always
        fresh, encrypted at rest, and never raced.
      </p>
      <ul className="features">
        <li>Every sign-in stores the provider&apos;s newest tokens; sign-out clears them.</li>
        <li>Access tokens are refreshed on demand (one refresh per account, across all instances) and by a cron sweep.</li>
        <li>Rotating refresh tokens (Discord) are never used twice; revoked grants are flagged for re-authentication.</li>
        <li>Tokens are stored as JWE (A256GCM) and never appear in logs or API answers.</li>
      </ul>
      {session?.user ? (
        <p>
          <a className="button" href="/dashboard">
            Open your dashboard
          </a>
        </p>
      ) : (
        <SignInButtons />
      )}
    </>
  );
}
