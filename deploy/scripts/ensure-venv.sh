#!/usr/bin/env bash
# Create or reuse the virtual environment: reinstall only when a requirements file changed
# (requirements.txt includes requirements/*.txt, so all of them are hashed).
set -euo pipefail
venv=${1:-.venv}
root=$(cd "$(dirname "$0")/../.." && pwd)
want=$(cd "$root" && sha256sum requirements.txt requirements/*.txt | sha256sum | cut -d' ' -f1)
stamp="$venv/.requirements.sha256"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing requirements into $venv (a few minutes the first time; pip's cache is kept)"
  # pip's find-links/extra-index settings on these machines emit one warning per package: hide those.
  "$venv/bin/pip" install -q -r "$root/requirements.txt" 2> >(grep -v "^WARNING: Location" >&2)
  # facenet-pytorch pins an old torch/numpy/Pillow; its MTCNN works with ours, so skip its pins.
  "$venv/bin/pip" install -q --no-deps facenet-pytorch==2.6.0 2> >(grep -v "^WARNING: Location" >&2)
  echo "$want" > "$stamp"
fi
# platform/ holds the Django apps but is not a package (it would shadow the stdlib `platform`):
# put it and the repository root on sys.path for every entry point, once, through a .pth file.
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf '%s\n%s\n' "$root/platform" "$root" > "$site/forensics.pth"
