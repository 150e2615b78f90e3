import type { OAuthConfig } from "next-auth/providers";

// Invariant 8: an email the provider does not vouch for is never trusted. Auth.js
// stores the profile's email on a new User, links a sign-in to the User holding the
// same email (or refuses it with OAuthAccountNotLinked), and the session carries it
// (compared with TOKENKEEPER_OPERATOR_EMAILS). So the profile keeps an email only when
// the provider says it verified it; otherwise the person signs in with no email, and
// nobody else's address is claimed, matched or locked out.

type Profile = Record<string, unknown>;

// Auth.js's own default profile for providers that define none (lib/utils/providers.js).
const standardProfile = (profile: Profile) => ({
  id: String(profile.sub ?? profile.id ?? crypto.randomUUID()),
  name: (profile.name ?? profile.nickname ?? profile.preferred_username ?? null) as string | null,
  email: (profile.email ?? null) as string | null,
  image: (profile.picture ?? null) as string | null,
});

/**
 * The Auth.js provider `provider` with its profile's email kept only when
 * `vouches(profile)` (e.g. OIDC `email_verified === true`); a provider that says
 * nothing does not vouch.
 */
export function withVouchedEmail<P extends Profile>(provider: OAuthConfig<P>, vouches: (profile: P) => boolean): OAuthConfig<P> {
  const profileOf = provider.profile ?? ((profile: P) => standardProfile(profile));
  return {
    ...provider,
    async profile(profile, tokens) {
      const user = await profileOf(profile, tokens);
      return vouches(profile) ? user : { ...user, email: null };
    },
  };
}

/** OpenID Connect Core §5.1, and Google's ID token: `email_verified` is true. */
export const emailVerifiedClaim = (profile: Profile) => profile.email_verified === true;
