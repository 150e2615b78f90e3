#!/usr/bin/env bash
# Builds what Vercel would deploy, offline: the project's pinned Vercel CLI
# (dev/vercel-cli.sh), a local project file instead of `vercel link`, removed again
# afterwards (left behind, it would link the checkout and send `vercel dev` online).
# Like a deployment, it migrates the database DATABASE_URL names (vercel-build runs
# db:migrate, which refuses to run on Vercel without one).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL must name a Postgres database for the build to migrate, as on Vercel}"
cli="$(bash dev/vercel-cli.sh)"
mkdir -p .vercel
if [ ! -f .vercel/project.json ]; then
  echo '{"projectId":"prj_tokenkeeper_ci","orgId":"team_tokenkeeper_ci","settings":{"framework":"nextjs"}}' > .vercel/project.json
  trap 'rm -f .vercel/project.json' EXIT
fi
VERCEL_TELEMETRY_DISABLED=1 "$cli" build --yes
