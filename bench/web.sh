#!/usr/bin/env bash
# The explorer's speed (docs/explorer.md, "Speed"): per-sample training in the page, by the JS API
# and by the page's own ▶ train button (the Web Worker, its evaluations and the weights it sends
# included), forward + backward of one digit, a stroke's page update (idle and while ▶ train
# runs), page load, bytes, in headless Chromium; beside them the native engine's training rate on
# the same 2,000 samples (10_train), in the same run (the button and the native engine in rounds).
# The table's first line names the date, the machine and its load; bench/web_table.py prints it.
# About 2.5 minutes. Needs the built explorer (./run.sh builds build-web/), web/node_modules (cd
# web && npm ci), chromium, and a native build with 10_train.
#   bench/web.sh [--docs] [BUILD_WEB]   STEPGRAD_NATIVE_BUILD=build-rel picks the native build
# --docs also writes the table into docs/explorer.md and docs/zh/explorer.md (their "Speed"
# block); the web_speed_doc test checks that block's shape. Run it on an idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
docs=false
if [ "${1:-}" = --docs ]; then docs=true; shift; fi
web=$(realpath "${1:-$root/build-web}")
native=${STEPGRAD_NATIVE_BUILD:-$root/build}
[ -f "$web/stepgrad_wasm.wasm" ] || { echo "bench/web.sh: $web is not built (./run.sh, or ninja -C build-web)" >&2; exit 1; }
[ -x "$native/tutorials/10_train" ] || { echo "bench/web.sh: no $native/tutorials/10_train" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the machine: its processor, cores and load average when the run starts
cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1)
cores=$(nproc)
load=$(cut -d' ' -f1 /proc/loadavg)
export STEPGRAD_BENCH_HEADER="bench/web.sh, $(date -u +%F), ${cpu:-unknown processor} ($cores core$([ "$cores" -eq 1 ] || echo s), load average $load at the start)"

page=$(node "$root/tests/web/browser.mjs" "$root" "$web" --bench | grep "^{" | head -1)
# The page's ▶ train button beside the native engine, in rounds that interleave the two within
# seconds (bench/web_button.mjs: each round 30 native epochs and 3 s of the button, per recipe).
# Both sides are throughputs, samples over time: the button's over its 3 s (its
# evaluations and the weights it sends included), the native's over its 30 epochs' training
# seconds (metrics.csv: its evaluations are not in them), so that an epoch caught in a slow
# spell counts as the button's slow seconds do. One JSON line per round: {fixed: [epochs'
# samples/s], article: [...], button: {buttonFixed, buttonArticle}}; bench/web_table.py takes
# the rounds' medians.
rounds=8
if ! node "$root/bench/web_button.mjs" "$root" "$web" "$native/tutorials/10_train" "$root/data/mnist" \
        "$rounds" > "$tmp/button"; then
    echo "bench/web.sh: bench/web_button.mjs failed" >&2
    exit 1
fi
grep "^{" "$tmp/button" > "$tmp/rounds" || true
[ "$(wc -l < "$tmp/rounds")" -eq "$rounds" ] \
    || { echo "bench/web.sh: bench/web_button.mjs did not give $rounds rounds" >&2; exit 1; }
python3 "$root/bench/web_table.py" format "$page" "$tmp/rounds" | tee "$tmp/table"
if $docs; then python3 "$root/bench/web_table.py" docs "$root" "$tmp/table"; fi
