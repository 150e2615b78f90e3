import { otherMethods } from "@/lib/methods";
import { openConsentLink } from "@/lib/consent-flow";

// A person's browser opens this (a reconnect or more-access link), not a service.
export const dynamic = "force-dynamic";
export const GET = openConsentLink;
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
