import { z } from "zod";
import { API_KEY_SCOPES } from "../api-keys";
import { components } from "./schemas";
import type { V1Route } from "./routes";

// The OpenAPI 3.1 document of /api/v1, generated from the route table and its zod
// schemas (zod's JSON Schema output, draft 2020-12, which OpenAPI 3.1 uses): nothing
// in it is written by hand but the titles.

const REF = (id: string) => `#/components/schemas/${id}`;

/** A schema as JSON Schema, the named components referred to, not repeated. */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _dialect, $defs: _named, ...rest } = z.toJSONSchema(schema, { io, metadata: components, unrepresentable: "any" }) as Record<string, unknown>;
  return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', `"${REF("")}`)) as Record<string, unknown>;
}

/** The parameters of one `in` place, from a zod object's fields. */
function parameters(schema: z.ZodObject | undefined, place: "path" | "query") {
  if (!schema) return [];
  const required = new Set((jsonSchema(schema, "input").required as string[] | undefined) ?? []);
  return Object.entries(schema.shape).map(([name, field]) => {
    // A field's output side: a number read from decimal digits (lib/params.ts) is described as the integer it is, with its default.
    const { description, ...fieldSchema } = jsonSchema(field as z.ZodType, "output");
    return { name, in: place, required: place === "path" || required.has(name), ...(description ? { description } : {}), schema: fieldSchema };
  });
}

const ERRORS = {
  400: "invalid_request: a parameter is unknown, malformed or out of range (numbers are plain decimal digits); the message names it",
  401: "no API key, or an unknown or revoked one",
  403: "the key lacks the route's scope",
  404: "not_found: no such user or account (the message says which)",
  409: "reauth_required: the user must reconnect (the message says why)",
  429: "rate_limited: the key's rate, or on the proxy the account owner's proxy rate (Retry-After)",
  503: "the provider is unavailable (Retry-After)",
};

export function openApiDocument(routes: V1Route[], serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const errorResponses = Object.fromEntries(Object.entries(ERRORS).map(([status, description]) => [status, { description, content: { "application/json": { schema: { $ref: REF("Error") } } } }]));
    const operation = {
      operationId: route.operationId,
      summary: route.summary,
      security: [{ apiKey: [route.scope] }],
      "x-tokenkeeper-scope": route.scope,
      parameters: [...parameters(route.params, "path"), ...parameters(route.query, "query")],
      responses: {
        200: route.response ? { description: "OK", content: { "application/json": { schema: jsonSchema(route.response, "output") } } } : { description: "the provider API's answer, passed through" },
        ...errorResponses,
      },
    };
    const methods = route.method === "ANY" ? ["get", "post", "put", "patch", "delete"] : [route.method.toLowerCase()];
    paths[route.path] ??= {};
    for (const method of methods) paths[route.path]![method] = { ...operation, operationId: route.method === "ANY" ? `${route.operationId}_${method}` : route.operationId };
  }
  const schemas = (z.toJSONSchema(components, { uri: REF, io: "output" }) as { schemas: Record<string, Record<string, unknown>> }).schemas;
  for (const schema of Object.values(schemas)) delete schema.$schema;
  return {
    openapi: "3.1.0",
    info: {
      title: "Tokenkeeper service API",
      version: "1",
      description: `For the app's other services. Authorization: Bearer <API key> (npm run keys:create); scopes: ${API_KEY_SCOPES.join(", ")}. Any other path under /api answers 404 with the Error body (error "not_found"), whatever the method.`,
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths,
    components: { schemas, securitySchemes: { apiKey: { type: "http", scheme: "bearer", bearerFormat: "tk_live_…", description: "A Tokenkeeper API key" } } },
  };
}
