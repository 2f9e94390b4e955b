#!/usr/bin/env bash
# Bad inputs, table-driven: every case is a broken file or argument given to `runner` or `analysis`,
# and each must (1) exit 2, (2) print exactly one line on stderr, "runner: error: ..." (or
# "analysis: error: ..."), naming the file (or flag) and the field, key or line and what was expected
# (asserted on a distinctive substring), and (3) leave the work folder as it was: no file or
# folder created, changed or removed (size and mtime of every file, every folder's path) and the
# same row counts in the results database (no shard, checkpoint, database row, output folder).
# Families: sweep, data-mix and scale TOML; Amber jsonl and text corpora (data prepare); prepared
# shards and manifests; checkpoints; HF directories and safetensors headers; benchmark files; the
# sqlite database; the command line.
# Hermetic: every input is built here from synthetic rows and text (no corpus, no ../shared).
# Usage: bad_inputs.sh RUNNER ANALYSIS WORKDIR   (exit 0: all passed, 1: a case failed)
set -u
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
RUNNER=$(abs "$1")
ANALYSIS=$(abs "$2")
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
ROOT="$3"
PY=/usr/bin/python3
export OMP_NUM_THREADS=1  # a shared 2-core machine: one thread per process

# Immutable files (the read-only database case) must not outlive the test, nor block its clean-up.
unfreeze() { [ -d "$ROOT" ] && chattr -R -i "$ROOT" 2> /dev/null; true; }
unfreeze
rm -rf "$ROOT" && mkdir -p "$ROOT/w"
trap unfreeze EXIT
W="$ROOT/w"  # the work folder: every case runs here and is checked for changes
cd "$W" || exit 1

# --- Fixtures ------------------------------------------------------------------------------------
setup() { "$@" >> "$ROOT/setup.log" 2>&1 || { echo "FAIL: setup: $*"; tail -20 "$ROOT/setup.log"; exit 1; }; }
# shellcheck disable=SC2034  # WORK is read by synthetic_rows.sh
WORK="$W"
source "$SRC/tests/cli/synthetic_rows.sh"  # rows.jsonl (vocab 256, 33 ids a row) and mix.toml (seq_len 32)
setup "$RUNNER" data prepare --mix mix.toml --out data --no-progress
TRAIN=(--runs-dir runs --no-progress --set model.vocab_size=256 --set train.seq_len=32
       --set train.global_batch_tokens=512 --set train.micro_batch=4 --set train.tokens=1024
       --set train.val_batches=1 --set train.threads=1)
setup "$RUNNER" train debug --data data "${TRAIN[@]}" --db r.db
setup "$RUNNER" train debug --data data "${TRAIN[@]}" --db r.db --set model.scheme=shared-ffn --name shared
RUN_A=$(sqlite3 r.db "select run_id from runs where scheme = 'none'")    # debug, dense
RUN_B=$(sqlite3 r.db "select run_id from runs where scheme = 'shared-ffn'")
CKPT_A=runs/$RUN_A/$(cat "runs/$RUN_A/latest")
CKPT_B=runs/$RUN_B/$(cat "runs/$RUN_B/latest")
setup "$RUNNER" export "runs/$RUN_A" --out w.h5  # native weights of run A (debug, vocab 256)
# Text: a 16-word language, a tokenizer trained on it, and a model (random weights) exported with it.
$PY -c "
import random
r = random.Random(1)
w = 'the cat sat on a mat dog ran far away home bird sang song tree red'.split()
for i in range(300): print(' '.join(r.choice(w) for _ in range(20)) + '.')" > text.txt
setup "$RUNNER" data tokenizer --train --input text.txt --out tok.model --vocab-size 280
setup "$RUNNER" export debug --set vocab_size=280 --tokenizer tok.model --hf hf
# Benchmark files, as published: HellaSwag (rowanz jsonl), ARC-Easy/Challenge.
mkdir -p tasks/hellaswag tasks/arc
$PY - << 'PY'
import json
with open("tasks/hellaswag/hellaswag_val.jsonl", "w") as f:
    for i in range(3):
        f.write(json.dumps({"activity_label": "Cat", "ctx_a": "the cat sat", "ctx_b": "on the",
                            "endings": ["mat.", "dog.", "tree.", "song."], "label": i % 4}) + "\n")
