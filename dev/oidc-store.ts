// Storage for oidc-provider's models (grants, sessions, tokens). The library's own
// memory adapter is an LRU of 1000 entries, which silently drops grants under load
// and forgets everything on restart; this one keeps every entry until it expires
// and, given a file, persists them so a dev-stack restart keeps users' grants.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

type Payload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string };
type Entry = { payload: Payload; expiresAt?: number };

const now = () => Math.floor(Date.now() / 1000);

/** Returns the adapter class for oidc-provider and a flush() to call before exit. */
export function createOidcStore(file?: string) {
  const entries = new Map<string, Entry>(file && existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as [string, Entry][]) : []);
  // Writes are coalesced: a burst of token grants rewrites the file once.
  let pending: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(pending);
    pending = undefined;
    if (!file) return;
    for (const [key, entry] of entries) if (entry.expiresAt !== undefined && entry.expiresAt <= now()) entries.delete(key);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Grants and refresh tokens: readable by this user alone (chmod too: a mode applies only when a file is created).
    writeFileSync(`${file}.tmp`, JSON.stringify([...entries]), { mode: 0o600 });
    chmodSync(`${file}.tmp`, 0o600);
    renameSync(`${file}.tmp`, file); // never a half-written store
  };
  const persist = () => {
    if (file) pending ??= setTimeout(flush, 100);
  };
  const live = (key: string): Payload | undefined => {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.payload;
  };

  // The adapter contract of oidc-provider (lib/adapters/memory_adapter.js).
  class OidcStoreAdapter {
    constructor(private readonly model: string) {}
    private key(id: string) {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Payload, expiresIn?: number) {
      entries.set(this.key(id), { payload, expiresAt: expiresIn ? now() + expiresIn : undefined });
      persist();
    }
    async find(id: string) {
      return live(this.key(id));
    }
    private findBy(field: "uid" | "userCode", value: string) {
      for (const [key] of entries) {
        if (!key.startsWith(`${this.model}:`)) continue;
        const payload = live(key);
        if (payload?.[field] === value) return payload;
      }
      return undefined;
    }
    async findByUid(uid: string) {
      return this.findBy("uid", uid);
    }
    async findByUserCode(userCode: string) {
      return this.findBy("userCode", userCode);
    }
    async consume(id: string) {
      const payload = live(this.key(id));
      if (payload) payload.consumed = now();
      persist();
    }
    async destroy(id: string) {
      entries.delete(this.key(id));
      persist();
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(key);
      persist();
    }
  }
  return { Adapter: OidcStoreAdapter, flush };
}
