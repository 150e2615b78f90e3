import { listAccounts } from "@/lib/account-actions";
import { userRoute } from "@/lib/route";

export const dynamic = "force-dynamic";

export const GET = userRoute(({ userId }) => listAccounts(userId));
