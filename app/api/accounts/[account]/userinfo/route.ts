import { callUserinfo } from "@/lib/account-actions";
import { userRoute } from "@/lib/route";

export const dynamic = "force-dynamic";

export const GET = userRoute<{ account: string }>(({ userId, params }) => callUserinfo(userId, params.account));
