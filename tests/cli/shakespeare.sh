# Sourced by the CLI tests that train on tiny-shakespeare bytes (after RUNNER and WORK are set):
# SRC (the checkout), TEXT (exit 77, skipped, without ../shared beside it), a fresh WORK as the
# current folder; `shakespeare_rows N`: N rows of 65 byte ids (seq_len 64, vocab 256) from the start
# of the play as Amber jsonl (rows.jsonl) and its data mix (mix.toml); `shakespeare_data N`: those,
# prepared into ./data.
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TEXT="$SRC/../shared/data/tinyshakespeare/input.txt"
[ -f "$TEXT" ] || { echo "SKIP: $TEXT not found (shared/ is not beside the checkout)"; exit 77; }
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK"

shakespeare_rows() {
  /usr/bin/python3 - "$TEXT" "$1" > rows.jsonl <<'PY'
import json, sys
n = int(sys.argv[2])
b = open(sys.argv[1], 'rb').read(n * 65)
for r in range(n):
    print(json.dumps({"token_ids": list(b[r * 65:(r + 1) * 65]), "source": "shakespeare"}))
PY
  printf '[mix]\nseq_len = 64\nval_fraction = 0.1\nvocab_size = 256\n\n[[source]]\nname = "s"\npath = "rows.jsonl"\nreader = "amber-jsonl"\n' > mix.toml
}

shakespeare_data() {
  shakespeare_rows "$1"
  "$RUNNER" data prepare --mix mix.toml --out data --no-progress > /dev/null
}
