import { getToken } from "next-auth/jwt";

// The edge gate's whole job: is there a valid Auth.js session cookie? Decrypting
// that one JWE with Auth.js's own decoder costs a fraction of NextAuth(config).auth
// (see the edge benchmark). A tampered, expired or foreign-secret cookie decodes to
// null: signed out, never an error.

export async function hasSession(request: Request, secret: string | string[]): Promise<boolean> {
  const secureCookie = new URL(request.url).protocol === "https:";
  const token = await getToken({ req: request, secret, secureCookie, logger: { error: () => {}, warn: () => {}, debug: () => {} } as never });
  return typeof token?.sub === "string";
}

/**
 * The session secrets exactly as Auth.js collects them (@auth/core setEnvDefaults):
 * AUTH_SECRET_1..3 (rotation) before AUTH_SECRET, so both sides accept the same cookies.
 */
export function sessionSecrets(env: Record<string, string | undefined>): string[] {
  const secrets = [env.AUTH_SECRET_3, env.AUTH_SECRET_2, env.AUTH_SECRET_1, env.AUTH_SECRET].filter((s): s is string => Boolean(s));
  if (secrets.length === 0) throw new Error("AUTH_SECRET is not set: the middleware cannot check sessions.");
  return secrets;
}
