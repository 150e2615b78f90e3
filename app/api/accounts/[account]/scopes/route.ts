import { appOrigin, requestMoreScopes } from "@/lib/account-actions";
import { badRequest } from "@/lib/errors";
import { userRoute } from "@/lib/route";

const MAX_BODY_BYTES = 16 * 1024;

export const POST = userRoute<{ account: string }>(async ({ userId, params, request }) => {
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) throw badRequest(`the body is limited to ${MAX_BODY_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest('the body must be JSON: {"scopes": ["…"]}');
  }
  return requestMoreScopes(userId, params.account, body, appOrigin(request));
});