for part in ("Easy", "Challenge"):
    with open(f"tasks/arc/ARC-{part}-Test.jsonl", "w") as f:
        for i in range(3):
            f.write(json.dumps({"id": f"q{i}", "question": {"stem": "the cat sat on the", "choices": [
                {"text": "mat", "label": "A"}, {"text": "dog", "label": "B"}]}, "answerKey": "A"}) + "\n")
PY
setup "$RUNNER" eval hf --tasks hellaswag,arc_easy,arc_challenge --tasks-dir tasks --db e0.db --threads 1 --no-progress
rm e0.db
# A sweep that would train (briefly) on the rows above; each sweep case breaks one thing in it.
sweep() {  # sweep FILE [TRAIN_EXTRA] [TOP_EXTRA]: the base sweep with a line added to [train] / the top
  cat > "$1" << EOF
${3:-}
[meta]
name = "bad"
[model]
preset = "debug"
vocab_size = 256
max_seq_len = 32
[train]
seq_len = 32
micro_batch = 4
global_batch_tokens = 512
tokens = 1024
threads = 1
val_batches = 1
${2:-}
[data]
dir = "data"
mix = "mix.toml"
[eval]
tasks = []
EOF
}
mkdir -p sweeps
sweep sweeps/ok.toml
setup "$RUNNER" --sweep sweeps/ok.toml --dry-run --db r.db
# Copies of good inputs that a case breaks, so that every case sees intact fixtures otherwise.
copy() { cp -a "$1" "$2"; }
safetensors_set() {  # FILE TENSOR FIELD JSON: one field of one header entry, the header length kept
  $PY - "$@" << 'PY'
import json, struct, sys
path, name, field, value = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
b = bytearray(open(path, "rb").read())
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
h[name][field] = value
text = json.dumps(h, separators=(",", ":")).encode()
assert len(text) <= n
b[8:8 + n] = text + b" " * (n - len(text))
open(path, "wb").write(b)
PY
}
json_set() {  # FILE PYTHON-STATEMENT on `j` (the parsed file), written back
  $PY - "$@" << 'PY'
import json, sys
path, stmt = sys.argv[1], sys.argv[2]
j = json.load(open(path))
exec(stmt)
open(path, "w").write(json.dumps(j, indent=2) + "\n")
PY
}

# --- The check -------------------------------------------------------------------------------------
passed=0
failed=0
skipped=0
DBS=(r.db)  # databases whose row counts are part of the snapshot
snapshot() {
  {
    find . -type d -printf 'dir %p\n'
    find . ! -type d -printf '%y %p %s %T@ %m\n'
    for db in "${DBS[@]}"; do
      echo "$db rows: $(sqlite3 "$db" 'select (select count(*) from runs), (select count(*) from scalars),
        (select count(*) from series), (select count(*) from evals), (select count(*) from profiles),
        (select group_concat(run_id || status, ",") from runs)' 2>&1)"
    done
  } | LC_ALL=C sort
}
# check ID PATTERN -- runner|analysis ARGS...: exit 2, one "<tool>: error:" line holding PATTERN, no change.
check() {
  local id="$1" pattern="$2"
  shift 3
  local tool="$1" exe
  shift
  case "$tool" in
    runner) exe="$RUNNER" ;;
    analysis) exe="$ANALYSIS" ;;
    *) echo "bad_inputs.sh: unknown tool '$tool'" >&2; exit 1 ;;
  esac
  snapshot > "$ROOT/before"
  timeout 120 "$exe" "$@" > "$ROOT/out" 2> "$ROOT/err"
  local rc=$?
  snapshot > "$ROOT/after"
  local why=() lines
  lines=$(wc -l < "$ROOT/err")
  [ "$rc" = 2 ] || why+=("exit $rc, want 2")
  if [ "$lines" != 1 ] || [ "$(tail -c 1 "$ROOT/err" | od -An -c | tr -d ' ')" != '\n' ]; then
    why+=("$lines lines on stderr, want 1")
  fi
  head -1 "$ROOT/err" | grep -q "^$tool: error: " || why+=("stderr does not start with '$tool: error: '")
  grep -qF -- "$pattern" "$ROOT/err" || why+=("stderr lacks '$pattern'")
  if ! cmp -s "$ROOT/before" "$ROOT/after"; then
    why+=("the work folder changed: $(diff "$ROOT/before" "$ROOT/after" | grep '^[<>]' | head -6 | tr '\n' ';')")
  fi
  if [ "${#why[@]}" = 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    local msg
    msg=$(IFS='|'; echo "${why[*]}")
    echo "FAIL [$id] $tool $*: ${msg//|/; }; stderr: $(head -c 600 "$ROOT/err" | tr '\n' '\\')"
  fi
}
skip() { skipped=$((skipped + 1)); echo "SKIP [$1] $2"; }

