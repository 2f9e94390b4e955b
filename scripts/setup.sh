#!/usr/bin/env bash
# Installs every build, test and data dependency of sharelab from Debian's packages, then builds the
# default corpus from Debian packages too (scripts/corpus/fetch_default.sh). No npm, no network
# beyond Debian's mirror. Idempotent: re-running it installs nothing new and exits 0.
set -euo pipefail

PKGS=(
  build-essential cmake ccache pkg-config git
  libtorch-dev libopenblas0-openmp libdnnl-dev
  libhdf5-dev libboost-program-options-dev libfmt-dev libsqlite3-dev sqlite3
  doctest-dev libtomlplusplus-dev libsentencepiece-dev sentencepiece libgloo-dev nlohmann-json3-dev
  gnuplot-nox chromium   # chromium: the report test opens the HTML page headless
  clang libclang-rt-14-dev   # make fuzz (libFuzzer) and make sanitize
  python3 python3-torch python3-h5py python3-numpy python3-sentencepiece
)

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

# The default corpus for `runner data prepare --mix configs/data/default.toml` (configs/data/README.md).
bash "$(dirname "$0")/corpus/fetch_default.sh"

# The pinned PyPI tools that check our HF and GGUF exports (transformers, gguf; scripts/setup_interop.sh).
bash "$(dirname "$0")/setup_interop.sh"
