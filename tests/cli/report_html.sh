#!/usr/bin/env bash
# `analysis report` end to end: a smoke-scale sweep of two arms (baseline1, mobillama-0.5b from
# configs/cpu.toml) over seeds 0 and 1, then the HTML page, opened in headless Chromium: no console
# message of the page, no request to the network (Chromium's net log: nothing the page initiated),
# the five sections in the DOM, a screenshot that is a real picture. The page must also name no URL
# and load nothing (no src=, no href but #anchors).
# Hermetic: token rows written here (vocab 256), no corpus and no ../shared (eval.tasks = []).
# Usage: report_html.sh RUNNER ANALYSIS WORKDIR   (exit 77 = skipped: no chromium)
set -euo pipefail
RUNNER="$1"
ANALYSIS="$2"
WORK="$3"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
fail() { echo "FAIL: $*"; exit 1; }
CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$CHROMIUM" ]; then
  echo "SKIP: chromium is not installed (Debian's chromium; make setup)"
  exit 77
fi
rm -rf "$WORK" && mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"  # absolute: Chromium opens file://$WORK/...
SWEEP=table1-cpu

source "$(dirname "$0")/synthetic_rows.sh"  # $WORK/rows.jsonl and $WORK/mix.toml

cd "$SRC"
DB="$WORK/r.db"
# Two arms x two seeds, one thread each (ctest -j2 on 2 cores), no evaluation.
"$RUNNER" --sweep configs/cpu.toml --only baseline1,mobillama-0.5b --seeds 0,1 --scale smoke \
  --set "data.dir=$WORK/data" --set "data.mix=$WORK/mix.toml" --set model.vocab_size=256 --set 'eval.tasks=[]' \
  --set train.threads=1 --db "$DB" --results "$WORK/results" --no-progress \
  > "$WORK/sweep.out" 2> "$WORK/sweep.err" || { cat "$WORK/sweep.err"; fail "sweep"; }
grep -q "4 trained, 0 already finished, 0 failed" "$WORK/sweep.out" || { cat "$WORK/sweep.out"; fail "want 4 trained"; }

"$ANALYSIS" report --sweep "$SWEEP" --out "$WORK/report" --db "$DB" > "$WORK/report.out" 2> "$WORK/report.err" \
  || { cat "$WORK/report.err"; fail "analysis report"; }
PAGE="$WORK/report/index.html"
[ -s "$PAGE" ] || fail "$PAGE missing or empty"

# The page as written: self-contained, and both arms with both seeds in it.
/usr/bin/python3 - "$PAGE" <<'PY' || fail "index.html"
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
errors = []
for bad in ("http:", "https:", "//cdn", "<link", "@import", "@font-face", "url(", "<script", "<img", "<iframe"):
    if bad in html.lower():
        errors.append(f"the page contains '{bad}'")
for m in re.finditer(r'\b(src|href|xlink:href|action)\s*=\s*"([^"]*)"', html):
    if m.group(1) != "href" or not m.group(2).startswith("#"):
        errors.append(f"loads or links outside the page: {m.group(0)}")
if html.count("<svg") != 2:
    errors.append(f"{html.count('<svg')} <svg> elements, want 2 (val loss vs tokens, vs wall time)")
for arm in ("baseline1", "mobillama-0.5b"):
    for seed in (0, 1):
        if f"{arm} seed {seed}" not in html:
            errors.append(f"no curve of {arm} seed {seed}")
if 'class="band"' not in html:
    errors.append("no seed band (two seeds per arm)")
for e in errors: print(e)
sys.exit(1 if errors else 0)
PY

# Headless Chromium: its own profile (parallel tests), no host resolves (nothing can leave this
# machine), the net log to tell the page's requests from the browser's own background ones.
chrome() {
  timeout 120 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run --no-default-browser-check \
    --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
    --user-data-dir="$WORK/chromium-profile" --host-resolver-rules="MAP * ~NOTFOUND" \
    --enable-logging=stderr --v=0 --virtual-time-budget=2000 "$@"
}
chrome --log-net-log="$WORK/netlog.json" --dump-dom "file://$PAGE" > "$WORK/dom.html" 2> "$WORK/chromium.err" \
  || { tail -20 "$WORK/chromium.err"; fail "chromium --dump-dom"; }
# The page has no script, so any console line (errors, warnings, CSP or parse complaints) is a failure.
if grep -a "CONSOLE" "$WORK/chromium.err"; then fail "console messages from the page (above)"; fi
for id in summary findings tables curves provenance; do
  grep -q "<section id=\"$id\">" "$WORK/dom.html" || fail "the DOM lacks section '$id'"
done
/usr/bin/python3 - "$WORK/netlog.json" <<'PY' || fail "the page made network requests (above)"
import json, sys
log = json.load(open(sys.argv[1]))
names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
bad = set()
for e in log.get("events", []):
    p = e.get("params") or {}
    if names.get(e.get("type")) != "URL_REQUEST_START_JOB" or "url" not in p:
        continue
    # Chromium's own fetches (updater, time, accounts) have no initiator; the page's have its origin
    # (file:// pages: "null") and a file:// isolation key.
    from_page = p.get("initiator") != "not an origin" or "file://" in p.get("network_isolation_key", "")
    if from_page and not p["url"].startswith(("file:", "data:", "about:", "blob:", "chrome:")):
        bad.add(p["url"])
for u in sorted(bad): print("request:", u)
sys.exit(1 if bad else 0)
PY

chrome --screenshot="$WORK/report/report.png" --window-size=1280,4000 "file://$PAGE" > /dev/null 2> "$WORK/shot.err" \
  || { tail -20 "$WORK/shot.err"; fail "chromium --screenshot"; }
[ -f "$WORK/report/report.png" ] || fail "no screenshot"
head -c 8 "$WORK/report/report.png" | grep -q PNG || fail "the screenshot is not a PNG"
size=$(stat -c %s "$WORK/report/report.png")
[ "$size" -gt 10240 ] || fail "screenshot of $size bytes: a blank page?"
echo "report html: ok (2 arms x 2 seeds; 5 sections in Chromium's DOM, no console message, no request; screenshot $size bytes)"
