#!/usr/bin/env bash
# bench/run.sh: stepgrad's speed in one table, measured in one run (bench/README.md).
#
#   bench/run.sh                         build (release) if needed, then everything (~2 minutes)
#   bench/run.sh --build build-rel       another build folder (default: build)
#   bench/run.sh --repetitions 9         more repetitions per benchmark (default: 5)
#   bench/run.sh --no-train              skip the full 10_train run
#   bench/run.sh --rounds 9              interleaved rounds of the per-sample steps (default: 7; 0: none)
#   bench/run.sh --avx2                  the rounds also on an AVX2 build (BUILD-avx2, set up if needed)
#   bench/run.sh -- --benchmark_filter=sgd_step   pass the rest to stepgrad_bench
#
# It builds bench/stepgrad_bench and tutorials/10_train, runs stepgrad_bench with repetitions
# (randomly interleaved), the article's numpy code (bench/article_numpy.py), and one full
# `10_train --no-plots` under /usr/bin/time -v, then prints the machine, the date and one table
# with medians, spreads and ratios (bench/report.py). Then the interleaved rounds: each round is a
# fresh process of the same binary timing the per-sample steps in random order, then numpy; the
# ratios are taken within each round and reported as medians with their spread. The raw outputs
# stay in BUILD/bench/last-run/. Speed is reported, never asserted: on a shared machine only
# medians and ratios from the same run mean much.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

build=build
repetitions=5
run_train=1
rounds=7
avx2=0
bench_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=${2:?--build needs a folder}; shift 2 ;;
        --build=*) build=${1#--build=}; shift ;;
        --repetitions) repetitions=${2:?--repetitions needs a number}; shift 2 ;;
        --repetitions=*) repetitions=${1#--repetitions=}; shift ;;
        --no-train) run_train=0; shift ;;
        --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
        --rounds=*) rounds=${1#--rounds=}; shift ;;
        --avx2) avx2=1; shift ;;
        -h|--help) sed -n '2,21s/^# \{0,1\}//p' "$0"; exit 0 ;;
        --) shift; bench_args=("$@"); break ;;
        *) echo "bench/run.sh: unknown argument '$1' (--help lists them)" >&2; exit 2 ;;
    esac
done
if [ -z "$build" ]; then
    echo "bench/run.sh: --build: expected a folder" >&2
    exit 2
fi
case "$repetitions" in
    ''|*[!0-9]*|0) echo "bench/run.sh: --repetitions: expected a positive number, found '$repetitions'" >&2; exit 2 ;;
esac
case "$rounds" in
    ''|*[!0-9]*) echo "bench/run.sh: --rounds: expected a number, found '$rounds'" >&2; exit 2 ;;
esac
if [ "$avx2" -eq 1 ] && [ "$rounds" -eq 0 ]; then
    echo "bench/run.sh: --avx2 needs rounds (--rounds 1 or more)" >&2
    exit 2
fi

python=/usr/bin/python3
if [ ! -x "$python" ]; then
    echo "bench/run.sh: needs $python (apt-get install python3)" >&2
    exit 1
fi
say() { printf '%s\n' "$*" >&2; }

# ---- build -------------------------------------------------------------------------------------
if [ ! -f "$build/build.ninja" ]; then
    say "bench/run.sh: setting up $build (release)"
    meson setup "$build" --buildtype=release -Dtests=true >&2
elif ! grep -q '"name": "tests", "value": true' "$build/meson-info/intro-buildoptions.json" 2>/dev/null; then
    meson setup --reconfigure "$build" -Dtests=true >&2  # the benchmark is defined with the tests
fi
buildtype=$(meson introspect "$build" --buildoptions |
    "$python" -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))')
if [ "$buildtype" != release ]; then
    say "bench/run.sh: WARNING: $build is a '$buildtype' build; the figures mean little (meson configure $build --buildtype=release)"
fi

results="$build/bench/last-run"
rm -rf "$results"
mkdir -p "$results"
say "bench/run.sh: building $build (log in $results/build.txt)"
if ! ninja -C "$build" tutorials/10_train >"$results/build.txt" 2>&1; then
    cat "$results/build.txt" >&2
    say "bench/run.sh: the build failed"
    exit 1
fi
if ! ninja -C "$build" bench/stepgrad_bench >>"$results/build.txt" 2>&1 || [ ! -x "$build/bench/stepgrad_bench" ]; then
    tail -n 20 "$results/build.txt" >&2
    say "bench/run.sh: no $build/bench/stepgrad_bench: is Google Benchmark installed? (apt-get install libbenchmark-dev, then meson setup --reconfigure $build)"
    exit 1
fi
if [ "$avx2" -eq 1 ]; then
    # An AVX2 build of the same sources: no AVX-512 instruction in the binary (bench/README.md).
    build_avx2="$build-avx2"
    if [ ! -f "$build_avx2/build.ninja" ]; then
        say "bench/run.sh: setting up $build_avx2 (release, -march=x86-64-v3)"
        meson setup "$build_avx2" --buildtype=release -Dtests=true -Dnative=false \
            -Dcpp_args=-march=x86-64-v3 >&2
    fi
    say "bench/run.sh: building $build_avx2"
    if ! ninja -C "$build_avx2" bench/stepgrad_bench >>"$results/build.txt" 2>&1; then
        tail -n 20 "$results/build.txt" >&2
        say "bench/run.sh: the AVX2 build failed"
        exit 1
    fi
