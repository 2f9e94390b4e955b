#!/usr/bin/env bash
# The default corpus (configs/data/default.toml, described in configs/data/README.md): English prose
# from three Debian packages, downloaded (not installed: no R, no kernel docs on the system) and
# turned into plain-text files by debian_corpus.py. Idempotent: skipped when the corpus is present.
# Usage: fetch_default.sh [OUT_DIR]   (default: third_party/corpus/debian in the repository)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/third_party/corpus/debian}"

# The R packages' versions are pinned (Debian 12 ships exactly these). linux-doc-6.1 follows the
# bookworm kernel's point releases, whose documentation barely changes; the version used is
# recorded in SOURCES.tsv and in every prepared manifest's file list.
PKGS=(r-cran-janeaustenr=1.0.0-1 r-cran-tokenizers=0.3.0-1 linux-doc-6.1)

if [ -f "$OUT/SOURCES.tsv" ]; then
  echo "setup: default corpus present in $OUT"
  exit 0
fi
# Never replace a folder this script did not make.
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ]; then
  echo "fetch_default.sh: $OUT exists, is not empty and holds no SOURCES.tsv: choose another folder" >&2
  exit 2
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
echo "setup: building the default corpus from Debian packages (${PKGS[*]}) into $OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP" "$OUT.tmp-$$"' EXIT
# apt downloads as its sandbox user where that user can write the folder.
chown _apt "$TMP" 2>/dev/null || true
(cd "$TMP" && apt-get download -qq "${PKGS[@]}") || {
  $SUDO apt-get update -qq && (cd "$TMP" && apt-get download -qq "${PKGS[@]}")
}
mkdir -p "$(dirname "$OUT")"
python3 "$ROOT/scripts/corpus/debian_corpus.py" "$OUT.tmp-$$" "$TMP"/*.deb
rm -rf "$OUT"
mv "$OUT.tmp-$$" "$OUT"
