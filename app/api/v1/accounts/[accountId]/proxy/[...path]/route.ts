import { serveV1 } from "@/lib/api-v1/routes";

export const dynamic = "force-dynamic";
export { serveV1 as DELETE, serveV1 as GET, serveV1 as HEAD, serveV1 as OPTIONS, serveV1 as PATCH, serveV1 as POST, serveV1 as PUT };