# --- Sweep TOML ---------------------------------------------------------------------------------------
sweep sweeps/syntax.toml 'lr = [1'
check sweep-syntax "sweeps/syntax.toml:16:1: TOML syntax error:" -- runner --sweep sweeps/syntax.toml --db r.db --results res
sweep sweeps/unknown_key.toml 'lrr = 1'
check sweep-unknown-key "sweeps/unknown_key.toml:15:1: train.lrr: unknown key (known: lr, min_lr," -- runner --sweep sweeps/unknown_key.toml --db r.db --results res
sweep sweeps/wrong_type.toml 'lr = "fast"'
check sweep-wrong-type "sweeps/wrong_type.toml:15:6: train.lr: expected a number, got string \"fast\"" -- runner --sweep sweeps/wrong_type.toml --db r.db --results res
sweep sweeps/seeds.toml 'seeds = [0, 0.5]'
check sweep-seeds-float "sweeps/seeds.toml:15:9: seeds: expected a non-empty list of distinct integers >= 0, got array [0, 0.5]" -- runner --sweep sweeps/seeds.toml --db r.db --results res
sweep sweeps/preset.toml
sed -i 's/preset = "debug"/preset = "debug-xl"/' sweeps/preset.toml
check sweep-unknown-preset "sweeps/preset.toml:5:10: model.preset: unknown preset 'debug-xl'; known: baseline1," -- runner --sweep sweeps/preset.toml --db r.db --results res
sweep sweeps/budget.toml
sed -i 's/^tokens = 1024/tokens = 100/' sweeps/budget.toml
check sweep-budget "sweeps/budget.toml:12:10: train.tokens: budget 100 tokens is less than one optimizer step (512 tokens = train.global_batch_tokens)" -- runner --sweep sweeps/budget.toml --db r.db --results res
sweep sweeps/section.toml '' '[optimizer]'
check sweep-unknown-section "sweeps/section.toml:1:2: optimizer: unknown key (known: meta, scale," -- runner --sweep sweeps/section.toml --db r.db --results res

