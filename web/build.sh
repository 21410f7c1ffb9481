#!/usr/bin/env bash
# Builds the explorer into build-web/ (or $1): stepgrad's autodiff/ and network code compiled with
# Emscripten (em++) into stepgrad_wasm.js + .wasm, the page's files beside them, and the MNIST
# subset the page trains on, packed from data/mnist by a native program (web/pack_subset.cpp).
#   web/build.sh [OUT]        STEPGRAD_NATIVE_BUILD=build-h15 names the native build to use
# Only what changed is rebuilt. Needs em++ (Debian's emscripten), and for the data a native build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/build-web}")
native=${STEPGRAD_NATIVE_BUILD:-$root/build}
command -v em++ >/dev/null || { echo "web/build.sh: em++ not found (apt-get install emscripten)" >&2; exit 1; }
# Debian installs acorn (which the linker needs) under /usr/share/nodejs.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
mkdir -p "$out/obj" "$out/include"

# fmt header-only, from a copy of its headers alone: -I/usr/include would pull in glibc's headers.
if [ ! -f "$out/include/fmt/format.h" ] || [ /usr/include/fmt/format.h -nt "$out/include/fmt/format.h" ]; then
    rm -rf "$out/include/fmt" && cp -r /usr/include/fmt "$out/include/fmt"
fi

# The fast kernels in their portable form: kernels_fast.cpp's plain-C++ Block (Emscripten's
# libc++ has no working <experimental/simd>) vectorised by the compiler for WebAssembly's 128-bit
# SIMD, without OpenBLAS; they give the reference kernels' bits (Note [Reference and fast kernels])
# and skip the black pixels of an image, about 4x faster here than the reference loops. No FMA
# contraction (Note [Floating-point determinism] in meson.build; WebAssembly SIMD has no FMA).
flags=(-std=c++20 -O3 -msimd128 -fexceptions -ffp-contract=off -DFMT_HEADER_ONLY -DNDEBUG
    -DSTEPGRAD_FAST_KERNELS=1 -DSTEPGRAD_BLAS=0 -I"$root/include" -I"$out/include"
    -Wall -Wextra -Wno-unused-parameter)
sources=(autodiff/tensor.cpp autodiff/kernels_reference.cpp autodiff/kernels_fast.cpp
    autodiff/random.cpp autodiff/functions.cpp autodiff/tape.cpp autodiff/ops_linear.cpp
    autodiff/ops_activation.cpp autodiff/ops_loss.cpp autodiff/gradcheck.cpp autodiff/print.cpp
    nn/network.cpp nn/deltas.cpp nn/fused.cpp nn/crosscheck.cpp nn/step.cpp web/bindings.cpp)

# Everything is recompiled when a header or the flags changed since the last build.
headers_newest=$(find "$root/autodiff" "$root/nn" -name '*.hpp' -newer "$out/obj" -print -quit 2>/dev/null || true)
if [ "$(cat "$out/obj/flags" 2>/dev/null)" != "${flags[*]}" ]; then
    headers_newest=flags
fi
objects=()
pids=()
for src in "${sources[@]}"; do
    obj="$out/obj/$(echo "$src" | tr / _).o"
    objects+=("$obj")
    if [ ! -f "$obj" ] || [ "$root/$src" -nt "$obj" ] || [ -n "$headers_newest" ]; then
        echo "em++ $src"
        em++ "${flags[@]}" -c "$root/$src" -o "$obj" &
        pids+=($!)
        # two at a time: the machine is shared
        if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
    fi
done
for p in "${pids[@]}"; do wait "$p"; done
printf '%s' "${flags[*]}" >"$out/obj/flags"  # only once every object compiled with them
touch "$out/obj"

wasm_js="$out/stepgrad_wasm.js"
newest_obj=$(ls -t "${objects[@]}" | head -1)
if [ ! -f "$wasm_js" ] || [ "$newest_obj" -nt "$wasm_js" ]; then
    echo "em++ -> $wasm_js"
    # An ES module (import createStepgrad from './stepgrad_wasm.js'); memory grows on demand.
    em++ -O3 -fexceptions --bind "${objects[@]}" -o "$wasm_js" \
        -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createStepgrad -sALLOW_MEMORY_GROWTH=1 \
        -sENVIRONMENT=web,node -sINITIAL_MEMORY=33554432
fi

# The page's own files. They are ES modules (import/export): the package.json beside them says so to
# Node.js: without it, Node before 20.19 (Debian 12 ships 18.20) reads a .js file as CommonJS and
# stops at the first import. Browsers go by <script type="module"> and ignore it.
printf '{\n  "type": "module"\n}\n' >"$out/package.json"
for f in index.html explorer.css stepgrad.js page.js draw.js graph.js; do
    [ -f "$root/web/$f" ] && cp -u "$root/web/$f" "$out/$f"
done

# The data: 2,000 training and 1,000 test images of the article's split.
data="$out/mnist-subset.bin"
if [ ! -f "$data" ]; then
    packer="$native/web/pack_subset"
    [ -x "$packer" ] || { echo "web/build.sh: $packer missing (ninja -C $native web/pack_subset)" >&2; exit 1; }
    "$packer" --data "$root/data/mnist" --train 2000 --test 1000 --out "$data"
fi
touch "$out/built"  # the web tests compare the sources with this: a failed build leaves it old
echo "explorer built in $out"
