import { callUserinfo } from "@/lib/accounts";
import { otherMethods } from "@/lib/methods";
import { userRoute } from "@/lib/route";

export const dynamic = "force-dynamic";

export const GET = userRoute<{ account: string }>(({ userId, params }) => callUserinfo(userId, params.account));
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