# --- Data-mix TOML ------------------------------------------------------------------------------------
mkdir -p mixes
cp rows.jsonl mixes/rows.jsonl
mixfile() {  # mixfile FILE SOURCE-LINES: an Amber mix (seq_len 32, vocab 256) with one source
  printf '[mix]\nseq_len = 32\nval_fraction = 0.2\nvocab_size = 256\n\n[[source]]\nname = "s"\n%s\n' "$2" > "$1"
}
copy data prepared  # an existing prepared folder as --out: a refused prepare must leave it as it is
mixfile mixes/reader.toml $'path = "rows.jsonl"\nreader = "amber"'
check mix-unknown-reader "mixes/reader.toml:9:10: source.reader: expected one of text, jsonl-text, brown-tagged, amber-jsonl, got string \"amber\"" -- runner data prepare --mix mixes/reader.toml --out prepared --no-progress
mixfile mixes/weight.toml $'path = "rows.jsonl"\nreader = "amber-jsonl"\nweight = -1.0'
check mix-negative-weight "mixes/weight.toml:10:10: source.weight: expected a number >= 0, got float -1" -- runner data prepare --mix mixes/weight.toml --out prepared --no-progress
mixfile mixes/no_path.toml 'reader = "amber-jsonl"'
check mix-missing-path-key "mixes/no_path.toml:6:1: source.path: missing, expected a string" -- runner data prepare --mix mixes/no_path.toml --out prepared --no-progress
mixfile mixes/no_file.toml $'path = "nowhere/*.jsonl"\nreader = "amber-jsonl"'
check mix-path-matches-nothing "mixes/no_file.toml:8:8: source.path: no file matches 'mixes/nowhere/*.jsonl' (source 's'" -- runner data prepare --mix mixes/no_file.toml --out fresh --no-progress

# --- Scale files --------------------------------------------------------------------------------------
mkdir -p scales
printf '[scale]\nwidth = 0.5\n[model]\nn_layers = 2\n' > scales/deeper.toml
check scale-changes-depth "scales/deeper.toml:4:12: model.n_layers: a scale never changes depth, width by hand or the sharing pattern" -- runner --sweep sweeps/ok.toml --scale scales/deeper.toml --db r.db --results res
printf '[scale]\nwidth = 0.5\nwdth = 1\n' > scales/typo.toml
check scale-unknown-key "scales/typo.toml:3:1: scale.wdth: unknown key (known: width, head_dim)" -- runner --sweep sweeps/ok.toml --scale scales/typo.toml --db r.db --results res
printf '[scale]\nwidth = 2\n' > scales/wider.toml
check scale-width-range "scales/wider.toml:2:9: scale.width: expected a number in (0, 1], got integer 2" -- runner --sweep sweeps/ok.toml --scale scales/wider.toml --db r.db --results res

# --- Amber jsonl (data prepare) -----------------------------------------------------------------------
amber() {  # amber NAME LINE: rows.jsonl's first 5 rows, LINE, its last 5; and NAME.toml reading it
  { head -5 rows.jsonl; echo "$2"; tail -5 rows.jsonl; } > "mixes/$1.jsonl"
  mixfile "mixes/$1.toml" "path = \"$1.jsonl\""$'\nreader = "amber-jsonl"'
}
amber not_json 'not json {'
check amber-not-json "mixes/not_json.jsonl:6: not valid JSON at byte 2" -- runner data prepare --mix mixes/not_json.toml --out prepared --no-progress
amber not_list '{"token_ids": "1 2 3"}'
check amber-ids-not-list "mixes/not_list.jsonl:6: field 'token_ids' is not an array" -- runner data prepare --mix mixes/not_list.toml --out prepared --no-progress
amber big_id "{\"token_ids\": [$(seq -s, 0 29),256,1,2]}"
check amber-id-out-of-vocab "mixes/big_id.jsonl:6: field 'token_ids'[30] = 256: expected an integer id in [0, 256)" -- runner data prepare --mix mixes/big_id.toml --out prepared --no-progress
amber short "{\"token_ids\": [$(seq -s, 0 29)]}"
check amber-row-length "mixes/short.jsonl:6: field 'token_ids' has 30 ids, expected 33 (seq_len 32 + 1)" -- runner data prepare --mix mixes/short.toml --out prepared --no-progress

