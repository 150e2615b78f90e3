import type { Metadata } from "next";
import { signInErrorText } from "../_components/messages";
import { SignInButtons } from "../sign-in-buttons";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Sign in" };

// Only the path is kept, so sign-in never sends anyone to another site.
function safeCallback(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return "/dashboard";
  try {
    const url = new URL(text, "http://local");
    return url.pathname + url.search;
  } catch {
    return "/dashboard";
  }
}

export default async function SignIn({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const error = Array.isArray(params.error) ? params.error[0] : params.error;
  return (
    <div className="mx-auto flex max-w-md flex-col gap-5 rounded-xl border border-border bg-card p-6 shadow-sm sm:p-8">
      <h1 className="text-2xl font-bold tracking-tight">Sign in</h1>
      {error ? (
        <p role="alert" className="rounded-md border border-destructive/30 bg-destructive/5 p-3 text-sm text-destructive" data-testid="signin-error">
          {signInErrorText(error)}
        </p>
      ) : (
        <p className="text-sm text-muted-foreground">Choose the account you want to use. You can connect more afterwards.</p>
      )}
      <SignInButtons callbackUrl={safeCallback(params.callbackUrl)} />
    </div>
  );
}
