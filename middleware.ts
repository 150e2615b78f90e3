import NextAuth from "next-auth";
import { authConfig } from "./auth.config";

// Edge runtime: checks the JWT session cookie only (auth.config.ts, no database).
export default NextAuth(authConfig).auth;

export const config = {
  // Never for Auth.js itself, the cron route or static assets.
  matcher: ["/dashboard/:path*", "/api/accounts/:path*"],
};
