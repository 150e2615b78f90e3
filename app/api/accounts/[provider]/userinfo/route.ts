import { callUserinfo } from "@/lib/account-actions";
import { userRoute } from "@/lib/route";

export const dynamic = "force-dynamic";

export const GET = userRoute<{ provider: string }>(async ({ userId, params }) => ({
  provider: params.provider,
  userinfo: await callUserinfo(userId, params.provider),
}));