# --- Text corpora (data prepare) ----------------------------------------------------------------------
textmix() {  # textmix NAME READER FILE-CONTENT-COMMAND...: NAME/ holding one file, NAME.toml reading it
  local name="$1" reader="$2"
  shift 2
  mkdir -p "mixes/$name"
  "$@" > "mixes/$name/a.txt"
  printf '[mix]\nseq_len = 16\nval_fraction = 0.1\n\n[[source]]\nname = "t"\npath = "%s/*.txt"\nreader = "%s"\n' \
    "$name" "$reader" > "mixes/$name.toml"
}
textmix latin1 text sh -c "cat text.txt; printf 'caf\351 au lait\n'"
check text-invalid-utf8 "mixes/latin1/a.txt:301: byte 4 (0xE9) is not valid UTF-8; expected UTF-8 text" -- runner data prepare --mix mixes/latin1.toml --out prepared --tokenizer tok.model --no-progress
check text-invalid-utf8-train-tokenizer "mixes/latin1/a.txt:301: byte 4 (0xE9) is not valid UTF-8" -- runner data prepare --mix mixes/latin1.toml --out fresh --vocab-size 280 --no-progress
textmix jsonl_latin1 jsonl-text sh -c "printf '{\"text\": \"caf\351\"}\n'"
check jsonl-text-invalid-utf8 "mixes/jsonl_latin1/a.txt:1: not valid JSON at byte" -- runner data prepare --mix mixes/jsonl_latin1.toml --out prepared --tokenizer tok.model --no-progress
textmix empty text true
check text-empty-file "mixes/empty.toml: no training rows: every source is shorter than one row of 17 tokens" -- runner data prepare --mix mixes/empty.toml --out prepared --tokenizer tok.model --no-progress

# --- Prepared shards and manifests --------------------------------------------------------------------
copy data d_trunc && truncate -s 10000 d_trunc/train-00000.h5
check shard-truncated "d_trunc/train-00000.h5: not a readable HDF5 shard" -- runner train debug --data d_trunc "${TRAIN[@]}" --db r.db
copy data d_gone && rm d_gone/val-00000.h5
check shard-deleted "d_gone/val-00000.h5: shard listed in manifest.json is missing" -- runner train debug --data d_gone "${TRAIN[@]}" --db r.db
copy data d_rowlen && json_set d_rowlen/manifest.json 'j["seq_len"] = 16'
check manifest-row-length "d_rowlen/train-00000.h5: dataset 'tokens': shape (333, 33), expected (333, 17) (from manifest.json)" -- runner train debug --data d_rowlen "${TRAIN[@]}" --db r.db --set train.seq_len=16
copy data d_rows && json_set d_rows/manifest.json 'j["shards"][0]["rows"] = 400'
check manifest-row-count "d_rows/train-00000.h5: dataset 'tokens': shape (333, 33), expected (400, 33) (from manifest.json)" -- runner train debug --data d_rows "${TRAIN[@]}" --db r.db
copy data d_dtype && json_set d_dtype/manifest.json 'j["dtype"] = "uint32"'
check manifest-dtype "d_dtype/train-00000.h5: dataset 'tokens': dtype is 2-byte unsigned, expected uint32 (little-endian)" -- runner train debug --data d_dtype "${TRAIN[@]}" --db r.db
copy data d_dtype2 && json_set d_dtype2/manifest.json 'j["dtype"] = "int8"'
check manifest-dtype-name "d_dtype2/manifest.json: field 'dtype' = 'int8', expected uint16 or uint32" -- runner data inspect d_dtype2
copy data d_nokey && json_set d_nokey/manifest.json 'del j["vocab_size"]'
check manifest-missing-key "d_nokey/manifest.json: missing field 'vocab_size'" -- runner data inspect d_nokey
copy data d_split && json_set d_split/manifest.json 'j["shards"][1]["split"] = "test"'
check manifest-unknown-split "d_split/manifest.json: shards[1].field 'split' = 'test', expected train or val" -- runner data inspect d_split
copy data d_json && echo '{"format": "sharelab-shards",' > d_json/manifest.json
check manifest-not-json "d_json/manifest.json:2: not valid JSON" -- runner train debug --data d_json "${TRAIN[@]}" --db r.db

