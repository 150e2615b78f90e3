import { otherMethods } from "@/lib/methods";
import { appOrigin, reconnectLink } from "@/lib/accounts";
import { userRoute } from "@/lib/route";

// The dashboard's "Reconnect": the same consent link a service gets from the v1 route.
export const POST = userRoute<{ account: string }>(({ userId, params, request }) => reconnectLink(userId, params.account, appOrigin(request)));
export const { GET, HEAD, PUT, PATCH, DELETE } = otherMethods("POST");
