import { noSuchRoute } from "@/lib/methods";

// Every path under /api that no other route serves (Next matches this one last).
export const dynamic = "force-dynamic";
export { noSuchRoute as DELETE, noSuchRoute as GET, noSuchRoute as HEAD, noSuchRoute as OPTIONS, noSuchRoute as PATCH, noSuchRoute as POST, noSuchRoute as PUT };
