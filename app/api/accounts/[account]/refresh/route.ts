import { refreshNow } from "@/lib/accounts";
import { otherMethods } from "@/lib/methods";
import { userRoute } from "@/lib/route";

export const POST = userRoute<{ account: string }>(async ({ userId, params }) => ({ account: await refreshNow(userId, params.account) }));
export const { GET, HEAD, PUT, PATCH, DELETE } = otherMethods("POST");
