import { proxyForUser } from "@/lib/provider-proxy";
import { userRoute } from "@/lib/route";

export const dynamic = "force-dynamic";

// Every method, to the provider's API as the user.
const handler = userRoute<{ account: string }>(({ userId, params, request }) => proxyForUser(userId, params.account, request));

export { handler as DELETE, handler as GET, handler as HEAD, handler as OPTIONS, handler as PATCH, handler as POST, handler as PUT };
