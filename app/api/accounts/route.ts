import { listAccounts } from "@/lib/accounts";
import { otherMethods } from "@/lib/methods";
import { userRoute } from "@/lib/route";

export const dynamic = "force-dynamic";

export const GET = userRoute(({ userId }) => listAccounts(userId));
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