# --- Checkpoints ----------------------------------------------------------------------------------
mkdir -p ck
cp "$CKPT_A" ck/trunc.h5 && truncate -s 100000 ck/trunc.h5
yes "not an HDF5 file" | head -c 5000 > ck/garbage.h5
check ckpt-truncated-eval "ck/trunc.h5: dataset '(root)': cannot read: H5Fopen failed" -- runner eval ck/trunc.h5 --tasks hellaswag --tasks-dir tasks --db e.db --threads 1 --no-progress
check ckpt-garbage-logits "ck/garbage.h5: not an HDF5 file" -- runner logits ck/garbage.h5 --tokens 1,2 --out x.npy
check ckpt-garbage-export "ck/garbage.h5: not an HDF5 file" -- runner export ck/garbage.h5 --hf hf-out
check ckpt-as-weights "$CKPT_A: attribute 'format' is 'sharelab-train-checkpoint-v1', expected 'sharelab-weights-v1'" -- runner logits debug --set vocab_size=256 --weights "$CKPT_A" --tokens 1,2 --out x.npy
check weights-other-depth "w.h5: unexpected tensor 'attn.2.wk.weight' (not a parameter of debug)" -- runner logits debug --set vocab_size=256 --set n_layers=2 --weights w.h5 --tokens 1,2 --out x.npy
check weights-other-scheme "w.h5: unexpected tensor 'ffn.1." -- runner train debug --data data "${TRAIN[@]}" --db r.db --set model.scheme=shared-ffn --init-from w.h5
copy "runs/$RUN_A" ck/run_foreign && cp "$CKPT_B" "ck/run_foreign/$(basename "$CKPT_A")"
check ckpt-other-run-resume "ck/run_foreign/$(basename "$CKPT_A"): attribute 'config_json' differs from this run's config" -- runner resume ck/run_foreign --db r.db --no-progress
copy "runs/$RUN_A" ck/run_trunc && truncate -s 100000 "ck/run_trunc/$(basename "$CKPT_A")"
check ckpt-truncated-resume "ck/run_trunc/$(basename "$CKPT_A"): not a readable training checkpoint" -- runner resume ck/run_trunc --db r.db --no-progress
copy "runs/$RUN_A" ck/run_dangling && echo ckpt-000000099.h5 > ck/run_dangling/latest
check ckpt-dangling-latest "ck/run_dangling/latest: names checkpoint 'ckpt-000000099.h5', which does not exist" -- runner eval ck/run_dangling --tasks hellaswag --tasks-dir tasks --tokenizer tok.model --db r.db --no-progress

# --- HF directories and safetensors ---------------------------------------------------------------
copy hf hf_json && echo '{"hidden_size": 64,' > hf_json/config.json
check hf-config-not-json "hf_json/config.json: not valid JSON" -- runner logits hf_json --tokens 1,2 --out x.npy
copy hf hf_header && $PY -c "
import struct, sys
p = 'hf_header/model.safetensors'; b = bytearray(open(p, 'rb').read())
b[:8] = struct.pack('<Q', 2 * len(b)); open(p, 'wb').write(b)"
check safetensors-header-too-long "hf_header/model.safetensors: header length" -- runner eval hf_header --tasks hellaswag --tasks-dir tasks --db e.db --threads 1 --no-progress
copy hf hf_shape && safetensors_set hf_shape/model.safetensors model.norm.weight shape '[32,2]'
check safetensors-wrong-shape "hf_shape/model.safetensors: tensor 'model.norm.weight' has shape [32, 2], but hf_shape/config.json implies [64]" -- runner export hf_shape --out w-out.h5
copy hf hf_i32 && safetensors_set hf_i32/model.safetensors model.norm.weight dtype '"I32"'
check safetensors-dtype-i32 "hf_i32/model.safetensors: tensor 'model.norm.weight': dtype I32 not supported (expected F32, BF16 or F16)" -- runner generate hf_i32 --prompt "the cat" --max-new 2 --threads 1
copy hf hf_f64 && safetensors_set hf_f64/model.safetensors model.norm.weight dtype '"F64"'
check safetensors-dtype-f64-init "hf_f64/model.safetensors: tensor 'model.norm.weight': dtype F64 not supported" -- runner train debug --data data "${TRAIN[@]}" --db r.db --set model.vocab_size=280 --init-from hf_f64
copy hf hf_offsets && safetensors_set hf_offsets/model.safetensors model.norm.weight data_offsets '[0,100]'
check safetensors-data-offsets "hf_offsets/model.safetensors: tensor 'model.norm.weight': data_offsets do not match its shape and dtype" -- runner logits hf_offsets --tokens 1,2 --out x.npy

