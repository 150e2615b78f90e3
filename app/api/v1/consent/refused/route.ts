import { consentRefusedPage } from "@/lib/consent-flow";

export const dynamic = "force-dynamic";
export const GET = consentRefusedPage;
