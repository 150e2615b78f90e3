#!/usr/bin/env bash
# Builds what Vercel would deploy, offline: the Vercel CLI (pinned: newer releases need
# a dependency the registry lacks) in a throwaway prefix, a local project file instead
# of `vercel link`. Like a deployment, it migrates the database DATABASE_URL names
# (vercel-build runs db:migrate, which refuses to run on Vercel without one).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL must name a Postgres database for the build to migrate, as on Vercel}"
cli="$(mktemp -d /tmp/vercel-cli.XXXXXX)"
npm install --silent --no-audit --no-fund --prefix "$cli" vercel@58.10.0 >/dev/null
mkdir -p .vercel
[ -f .vercel/project.json ] || echo '{"projectId":"prj_tokenkeeper_ci","orgId":"team_tokenkeeper_ci","settings":{"framework":"nextjs"}}' > .vercel/project.json
VERCEL_TELEMETRY_DISABLED=1 "$cli/node_modules/.bin/vercel" build --yes
