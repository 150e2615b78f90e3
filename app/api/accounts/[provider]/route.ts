import { disconnect } from "@/lib/account-actions";
import { userRoute } from "@/lib/route";

export const DELETE = userRoute<{ provider: string }>(({ userId, params }) => disconnect(userId, params.provider));
