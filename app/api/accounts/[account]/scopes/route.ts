import { appOrigin, requestMoreScopes } from "@/lib/accounts";
import { invalidRequest } from "@/lib/errors";
import { otherMethods } from "@/lib/methods";
import { readLimitedBody } from "@/lib/provider-proxy";
import { userRoute } from "@/lib/route";

const MAX_BODY_BYTES = 16 * 1024;

export const POST = userRoute<{ account: string }>(async ({ userId, params, request }) => {
  // Counted in bytes as they arrive: 413 before a large body is read whole.
  const bytes = await readLimitedBody(request, MAX_BODY_BYTES);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes ?? new ArrayBuffer(0)));
  } catch {
    throw invalidRequest('the body must be JSON: {"scopes": ["…"]}');
  }
  return requestMoreScopes(userId, params.account, body, appOrigin(request));
});
export const { GET, HEAD, PUT, PATCH, DELETE } = otherMethods("POST");
