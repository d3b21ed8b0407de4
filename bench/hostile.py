"""The hostile corpora in full (over 1,000 inputs) through real nginx, gunicorn, Postgres and a Celery
worker, and issue 12's report: requests sent, refused with a 4xx by status, 5xx, crashes, peak memory.

    python bench/hostile.py                  # all of it (several minutes on two cores)
    python bench/hostile.py --share 0.2      # what the suite sends
    python bench/hostile.py --seed 7         # another draw of the generated inputs

It runs tests/integration/test_hostile_requests.py, whose fixtures start the stack on the test database
(DATABASE_URL, CELERY_BROKER_URL as for `make test`; nginx from `make browser`), and prints its report.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[1]
TEST = "tests/integration/test_hostile_requests.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--share", type=float, default=1.0, help="part of each family to send (1: all)")
    parser.add_argument("--seed", type=int, default=12, help="seed of the generated inputs")
    args = parser.parse_args()
    env = {**os.environ, "FORENSICS_HOSTILE_SHARE": str(args.share), "FORENSICS_HOSTILE_SEED": str(args.seed)}
    command = [sys.executable, "-m", "pytest", TEST, "-q", "-s"]
    return subprocess.run(command, cwd=REPO_DIR, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
