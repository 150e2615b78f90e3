import { SignInButtons } from "../sign-in-buttons";

export const dynamic = "force-dynamic";

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
  return (
    <>
      <h1>Sign in</h1>
      {params.error ? <p className="error">Sign-in failed ({String(params.error)}). Try again.</p> : null}
      <SignInButtons callbackUrl={safeCallback(params.callbackUrl)} />
    </>
  );
}