fi
train_out=$(mktemp -d "${TMPDIR:-/tmp}/stepgrad-bench-train.XXXXXX")
trap 'rm -rf "$train_out"' EXIT

# ---- the machine -------------------------------------------------------------------------------
lscpu_field() { lscpu | sed -n "s/^$1:[[:space:]]*//p" | head -n 1; }
model=$(lscpu_field 'Model name')
sockets=$(lscpu_field 'Socket(s)')
cores=$(lscpu_field 'Core(s) per socket')
threads=$(lscpu_field 'Thread(s) per core')
l2=$(lscpu_field 'L2 cache')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit + uncommitted changes"; fi
{
    echo "== stepgrad benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC') =="
    echo "machine: ${model:-unknown CPU}, $(nproc) CPUs (${sockets:-?} socket(s) x ${cores:-?} core(s) x ${threads:-?} thread(s)), L2 ${l2:-?}"
    echo "         $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
    echo "build:   $build ($buildtype), $(c++ --version | head -n 1), commit $commit"
} | tee "$results/header.txt"
echo

# ---- stepgrad_bench ----------------------------------------------------------------------------
say "bench/run.sh: stepgrad_bench, $repetitions repetitions (console output in $results/bench.txt)"
"$build/bench/stepgrad_bench" \
    --benchmark_repetitions="$repetitions" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_display_aggregates_only=true \
    --benchmark_out="$results/bench.json" --benchmark_out_format=json \
    "${bench_args[@]}" >"$results/bench.txt" 2>&1 || {
    cat "$results/bench.txt" >&2
    say "bench/run.sh: stepgrad_bench failed"
    exit 1
}
grep -i 'note' "$results/bench.txt" >&2 || true

# ---- the numpy reference -----------------------------------------------------------------------
say "bench/run.sh: the article's numpy code (bench/article_numpy.py)"
numpy_args=()
status=0
"$python" bench/article_numpy.py --samples 2000 --runs "$repetitions" --json "$results/numpy.json" \
    >"$results/numpy.txt" 2>&1 || status=$?
if [ "$status" -eq 0 ]; then
    numpy_args=(--numpy "$results/numpy.json")
else
    say "bench/run.sh: numpy reference skipped (exit $status): $(head -n 1 "$results/numpy.txt")"
fi

# ---- one full training run ---------------------------------------------------------------------
train_args=()
if [ "$run_train" -eq 1 ]; then
    say "bench/run.sh: 10_train --no-plots (5 epochs of the article split) under /usr/bin/time -v"
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -v -o "$results/time.txt" "$build/tutorials/10_train" --no-plots --out "$train_out" \
            >"$results/10_train.txt" 2>&1 || true
        cp "$train_out/metrics.csv" "$results/metrics.csv" 2>/dev/null || true
        train_args=(--time "$results/time.txt" --metrics "$results/metrics.csv")
        if ! grep -q 'Exit status: 0' "$results/time.txt"; then
            say "bench/run.sh: 10_train failed: $(grep -m 1 'error' "$results/10_train.txt" || tail -n 1 "$results/10_train.txt")"
        fi
    else
        say "bench/run.sh: no /usr/bin/time (apt-get install time); 10_train not timed"
    fi
fi

# ---- interleaved rounds ------------------------------------------------------------------------
# Each round: one fresh process of the same binary times every per-sample step 5 times for 0.2 s,
# the 5 x 8 repetitions in random order (a fresh process also places the weights in new memory),
# then numpy runs 3 times; a round's figure is the median of its repetitions. With
# --avx2 the two builds alternate round by round, so a slow minute of the machine falls on both.
round_args=()
numpy_ok=0
[ ${#numpy_args[@]} -gt 0 ] && numpy_ok=1
round_data=()  # the rounds time the same data as the table: a --data=DIR given after --
for arg in ${bench_args[@]+"${bench_args[@]}"}; do
    case "$arg" in --data=*) round_data+=("$arg") ;; esac
done
round_builds=("$build")
[ "$avx2" -eq 1 ] && round_builds+=("$build_avx2")
for ((r = 1; r <= rounds; r++)); do
    say "bench/run.sh: round $r of $rounds"
    for b in "${round_builds[@]}"; do
        out="$results/round-$r-$(basename "$b")"
        "$b/bench/stepgrad_bench" --benchmark_filter='^sgd_step' --benchmark_repetitions=5 \
            --benchmark_enable_random_interleaving=true --benchmark_min_time=0.2 \
            --benchmark_out="$out.json" --benchmark_out_format=json ${round_data[@]+"${round_data[@]}"} \
            >"$out.txt" 2>&1 || {
            cat "$out.txt" >&2
            say "bench/run.sh: stepgrad_bench failed in round $r ($b)"
            exit 1
        }
        numpy_json=-
        if [ "$numpy_ok" -eq 1 ] &&
            "$python" bench/article_numpy.py --samples 2000 --runs 3 --json "$out-numpy.json" \
                >"$out-numpy.txt" 2>&1; then
            numpy_json="$out-numpy.json"
        fi
        round_args+=(--round "$b" "$out.json" "$numpy_json")
    done
done

# ---- the tables --------------------------------------------------------------------------------
"$python" bench/report.py --bench "$results/bench.json" "${numpy_args[@]}" "${train_args[@]}" \
    "${round_args[@]}" | tee "$results/report.txt"
echo
echo "raw outputs: $results/"
