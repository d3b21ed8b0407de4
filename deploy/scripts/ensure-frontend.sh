#!/usr/bin/env bash
# Build the dashboard into frontend/dist unless the sources are unchanged since the last build.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/frontend"
if [ ! -f package.json ]; then
  echo "frontend/package.json missing: nothing to build"; exit 0
fi
# Only the inputs that exist: a missing optional folder (public/) must not fail the build under pipefail.
inputs=()
for p in src public index.html package.json package-lock.json vite.config.* tsconfig*.json; do
  [ -e "$p" ] && inputs+=("$p")
done
want=$(find "${inputs[@]}" -type f | sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
stamp=dist/.build.sha256
if [ -f dist/index.html ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
lock_want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.lock.sha256 2>/dev/null)" != "$lock_want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_want" > node_modules/.lock.sha256
fi
npm run build --silent
echo "$want" > "$stamp"
