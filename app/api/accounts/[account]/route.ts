import { disconnect } from "@/lib/account-actions";
import { userRoute } from "@/lib/route";

export const DELETE = userRoute<{ account: string }>(({ userId, params }) => disconnect(userId, params.account));
