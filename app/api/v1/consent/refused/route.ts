import { otherMethods } from "@/lib/methods";
import { consentRefusedPage } from "@/lib/consent-flow";

export const dynamic = "force-dynamic";
export const GET = consentRefusedPage;
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
