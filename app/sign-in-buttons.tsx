import { signIn } from "@/auth";
import { authProviderLabels } from "@/auth.config";

type Props = {
  callbackUrl?: string;
  label?: string;
  /** Linking another account: the provider shows its login again, even where one is linked. */
  link?: boolean;
};

/** One sign-in button per enabled provider (a server action each). */
export function SignInButtons({ callbackUrl = "/dashboard", label = "Sign in with", link = false }: Props) {
  const providers = authProviderLabels();
  if (providers.length === 0) return <p className="error">No provider is configured: set a provider&apos;s AUTH_&lt;ID&gt;_ID and AUTH_&lt;ID&gt;_SECRET (the README&apos;s provider table).</p>;
  return (
    <ul className="providers">
      {providers.map((provider) => (
        <li key={provider.id}>
          <form
            action={async () => {
              "use server";
              await signIn(provider.id, { redirectTo: callbackUrl }, link ? provider.linkParams : undefined);
            }}
          >
            <button type="submit">
              {label} {provider.name}
            </button>
          </form>
          {link && provider.grantCapNote ? <p className="muted">{provider.grantCapNote}</p> : null}
        </li>
      ))}
    </ul>
  );
}
