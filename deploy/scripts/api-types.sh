#!/usr/bin/env bash
# Regenerate the dashboard's API types from the OpenAPI schema the API serves (drf-spectacular →
# openapi-typescript): `make api-types`. tests/platform/test_api_types.py fails when they are stale.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/frontend/src/api/schema.gen.ts}
python=${PYTHON:-$root/.venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && "$python" manage.py spectacular --settings=config.settings.test --format openapi-json --file "$tmp/openapi.json")
(cd "$root/frontend" && node_modules/.bin/openapi-typescript "$tmp/openapi.json" --output "$out" >/dev/null)
