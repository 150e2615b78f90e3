import "server-only";
import { tokenkeeper } from "../tokenkeeper";
import type { AccountOptions } from "./engine";

export { ReauthRequiredError, ProviderUnavailableError } from "../errors";

/**
 * A valid access token for the user at the provider, refreshed if needed. Where the
 * user linked several accounts there, name one: `{ accountId }` (else 409
 * ambiguous_account).
 */
export function getAccessToken(userId: string, provider: string, options?: AccountOptions): Promise<string> {
  return tokenkeeper().engine.getAccessToken(userId, provider, options);
}
