import "server-only";
import { neonConfig } from "@neondatabase/serverless";
import { PrismaNeonHttp } from "@prisma/adapter-neon";
import { PrismaClient } from "./generated/client";

export type Db = PrismaClient;

/**
 * A Prisma client over Neon's HTTP driver: the only way this app reaches Postgres.
 * `localEndpoint` (NEON_LOCAL_ENDPOINT) is where the driver posts instead of Neon;
 * only the dev stack and the operations commands set it, in front of a database
 * that is not Neon. Unset, the driver talks to Neon itself.
 */
export function createDb(databaseUrl: string, localEndpoint?: string): Db {
  // neonConfig is global to the driver; one process talks to one database.
  if (localEndpoint) neonConfig.fetchEndpoint = localEndpoint;
  return new PrismaClient({ adapter: new PrismaNeonHttp(databaseUrl, {}) });
}
