import { handlers } from "@/auth";
import { otherMethods } from "@/lib/methods";

export const { GET, POST } = handlers;
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