# --- Benchmark files (runner eval --tasks-dir) ----------------------------------------------------
copy tasks t_hs_json && sed -i '2s/.*/{"activity_label": "Cat", "ctx_a": /' t_hs_json/hellaswag/hellaswag_val.jsonl
check hellaswag-not-json "t_hs_json/hellaswag/hellaswag_val.jsonl: line 2: invalid JSON" -- runner eval hf --tasks hellaswag --tasks-dir t_hs_json --db e.db --threads 1 --no-progress
copy tasks t_hs_label && sed -i '2s/"label": 1/"label": 7/' t_hs_label/hellaswag/hellaswag_val.jsonl
check hellaswag-label "t_hs_label/hellaswag/hellaswag_val.jsonl: line 2: field 'label' is 7, expected an ending index" -- runner eval hf --tasks arc_easy,hellaswag --tasks-dir t_hs_label --db r.db --threads 1 --no-progress
copy tasks t_arc_json && sed -i '2s/.*/not json/' t_arc_json/arc/ARC-Challenge-Test.jsonl
check arc-not-json "t_arc_json/arc/ARC-Challenge-Test.jsonl: line 2: invalid JSON" -- runner eval hf --tasks arc_challenge --tasks-dir t_arc_json --db e.db --threads 1 --no-progress
copy tasks t_arc_key && sed -i '3s/"answerKey": "A"/"answerKey": "Q"/' t_arc_key/arc/ARC-Easy-Test.jsonl
check arc-answer-key "t_arc_key/arc/ARC-Easy-Test.jsonl: line 3: field 'answerKey' is 'Q', expected a letter A-E (or 1-5)" -- runner eval hf --tasks arc_easy --tasks-dir t_arc_key --db e.db --threads 1 --no-progress
copy tasks t_arc_gone && rm t_arc_gone/arc/ARC-Easy-Test.jsonl
check benchmark-file-missing "t_arc_gone/arc/ARC-Easy-Test.jsonl: cannot open file (missing? point --tasks-dir at the benchmark files)" -- runner eval hf --tasks hellaswag,arc_easy --tasks-dir t_arc_gone --db r.db --threads 1 --no-progress
check benchmark-unknown-task "unknown task 'hellaswagg'; known: arc_challenge," -- runner eval hf --tasks hellaswagg --tasks-dir tasks --db e.db --threads 1 --no-progress

# --- The sqlite database --------------------------------------------------------------------------
mkdir -p dbs
$PY -c "import sys; sys.stdout.buffer.write(bytes(range(256)) * 16)" > dbs/junk.db
echo "run_id,loss" > dbs/text.db
check db-not-sqlite-train "dbs/junk.db: not an sqlite database; expected a sharelab results database" -- runner train debug --data data "${TRAIN[@]}" --db dbs/junk.db
check db-not-sqlite-eval "dbs/text.db: not an sqlite database" -- runner eval hf --tasks hellaswag --tasks-dir tasks --db dbs/text.db --threads 1 --no-progress
# results_store.cpp versions the schema with PRAGMA user_version (runner/store/schema.cpp: 3 now).
cp r.db dbs/newer.db && sqlite3 dbs/newer.db 'PRAGMA user_version = 99'
DBS=(r.db dbs/newer.db)
check db-schema-newer-train "dbs/newer.db: results database has schema version 99, newer than this build's" -- runner train debug --data data "${TRAIN[@]}" --db dbs/newer.db
check db-schema-newer-sweep "dbs/newer.db: results database has schema version 99" -- runner --sweep sweeps/ok.toml --db dbs/newer.db --results res
DBS=(r.db)
# Read-only: root ignores the mode bits, so the file is made immutable (chattr +i) when root; its
# folder stays writable, so sqlite could leave -wal/-shm files beside it (the snapshot sees them).
mkdir -p ro && cp r.db ro/r.db
if [ "$(id -u)" != 0 ]; then chmod 0444 ro/r.db; ro=yes
elif chattr +i ro/r.db 2> /dev/null; then ro=yes
else ro=no; fi
if [ "$ro" = yes ]; then
  check db-read-only-train "ro/r.db: results database is read-only; expected a writable file (or another --db)" -- runner train debug --data data "${TRAIN[@]}" --db ro/r.db
  check db-read-only-eval "ro/r.db: results database is read-only" -- runner eval hf --tasks hellaswag --tasks-dir tasks --db ro/r.db --threads 1 --no-progress
  chattr -i ro/r.db 2> /dev/null
