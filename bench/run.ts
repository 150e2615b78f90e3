// `npm run bench`: prints the figures quoted in the issue notes (`-- tokens`, `-- edge`,
// `-- service-api` or `-- scale` for one part). Uses the PostgreSQL server named by TEST_POSTGRES_URL
// when set, else embedded PGlite.
import { benchEdge } from "./edge";
import { benchScale } from "./scale";
import { benchServiceApi } from "./service-api";
import { benchTokens } from "./tokens";

process.env.TOKENKEEPER_LOG_LEVEL = "warn";
const only = process.argv[2];
if (!only || only === "tokens") await benchTokens();
if (!only || only === "edge") await benchEdge();
if (!only || only === "service-api") await benchServiceApi();
// The million-account figures (#13): run on their own, `npm run bench -- scale`.
if (only === "scale") await benchScale();
process.exit(0);
