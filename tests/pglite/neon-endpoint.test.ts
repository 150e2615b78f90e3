import { afterAll, beforeAll } from "vitest";
import { conformanceSuite } from "../support/conformance";
import { startTestStack, type TestStack } from "../../testkit/stack";

// PGlite has no wire server here, so values are checked against what pg-types
// yields; the postgres suite runs the same cases against pg over the wire too.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack("pglite");
});
afterAll(() => stack?.stop());

conformanceSuite(() => ({ databaseUrl: stack.env.DATABASE_URL!, endpointUrl: stack.env.NEON_LOCAL_ENDPOINT! }));
