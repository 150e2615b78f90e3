import { listAccounts } from "@/lib/accounts";
import { userRoute } from "@/lib/route";

export const dynamic = "force-dynamic";

export const GET = userRoute(({ userId }) => listAccounts(userId));
