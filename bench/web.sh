#!/usr/bin/env bash
# The explorer's speed (docs/explorer.md, "Speed"): per-sample training in the page, by the JS API
# and by the page's own ▶ train button (the Web Worker, its evaluations and the weights it sends
# included), forward + backward of one digit, a stroke's page update (idle and while ▶ train
# runs), page load, bytes, in headless Chromium; beside them the native engine's training rate on
# the same 2,000 samples (10_train), in the same run. The table's first line names the date, the
# machine and its load; bench/web_table.py prints it. Needs the built explorer (./run.sh builds
# build-web/), web/node_modules (cd web && npm ci), chromium, and a native build with 10_train.
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
# samples/s of one epoch over the first 2,000 samples of the article split: the median of 5 runs
# (one epoch is about 30 ms, so a single run catches the machine's moments)
native_rate() {
    local rates=()
    for _ in 1 2 3 4 5; do
        "$native/tutorials/10_train" --data "$root/data/mnist" --limit 2000 --epochs 1 --no-plots \
            --recipe "$1" --out "$tmp/$1" >/dev/null
        rates+=("$(tail -1 "$tmp/$1/metrics.csv" | cut -d, -f7)")  # samples_per_second
    done
    python3 -c 'import statistics, sys; print(statistics.median(float(r) for r in sys.argv[1:]))' "${rates[@]}"
}
fixed=$(native_rate fixed)
article=$(native_rate article)
python3 "$root/bench/web_table.py" format "$page" "$fixed" "$article" | tee "$tmp/table"
if $docs; then python3 "$root/bench/web_table.py" docs "$root" "$tmp/table"; fi
