import { afterAll, beforeAll } from "vitest";
import { conformanceSuite } from "../support/conformance";
import { startTestStack, type TestStack } from "../../testkit/stack";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack("postgres");
});
afterAll(() => stack?.stop());

conformanceSuite(() => ({ databaseUrl: stack.env.DATABASE_URL!, endpointUrl: stack.env.NEON_LOCAL_ENDPOINT!, wireUrl: stack.env.DATABASE_URL! }));
