import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // PGlite, oidc-provider and the other dev/ parts never reach the app bundle.
  serverExternalPackages: ["@prisma/client", "@prisma/adapter-neon"],
  poweredByHeader: false,
};

export default nextConfig;
