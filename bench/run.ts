// `npm run bench`: prints the figures quoted in the issue notes. Uses the
// PostgreSQL server named by TEST_POSTGRES_URL when set, else embedded PGlite.
import { benchEdge } from "./edge";
import { benchTokens } from "./tokens";

process.env.TOKENKEEPER_LOG_LEVEL = "warn";
const only = process.argv[2];
if (!only || only === "tokens") await benchTokens();
if (!only || only === "edge") await benchEdge();
process.exit(0);
