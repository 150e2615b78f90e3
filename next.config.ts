import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // One copy of the Neon driver: lib/db sets neonConfig.fetchEndpoint on the same
  // module instance that @prisma/adapter-neon uses.
  serverExternalPackages: ["@prisma/client", "@prisma/adapter-neon", "@neondatabase/serverless"],
  poweredByHeader: false,
  // Every answer of the app: never framed (clickjacking), no URL leaked to other sites
  // in Referer, nothing sniffed. No Content-Security-Policy here: a header set here
  // replaces the one a route sets, and the proxy's answers carry their own sandbox
  // (lib/provider-proxy.ts).
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "X-Content-Type-Options", value: "nosniff" },
        ],
      },
    ];
  },
  experimental: {
    // A build interrupted by Ctrl-C left Turbopack's persistent build cache in a state
    // where every later `next build` panicked ("ModuleGraph::from_graphs_inner was
    // canceled"): `npm start` builds from scratch instead (about 20 s here).
    turbopackFileSystemCacheForBuild: false,
  },
};

export default nextConfig;
