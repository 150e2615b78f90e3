#!/usr/bin/env bash
# Builds what Vercel would deploy, offline: the Vercel CLI (pinned, per PLATFORM.md)
# in a throwaway prefix, a local project file instead of `vercel link`.
set -euo pipefail
cd "$(dirname "$0")/.."
cli="$(mktemp -d /tmp/vercel-cli.XXXXXX)"
npm install --silent --no-audit --no-fund --prefix "$cli" vercel@58.10.0 >/dev/null
mkdir -p .vercel
[ -f .vercel/project.json ] || echo '{"projectId":"prj_tokenkeeper_ci","orgId":"team_tokenkeeper_ci","settings":{"framework":"nextjs"}}' > .vercel/project.json
VERCEL_TELEMETRY_DISABLED=1 "$cli/node_modules/.bin/vercel" build --yes
