import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // One copy of the Neon driver: lib/db sets neonConfig.fetchEndpoint on the same
  // module instance that @prisma/adapter-neon uses.
  serverExternalPackages: ["@prisma/client", "@prisma/adapter-neon", "@neondatabase/serverless"],
  poweredByHeader: false,
};

export default nextConfig;
