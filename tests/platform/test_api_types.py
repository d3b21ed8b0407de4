"""The dashboard's API types are generated from the schema the API serves, and kept current."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_path

REPO_DIR = Path(__file__).resolve().parents[2]
GENERATED = REPO_DIR / "frontend" / "src" / "api" / "schema.gen.ts"


def test_the_dashboards_api_types_match_the_current_openapi_schema(tmp_path):
    require_path(REPO_DIR / "frontend" / "node_modules" / ".bin" / "openapi-typescript", "openapi-typescript (npm ci)")
    fresh = tmp_path / "schema.gen.ts"
    subprocess.run(
        ["bash", str(REPO_DIR / "deploy/scripts/api-types.sh"), str(fresh)],
        env={**os.environ, "PYTHON": sys.executable},
        check=True,
        timeout=900,
    )
    assert fresh.read_text() == GENERATED.read_text(), (
        "frontend/src/api/schema.gen.ts is stale: a serializer changed; run `make api-types` and commit it"
    )
