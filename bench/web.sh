#!/usr/bin/env bash
# The explorer's speed (docs/explorer.md, "Speed"): per-sample training in the page, forward +
# backward of one digit, page load, bytes, in headless Chromium; beside them the native engine's
# training rate on the same 2,000 samples (10_train). Needs the built explorer (./run.sh builds build-web/),
# web/node_modules (cd web && npm ci), chromium, and a native build with 10_train.
#   bench/web.sh [BUILD_WEB]        STEPGRAD_NATIVE_BUILD=build-rel picks the native build
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
web=$(realpath "${1:-$root/build-web}")
native=${STEPGRAD_NATIVE_BUILD:-$root/build}
[ -f "$web/stepgrad_wasm.wasm" ] || { echo "bench/web.sh: $web is not built (./run.sh, or ninja -C build-web)" >&2; exit 1; }
[ -x "$native/tutorials/10_train" ] || { echo "bench/web.sh: no $native/tutorials/10_train" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

page=$(node "$root/tests/web/browser.mjs" "$root" "$web" --bench | grep "^{" | head -1)
native_rate() {  # samples/s of one epoch over the first 2,000 samples of the article split
    "$native/tutorials/10_train" --data "$root/data/mnist" --limit 2000 --epochs 1 --no-plots \
        --recipe "$1" --out "$tmp/$1" >/dev/null
    tail -1 "$tmp/$1/metrics.csv" | cut -d, -f7  # samples_per_second
}
fixed=$(native_rate fixed)
article=$(native_rate article)
python3 - "$page" "$fixed" "$article" <<'PY'
import json, sys
p = json.loads(sys.argv[1])
fixed, article = float(sys.argv[2]), float(sys.argv[3])
mb = sum(p["bytes"].values()) / 1e6
print(f"{'':44s} {'page':>10s} {'native':>10s} {'page/native':>12s}")
print(f"{'training, recipe fixed (tape), samples/s':44s} {p['fixedRate']:10.0f} {fixed:10.0f} {p['fixedRate'] / fixed:12.2f}")
print(f"{'training, recipe article (deltas), samples/s':44s} {p['articleRate']:10.0f} {article:10.0f} {p['articleRate'] / article:12.2f}")
print(f"{'forward + backward of one digit, ms (engine)':44s} {p['engineMs']:10.2f} {1000 / fixed:10.3f}")
print(f"{'  + copying every value, gradient, delta, ms':44s} {p['explainMs']:10.2f}")
print(f"{'  page update at step Z1 (engine+copies+draw)':44s} {p['updateForwardMs']:10.2f}")
print(f"{'  page update at the last step (W0, check)':44s} {p['updateAllMs']:10.2f}")
for k, where in [("strokeZ1", "at Z1"), ("strokeW0", "at W0 (last step)"), ("strokeW0All", "at W0, whole tape on screen")]:
    s = p[k]
    print(f"{'  drawing, page update per frame':44s} {s['median']:10.2f}   {where}: median of {s['n']}, 90th pct {s['p90']:.2f}, max {s['max']:.2f}")
print(f"{'page ready (engine + data loaded), ms':44s} {p['readyMs']:10.0f}")
print(f"{'page load until ready, cold browser, ms':44s} {p['loadMs']:10.0f}")
b = p["bytes"]
print(f"{'bytes: wasm + JS/HTML/CSS + data':44s} {b['wasm']:,} + {b['js']:,} + {b['data']:,} = {mb:.2f} MB")
PY
