#!/usr/bin/env bash
# The one Vercel CLI of this project, for CI's offline `vercel build` and for
# `npm run vercel-dev`: a pinned version (newer releases need a package the npm
# registry lacks), installed on first use into node_modules/.cache/vercel-cli. It is
# ~250 MB, so it stays out of `npm ci`; that folder is git-ignored and a fresh
# `npm ci` clears it with the rest of node_modules. Prints the path of the binary.
set -euo pipefail
version=58.10.0
dir="$(cd "$(dirname "$0")/.." && pwd)/node_modules/.cache/vercel-cli"
bin="$dir/node_modules/.bin/vercel"
installed="$(node -p "require('$dir/node_modules/vercel/package.json').version" 2>/dev/null || true)"
if [ "$installed" != "$version" ]; then
  echo "installing vercel@$version into $dir (once)…" >&2
  # Into a fresh folder first, so an interrupted install never looks finished.
  tmp="$(mktemp -d "$dir.XXXXXX" 2>/dev/null || { mkdir -p "$(dirname "$dir")"; mktemp -d "$dir.XXXXXX"; })"
  # Nor does a failed one stay, up to ~250 MB a try (once moved, there is nothing to remove).
  trap 'rm -rf "$tmp"' EXIT
  npm install --silent --no-audit --no-fund --no-save --prefix "$tmp" "vercel@$version" >&2
  rm -rf "$dir"
  mv "$tmp" "$dir"
fi
echo "$bin"
