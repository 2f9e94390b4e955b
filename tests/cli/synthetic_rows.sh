# Sourced by the analysis CLI tests (after WORK is set): writes $WORK/rows.jsonl, 400 rows of 33 ids
# (seq_len 32) from a fixed integer recurrence x' = (5x + c) mod 256, c one of four increments per
# row, so the models have something to learn in four steps, and its data mix $WORK/mix.toml.
/usr/bin/python3 - > "$WORK/rows.jsonl" <<'PY'
import json
s = 12345
def rnd():
    global s
    s = (s * 6364136223846793005 + 1442695040888963407) % 2**64
    return s >> 33
for r in range(400):
    x, c, ids = rnd() % 256, 1 + 2 * (rnd() % 4), []
    for _ in range(33):
        ids.append(x)
        x = (5 * x + c) % 256
    print(json.dumps({"token_ids": ids, "source": "synthetic"}))
PY
printf '[mix]\nseq_len = 32\nval_fraction = 0.2\nvocab_size = 256\n\n[[source]]\nname = "s"\npath = "rows.jsonl"\nreader = "amber-jsonl"\n' \
  > "$WORK/mix.toml"
