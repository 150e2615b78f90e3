import { otherMethods } from "@/lib/methods";
import { serveV1 } from "@/lib/api-v1/routes";

export const dynamic = "force-dynamic";
export const POST = serveV1;
export const { GET, HEAD, PUT, PATCH, DELETE } = otherMethods("POST");
