import { serveV1 } from "@/lib/api-v1/routes";

export const dynamic = "force-dynamic";
export const GET = serveV1;
