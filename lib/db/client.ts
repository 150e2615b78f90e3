import "server-only";
import { neonConfig } from "@neondatabase/serverless";
import { PrismaNeonHttp } from "@prisma/adapter-neon";
import { env } from "../env";
import { localFetchEndpoint } from "./endpoint";
import { PrismaClient } from "./generated/client";

export type Db = PrismaClient;

/** A Prisma client over Neon's HTTP driver: the only way this app reaches Postgres. */
export function createDb(databaseUrl: string, localEndpoint?: string): Db {
  const endpoint = localFetchEndpoint(databaseUrl, localEndpoint);
  // neonConfig is global to the driver; one app talks to one database.
  if (endpoint) neonConfig.fetchEndpoint = endpoint;
  return new PrismaClient({ adapter: new PrismaNeonHttp(databaseUrl, {}) });
}

// One client per process: Next's dev reloads re-evaluate modules, globalThis survives.
const globalForDb = globalThis as unknown as { tokenkeeperDb?: Db };

export function db(): Db {
  globalForDb.tokenkeeperDb ??= createDb(env().DATABASE_URL, env().NEON_LOCAL_ENDPOINT);
  return globalForDb.tokenkeeperDb;
}
