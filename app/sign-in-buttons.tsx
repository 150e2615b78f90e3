import { authProviderLabels, signIn } from "@/auth";
import { ProviderMark } from "./_components/provider-mark";
import { Button } from "./_components/ui/button";

type Props = {
  callbackUrl?: string;
  label?: string;
  /** Linking another account: the provider shows its login again, even where one is linked. */
  link?: boolean;
};

/** One button per enabled provider (a server action each), with the provider's mark. */
export function SignInButtons({ callbackUrl = "/dashboard", label = "Continue with", link = false }: Props) {
  const providers = authProviderLabels();
  if (providers.length === 0) {
    return <p className="text-destructive">Sign-in isn’t available yet: no provider is set up on this server.</p>;
  }
  return (
    <ul className="flex flex-col gap-2 sm:max-w-sm">
      {providers.map((provider) => (
        <li key={provider.id}>
          <form
            action={async () => {
              "use server";
              await signIn(provider.id, { redirectTo: callbackUrl }, link ? provider.linkParams : undefined);
            }}
          >
            <Button type="submit" variant="outline" size="lg" className="h-auto min-h-11 w-full justify-start whitespace-normal py-2 text-left">
              <ProviderMark provider={provider.id} />
              {label} {provider.name}
            </Button>
          </form>
          {link && provider.grantCapNote ? <p className="mt-1 text-xs text-muted-foreground">{provider.grantCapNote}</p> : null}
        </li>
      ))}
    </ul>
  );
}
