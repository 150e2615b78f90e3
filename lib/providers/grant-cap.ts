/**
 * What another consent costs where a provider caps the live grants of one user for
 * one app (Salesforce 5, Zoom 1): the provider ends the oldest grant silently, and
 * the account holding it stops refreshing. A consent here replaces this account's own
 * tokens, so what it costs is a grant held elsewhere with the same client (another
 * deployment, a script), or this one when the consent is made there. Null where there
 * is no cap. Pure.
 */
export function grantCapNote(providerName: string, cap: number | undefined): string | null {
  if (cap === undefined) return null;
  if (cap === 1)
    return `${providerName} keeps one grant per user for this app: a consent anywhere else with this app's credentials (another deployment or tool) ends this one, which then needs a new sign-in.`;
  return `${providerName} keeps at most ${cap} grants per user for this app: a consent beyond that, here or anywhere else with this app's credentials, ends the oldest, which then needs a new sign-in.`;
}

/**
 * Said with a refused refresh token where the provider caps live grants (in lastError
 * and the account.reauth_required event): the likely cause, since the provider's answer
 * never says. Empty where there is no cap. Pure.
 */
export function grantCapCause(providerId: string, cap: number | undefined): string {
  if (cap === undefined) return "";
  const kept = cap === 1 ? "one live grant" : `at most ${cap} live grants`;
  const since = cap === 1 ? "a consent" : `${cap} consents`;
  return ` (${providerId} keeps ${kept} per user for this app: ${since} since this one with the app's credentials, in another deployment or tool, end it)`;
}
