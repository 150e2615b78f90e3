import { refreshNow } from "@/lib/account-actions";
import { userRoute } from "@/lib/route";

export const POST = userRoute<{ account: string }>(async ({ userId, params }) => ({ account: await refreshNow(userId, params.account) }));
