// The comparison: Auth.js's own middleware wrapper around the edge-safe config,
// as STYLE.md's reference apps use it.
import NextAuth from "next-auth";
import { authConfig } from "../../auth.config";

export const middleware = NextAuth(authConfig).auth;
