#!/usr/bin/env bash
# pip_pinned.sh NAME REQUIREMENTS DEST: installs exactly the pins of REQUIREMENTS (--no-deps) into
# the folder DEST, through DEST.tmp renamed into place, and stamps DEST with the file it came from.
# pip keeps the wheels in its cache, so a re-install after `rm -rf DEST` downloads nothing.
# Idempotent: exits at once when DEST already holds these pins. Used by setup_torch2.sh and
# setup_interop.sh. PYTHON: the interpreter (python3).
set -euo pipefail
NAME=$1 REQ=$2 DEST=$3
STAMP=$DEST/.installed-from
if [ -f "$STAMP" ] && cmp -s "$STAMP" "$REQ"; then
  echo "$NAME: $DEST matches $REQ"
  exit 0
fi
PY=${PYTHON:-python3}
"$PY" -m pip --version >/dev/null 2>&1 || { echo "$NAME: $PY has no pip (apt-get install python3-pip)" >&2; exit 1; }
rm -rf "$DEST.tmp"
echo "$NAME: installing $(grep -c '^[a-zA-Z]' "$REQ") pinned packages into $DEST"
PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install --quiet --disable-pip-version-check --no-deps \
  --target "$DEST.tmp" -r "$REQ"
cp "$REQ" "$DEST.tmp/.installed-from"
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
