#!/usr/bin/env python3
"""The ops of docs/architecture.md ("How to add an op"), as a reader would use them: installs the
build into a scratch prefix (meson install --destdir), extracts the section's C++ blocks, compiles
them with `pkg-config --cflags --libs stepgrad` against the installed headers and libraries, and
runs them with a main() that checks each op's values, its gradient by finite differences, the
leaky_relu label, and that both ops registered (Note [The op registry]).

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
  if (!r.passed) ++failures;

  // cube, the element-wise op: its values, and its gradient from f'
  const Var c = cube(x).named("c");
  if (!(c.value() == Tensor::vector({-8.0, -0.125, 0.3 * 0.3 * 0.3, 1.7 * 1.7 * 1.7}))) {
    std::printf("cube values: %s\n", fmt::format("{}", c.value()).c_str());
    ++failures;
  }
  Tape cube_tape;
  const Var cx = cube_tape.variable(x0, "x");
  cube_tape.backward(sum(cube(cx)));
  const auto cube_loss = [&] {
    Tape t;
    return sum(cube(t.input(at))).value().item();
  };
  const GradCheckReport rc = check_gradient("x", cube_loss, at, cx.grad());
  std::printf("%s\n", format_report(rc).c_str());
  if (!rc.passed) ++failures;

  // both registered, so test_ops' loops would check them too
  for (const char* name : {"cube", "leaky_relu"}) {
    int found = 0;
    for (const OpCheck& check : registered_ops()) found += check.name == name ? 1 : 0;
    if (found != 1) {
      std::printf("%s registered %d times, not once\n", name, found);
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}
"""


def extract_blocks(page: pathlib.Path) -> str:
    """The ```cpp blocks of the section, in order, unindented and joined."""
    text = page.read_text(encoding="utf-8")
    section = text[text.index("## How to add an op"):]
    section = section[:section.find("\n## ", 1)] if "\n## " in section[1:] else section
    blocks = list(re.finditer(r"^( *)```cpp\n(.*?)^\1```", section, re.S | re.M))
    if len(blocks) < 2:
        raise SystemExit(f"{page}: not the two ```cpp blocks under 'How to add an op'")
    return "".join("".join(line[len(m.group(1)):] + "\n" for line in m.group(2).splitlines())
                   for m in blocks)


def main() -> int:
    build, root, cxx = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
    with tempfile.TemporaryDirectory(prefix="stepgrad-doc-op-") as tmp:
        tmp = pathlib.Path(tmp)
        pc = scratch_install.install(build, tmp / "dest")
        env = dict(os.environ, PKG_CONFIG_PATH=str(pc.parent))
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "stepgrad"], check=True,
                               capture_output=True, text=True, env=env).stdout.split()
        source = tmp / "my_op.cpp"
        source.write_text(extract_blocks(root / "docs" / "architecture.md") + MAIN)
        exe = tmp / "my_op"
        built = subprocess.run([cxx, "-std=c++20", "-Wall", "-Wextra", "-Werror", str(source),
                                "-o", str(exe)] + flags, capture_output=True, text=True)
        if built.returncode != 0:
            print(built.stdout + built.stderr)
            print("the blocks of docs/architecture.md do not compile against the installed "
                  "headers")
            return 1
        ran = subprocess.run([str(exe)], capture_output=True, text=True)
        print(ran.stdout + ran.stderr, end="")
        return ran.returncode


if __name__ == "__main__":
    sys.exit(main())
