import { otherMethods } from "@/lib/methods";
import { serveV1 } from "@/lib/api-v1/routes";

export const dynamic = "force-dynamic";
export const GET = serveV1;
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
