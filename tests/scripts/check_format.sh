#!/usr/bin/env bash
# Fails on any C++ file that clang-format (the repo's .clang-format) would change.
# Skips (77) when clang-format is not installed.
set -euo pipefail
cd "${1:?usage: check_format.sh SOURCE_ROOT}"
command -v clang-format >/dev/null || { echo "clang-format not installed: skipped"; exit 77; }
mapfile -t files < <(find autodiff io nn cli tutorials labs tests bench python -name '*.cpp' -o -name '*.hpp' | sort)
clang-format --dry-run -Werror "${files[@]}"
echo "${#files[@]} files formatted"