else
  skip db-read-only "root without chattr +i (CAP_LINUX_IMMUTABLE): cannot make a read-only database"
  skip db-read-only-eval "same"
fi

# --- The command line -----------------------------------------------------------------------------
check cli-unknown-flag "unrecognised option '--bogus'" -- runner train debug --data data --bogus
check cli-max-new-zero "--max-new 0: expected an integer >= 1" -- runner generate hf --prompt "the cat" --max-new 0
check cli-top-p-range "--top-p 2: expected a number in (0, 1]" -- runner generate hf --prompt "the cat" --top-p 2
check cli-seeds-not-int "--seeds: expected distinct integers >= 0 separated by commas, got 'x'" -- runner --sweep sweeps/ok.toml --seeds 1,x --db r.db --results res
check cli-seeds-repeated "--seeds: expected distinct integers >= 0 separated by commas, got '1'" -- runner --sweep sweeps/ok.toml --seeds 1,1 --db r.db --results res
check cli-conflict-nodes "runner sweep: --nodes/--gpus-per-node size a plan (--dry-run) or scripts (--emit-slurm)" -- runner --sweep sweeps/ok.toml --nodes 2 --db r.db --results res
check cli-conflict-weights "'runs/$RUN_A' is a saved model: --set and --weights apply to a preset name only" -- runner logits "runs/$RUN_A" --weights w.h5 --tokens 1,2 --out x.npy
check cli-conflict-seed "'runs/$RUN_A' is a saved model: --seed applies to a preset name only" -- runner export "runs/$RUN_A" --seed 3 --out w-out.h5
check cli-gguf-needs-tokenizer "--gguf: llama.cpp needs the vocabulary; give --tokenizer FILE" -- runner export debug --out w-out.h5 --hf hf-out --gguf m.gguf
check cli-tokenizer-vocab "tok.model: tokenizer vocabulary 280 exceeds the model's vocab_size 256" -- runner eval "runs/$RUN_A" --tasks hellaswag --tasks-dir tasks --tokenizer tok.model --db e.db --no-progress
check cli-protocol "--protocol 'v2': expected 'leaderboard-v1' or 'mobilellm'" -- runner eval hf --tasks hellaswag --tasks-dir tasks --protocol v2 --db e.db --no-progress
check cli-train-seq-len "data/manifest.json: seq_len = 32, but the loader asks for 64 (must be 1..32)" -- runner train debug --data data "${TRAIN[@]}" --db r.db --set train.seq_len=64 --set train.global_batch_tokens=1024
check analysis-format "--format 'xml'; expected md, tex or csv" -- analysis tables --table 1 --format xml --db r.db --experiments "$SRC/experiments"
check analysis-experiments-dir "--experiments '/nonexistent': not a directory" -- analysis findings --sweep adhoc --db r.db --experiments /nonexistent
check analysis-compare-missing-arm "r.db: no finished run named or of preset 'nosuch' in sweep 'adhoc'" -- analysis compare --sweep adhoc debug nosuch --db r.db

echo "bad_inputs: $passed passed, $failed failed, $skipped skipped ($((passed + failed)) cases)"
[ "$failed" = 0 ]
