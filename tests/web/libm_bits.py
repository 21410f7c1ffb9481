#!/usr/bin/env python3
"""Which math functions give different bits natively (glibc's libm) and in the explorer (Emscripten's
libm, musl's), and whether stepgrad's own fn::tanh gives the same bits in both (Note [One tanh for
the page and the programs] in autodiff/functions.cpp).

    libm_bits.py ROOT BUILD BUILD_WEB [--count N] [--ulps]

Compiles tests/web/libm_bits.cpp twice, with g++ against BUILD's autodiff library and with em++
against BUILD_WEB's (the explorer's build), runs it natively (glibc as it runs: the FMA build of exp,
log and pow where the CPU has FMA; and its plain build, Note [Bit for bit with glibc's libm] in
check_web.py) and under node, and prints for each function how many of its N arguments (default
100,000) give different bits. --ulps adds each tanh's error against mpmath (20,000 arguments).
Exits 1 when fn::tanh differs between the two builds, or from musl's tanh in the page (the page's
numbers must not move); 77 (meson's skip) without g++, em++, node or a configured BUILD_WEB.
"""
import collections
import math
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import tempfile

PLAIN_GLIBC = dict(os.environ, GLIBC_TUNABLES="glibc.cpu.hwcaps=-AVX2,-FMA")


def skip(why):
    print(f"skipped: {why}")
    sys.exit(77)


def fail(why):
    print(f"FAILED: {why}")
    sys.exit(1)


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    if r.returncode != 0:
        fail(f"{' '.join(map(str, cmd[:3]))} ...: exit {r.returncode}\n{r.stderr[-3000:]}")
    return r.stdout


def parse(text):
    """{function: {(x, y): result}} from the program's lines."""
    out = collections.defaultdict(dict)
    for line in text.splitlines():
        f, x, y, r = line.split()
        out[f][(x, y)] = r
    return out


def differing(a, b):
    return sum(1 for k, r in a.items() if b[k] != r), len(a)


def f64(h):
    return struct.unpack("<d", struct.pack("<Q", int(h, 16)))[0]


def ulps(results, count=20000):
    """Largest error in ulps, and how many are not the correctly rounded double, of each result
    set {x: bits} against mpmath's tanh at 160 bits on `count` of the arguments."""
    import mpmath
    mpmath.mp.prec = 160
    keys = list(next(iter(results.values())))
    keys = keys[:: max(1, len(keys) // count)][:count]
    stats = {name: [0.0, 0] for name in results}
    for k in keys:
        exact = mpmath.tanh(mpmath.mpf(f64(k[0])))
        nearest = float(exact)
        unit = math.ulp(nearest) if nearest != 0 else 0.0
        for name, res in results.items():
            got = f64(res[k])
            err = abs(float((mpmath.mpf(got) - exact) / unit)) if unit else 0.0
            s = stats[name]
            s[0] = max(s[0], err)
            s[1] += got != nearest
    return len(keys), stats


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        print(__doc__)
        sys.exit(2)
    root, build, build_web = (pathlib.Path(a).resolve() for a in args[:3])
    count = int(args[args.index("--count") + 1]) if "--count" in args else 100000
    for tool in ["g++", "em++", "node", "pkg-config"]:
        if shutil.which(tool) is None:
            skip(f"no {tool}")
    lib = build / "autodiff" / "libstepgrad_autodiff.a"
    web_lib = build_web / "autodiff" / "libstepgrad_autodiff.a"
    if not (build_web / "build.ninja").exists():
        skip(f"{build_web} is not configured (./run.sh configures the explorer's build)")
    run(["ninja", "-C", str(build), "autodiff/libstepgrad_autodiff.a"])
    run(["ninja", "-C", str(build_web), "autodiff/libstepgrad_autodiff.a"])
    src = root / "tests" / "web" / "libm_bits.cpp"
    flags = ["-std=c++20", "-O2", "-ffp-contract=off", "-I", str(root / "include")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        libs = run(["pkg-config", "--libs", "fmt", "openblas"]).split()
        run(["g++", *flags, str(src), str(lib), *libs, "-o", str(tmp / "native")])
        # The explorer's flags (meson.build): its library is built with them.
        web_flags = ["-msimd128", "-mbulk-memory", "-fwasm-exceptions"]
        run(["em++", *flags, *web_flags, "-DFMT_HEADER_ONLY", "-isystem",
             str(build_web / "fmt-include"), str(src), str(web_lib), *web_flags,
             "-sENVIRONMENT=node", "-o", str(tmp / "wasm.js")],
            env=dict(os.environ, NODE_PATH="/usr/share/nodejs"))
        glibc = parse(run([str(tmp / "native"), str(count)]))
        plain = parse(run([str(tmp / "native"), str(count)], env=PLAIN_GLIBC))
        musl = parse(run(["node", "--no-experimental-fetch", str(tmp / "wasm.js"), str(count)]))
    print(f"{'function':9} {'glibc vs musl':>15} {'plain glibc vs musl':>21}   (of {count} arguments)")
    for f in musl:
        if f == "fn::tanh":
            continue
        d, n = differing(glibc[f], musl[f])
        p, _ = differing(plain[f], musl[f])
        print(f"{f:9} {d:>15} {p:>21}")
    natively, n = differing(glibc["fn::tanh"], musl["fn::tanh"])
    plainly, _ = differing(plain["fn::tanh"], musl["fn::tanh"])
    page, _ = differing(musl["fn::tanh"], musl["tanh"])
    print(f"fn::tanh: native vs page {natively} of {n} (plain glibc: {plainly}); "
          f"the page's fn::tanh vs musl's tanh {page}")
    if "--ulps" in args:
        k, stats = ulps({"glibc tanh": glibc["tanh"], "musl tanh": musl["tanh"],
                         "fn::tanh": glibc["fn::tanh"]})
        for name, (worst, wrong) in stats.items():
            print(f"{name:10} against mpmath: at most {worst:.3f} ulp; {wrong} of {k} "
                  f"({100 * wrong / k:.1f}%) not correctly rounded")
    if natively or plainly or page:
        fail("fn::tanh does not give the same bits natively and in the page")


if __name__ == "__main__":
    main()
