#!/usr/bin/env python3
"""The op of docs/architecture.md ("How to add an op"), as a reader would use it: installs the
build into a scratch prefix (meson install --destdir), extracts the page's C++ block, compiles it
with `pkg-config --cflags --libs stepgrad` against the installed headers and libraries, and runs
it with a main() that checks the op's values, its label and its gradient by finite differences.

    check_doc_op.py BUILD_DIR SOURCE_ROOT CXX
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import scratch_install

MAIN = r"""
#include <cstdio>

#include <stepgrad/autodiff/gradcheck.hpp>
#include <stepgrad/autodiff/ops.hpp>

int main() {
  using namespace stepgrad;
  Tensor x0 = Tensor::vector({-2.0, -0.5, 0.3, 1.7});
  Tape tape;
  const Var x = tape.variable(x0, "x");
  const Var y = leaky_relu(x, 0.1).named("y");
  tape.backward(sum(y * y));
  int failures = 0;
  const std::string label = tape.label(y.index());
  if (label != "y = leaky_relu(x, slope 0.1)") {
    std::printf("label: %s\n", label.c_str());
    ++failures;
  }
  if (!(y.value() == Tensor::vector({-0.2, -0.05, 0.3, 1.7}))) {
    std::printf("values: %s\n", fmt::format("{}", y.value()).c_str());
    ++failures;
  }
  Tensor at = x0;  // the loss as a function of x, for finite differences
  const auto loss = [&] {
    Tape t;
    const Var v = leaky_relu(t.input(at), 0.1);
    return sum(v * v).value().item();
  };
  const GradCheckReport r = check_gradient("x", loss, at, x.grad());
  std::printf("%s\n", format_report(r).c_str());
  return failures == 0 && r.passed ? 0 : 1;
}
"""


def extract_block(page: pathlib.Path) -> str:
    text = page.read_text(encoding="utf-8")
    section = text[text.index("## How to add an op"):]
    m = re.search(r"^( *)```cpp\n(.*?)^\1```", section, re.S | re.M)
    if not m:
        raise SystemExit(f"{page}: no ```cpp block under 'How to add an op'")
    indent = len(m.group(1))
    return "".join(line[indent:] + "\n" for line in m.group(2).splitlines())


def main() -> int:
    build, root, cxx = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
    with tempfile.TemporaryDirectory(prefix="stepgrad-doc-op-") as tmp:
        tmp = pathlib.Path(tmp)
        pc = scratch_install.install(build, tmp / "dest")
        env = dict(os.environ, PKG_CONFIG_PATH=str(pc.parent))
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "stepgrad"], check=True,
                               capture_output=True, text=True, env=env).stdout.split()
        source = tmp / "my_op.cpp"
        source.write_text(extract_block(root / "docs" / "architecture.md") + MAIN)
        exe = tmp / "my_op"
        built = subprocess.run([cxx, "-std=c++20", "-Wall", "-Wextra", "-Werror", str(source),
                                "-o", str(exe)] + flags, capture_output=True, text=True)
        if built.returncode != 0:
            print(built.stdout + built.stderr)
            print("the block of docs/architecture.md does not compile against the installed "
                  "headers")
            return 1
        ran = subprocess.run([str(exe)], capture_output=True, text=True)
        print(ran.stdout + ran.stderr, end="")
        return ran.returncode


if __name__ == "__main__":
    sys.exit(main())
