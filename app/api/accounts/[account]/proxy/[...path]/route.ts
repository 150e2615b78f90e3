import { resolveAccount } from "@/lib/account-actions";
import { badRequest } from "@/lib/errors";
import { proxyToProvider, readLimitedBody } from "@/lib/proxy";
import { takeProxyCall } from "@/lib/rate-limit";
import { userRoute } from "@/lib/route";
import { tokenEngine } from "@/lib/tokens";

export const dynamic = "force-dynamic";

// Every method, to the provider's API as the user, within the user's proxy rate. The
// path is taken from the URL as the client encoded it (not Next's decoded segments),
// so an encoded escape is seen.
const handler = userRoute<{ account: string }>(async ({ userId, params, request }) => {
  const url = new URL(request.url);
  const rawPath = /^\/api\/accounts\/[^/]+\/proxy\/(.*)$/.exec(url.pathname)?.[1];
  if (!rawPath) throw badRequest("name an API path after /proxy/");
  takeProxyCall(userId);
  const { row, spec } = await resolveAccount(userId, params.account);
  const body = ["GET", "HEAD"].includes(request.method) ? null : await readLimitedBody(request);
  return proxyToProvider(tokenEngine(), spec, userId, row, rawPath, { method: request.method, headers: request.headers, body, search: url.search });
});

export { handler as DELETE, handler as GET, handler as HEAD, handler as OPTIONS, handler as PATCH, handler as POST, handler as PUT };
