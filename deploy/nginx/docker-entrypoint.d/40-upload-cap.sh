#!/bin/sh
# Derive nginx's body cap on the upload route from the API's upload cap, before nginx starts.
# Written as upload-cap.inc (not *.conf, which the image includes for the whole http block): only
# the upload location includes it; every other route keeps the server's 1 MiB.
# The multipart body around the file (boundaries, the case and frames fields) adds a few hundred
# bytes: 1 MiB of slack lets a file of exactly FORENSICS_MAX_UPLOAD_BYTES reach Django, which
# refuses anything larger with its own JSON error. nginx can do no arithmetic, so it is done here.
set -eu
max_upload_bytes="${FORENSICS_MAX_UPLOAD_BYTES:?FORENSICS_MAX_UPLOAD_BYTES must be set}"
case "$max_upload_bytes" in
  ''|*[!0-9]*) echo "FORENSICS_MAX_UPLOAD_BYTES must be a number of bytes, got '$max_upload_bytes'" >&2; exit 1 ;;
esac
conf_dir="${NGINX_CONF_DIR:-/etc/nginx/conf.d}"
printf 'client_max_body_size %s;\n' "$((max_upload_bytes + 1048576))" > "$conf_dir/upload-cap.inc"
