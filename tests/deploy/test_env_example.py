""".env.example lists every setting the code reads and every variable the compose file uses, with its default."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from tests.deploy.conftest import ENV_EXAMPLE, REPO_DIR, REQUIRED_SECRETS, run_compose

# `setting("NAME", ...)` in platform/ (config.env), and FORENSICS_* read straight from os.environ elsewhere.
SETTING_RE = re.compile(r"""\bsetting\(\s*["']([A-Z][A-Z0-9_]*)["']""")
ENVIRON_RE = re.compile(r"""os\.environ(?:\.get\(|\[)\s*["']((?:FORENSICS|DJANGO|CELERY)_[A-Z0-9_]*)["']""")
LINE_RE = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=(.*)$")


def source_files() -> list[Path]:
    roots = [REPO_DIR / "platform", REPO_DIR / "workers", REPO_DIR / "detector"]
    return [p for root in roots for p in root.rglob("*.py") if "migrations" not in p.parts]


def names_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in source_files():
        text = path.read_text()
        names |= set(SETTING_RE.findall(text)) | set(ENVIRON_RE.findall(text))
    return names


def literal_setting_defaults() -> dict[str, set[str]]:
    """NAME -> the literal defaults its setting() calls give, spelled as they would be in an env file."""
    defaults: dict[str, set[str]] = {}
    for path in (REPO_DIR / "platform").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setting" and node.args):
                continue
            name = node.args[0].value
            default = next((k.value for k in node.keywords if k.arg == "default"), None)
            try:
                value = ast.literal_eval(default) if default is not None else None
            except ValueError:  # computed (a path under the data directory)
                continue
            if isinstance(value, bool):
                spelled = str(value).lower()
            elif isinstance(value, float) and value.is_integer():
                spelled = str(int(value))
            elif isinstance(value, list):
                spelled = ",".join(value)
            elif value is None:
                continue
            else:
                spelled = str(value)
            defaults.setdefault(name, set()).add(spelled)
    return defaults


def listed() -> dict[str, tuple[str, bool]]:
    """NAME -> (value, commented out?) for every NAME=value line of .env.example."""
    entries: dict[str, tuple[str, bool]] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = LINE_RE.match(line)
        if match:
            assert match.group(1) not in entries, f"{match.group(1)} is listed twice"
            entries[match.group(1)] = (match.group(2), line.startswith("#"))
    return entries


def compose_variables() -> dict:
    return json.loads(run_compose("config", "--variables", "--format", "json").stdout)


def test_the_scan_finds_the_settings_it_is_meant_to_find():
    names = names_read_by_the_code()
    assert {"DJANGO_SECRET_KEY", "CELERY_VISIBILITY_TIMEOUT_S", "FORENSICS_REAPER_INTERVAL_S"} <= names
    assert {"FORENSICS_DEVICE", "FORENSICS_FACE_BATCH", "DJANGO_CACHE_URL"} <= names


def test_every_setting_the_code_reads_is_in_env_example():
    missing = names_read_by_the_code() - set(listed()) - {"DJANGO_SETTINGS_MODULE"}
    assert not missing, f"add these to .env.example with their defaults: {sorted(missing)}"


def test_every_variable_the_compose_file_uses_is_in_env_example():
    missing = set(compose_variables()) - set(listed())
    assert not missing, f"add these to .env.example: {sorted(missing)}"


def test_defaults_in_env_example_are_the_ones_compose_and_the_code_apply():
    entries = listed()
    variables = compose_variables()
    code_defaults = literal_setting_defaults()
    checked = 0
    for name, (value, commented) in entries.items():
        # compose reports one of a variable's uses: "Required" may come from a use without the ":?".
        if name in variables and not variables[name]["Required"] and variables[name]["DefaultValue"]:
            # What the stack runs with: compose's default wins over the code's.
            assert commented and value == variables[name]["DefaultValue"], (name, value, variables[name])
            checked += 1
        elif name in code_defaults and name not in variables:
            assert commented and value in code_defaults[name], (name, value, code_defaults[name])
            checked += 1
    assert checked >= 25


def test_required_values_are_set_and_only_they_are_uncommented():
    entries = listed()
    required = {name for name, v in compose_variables().items() if v["Required"] or not v["DefaultValue"]}
    uncommented = {name for name, (value, commented) in entries.items() if not commented}
    secrets = set(REQUIRED_SECRETS)
    assert uncommented == required == secrets
    assert all(entries[name][0] for name in required)
