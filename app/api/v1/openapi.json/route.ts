import { otherMethods } from "@/lib/methods";
import { appOrigin } from "@/lib/accounts";
import { openApiDocument } from "@/lib/api-v1/openapi";
import { V1_ROUTES } from "@/lib/api-v1/routes";

// Public, like any API's description: it holds no secret.
export const GET = (request: Request) => Response.json(openApiDocument(V1_ROUTES, appOrigin(request)));
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
