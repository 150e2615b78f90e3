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

/** AUTH_SECRET may list several secrets (newest first) while one is being rotated. */
export function sessionSecrets(value: string | undefined): string | string[] {
  if (!value) throw new Error("AUTH_SECRET is not set: the middleware cannot check sessions.");
  const secrets = value.split(",").map((secret) => secret.trim()).filter(Boolean);
  return secrets.length === 1 ? secrets[0]! : secrets;
}
