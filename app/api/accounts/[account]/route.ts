import { disconnect } from "@/lib/accounts";
import { otherMethods } from "@/lib/methods";
import { userRoute } from "@/lib/route";

export const DELETE = userRoute<{ account: string }>(({ userId, params }) => disconnect(userId, params.account));
export const { GET, HEAD, POST, PUT, PATCH } = otherMethods("DELETE");
