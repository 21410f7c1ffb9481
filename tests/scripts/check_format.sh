#!/usr/bin/env bash
# Fails on any C++ file that clang-format (the repo's .clang-format) would change, and on any of
# the explorer's JavaScript files (web/*.js, tests/web/*.mjs, bench/*.mjs) that Prettier would change
# (web/.prettierrc.json) or ESLint finds fault with (web/eslint.config.js).
# Skips (77) when clang-format is not installed, and after the C++ check when web/node_modules has
# no eslint or prettier (they are pinned in web/package-lock.json: cd web && npm ci).
set -euo pipefail
cd "${1:?usage: check_format.sh SOURCE_ROOT}"
command -v clang-format >/dev/null || { echo "clang-format not installed: skipped"; exit 77; }
mapfile -t files < <(find autodiff io nn cli tutorials labs tests bench python web -path web/node_modules -prune -o \
    \( -name '*.cpp' -o -name '*.hpp' \) -print | sort)
clang-format --dry-run -Werror "${files[@]}"
echo "${#files[@]} C++ files formatted"
bin=web/node_modules/.bin
if [ ! -x $bin/eslint ] || [ ! -x $bin/prettier ]; then
    echo "skipped: the JavaScript files, web/node_modules has no eslint or prettier (cd web && npm ci)"
    exit 77
fi
js=(web/*.js tests/web/*.mjs bench/*.mjs)
$bin/prettier --config web/.prettierrc.json --check --log-level warn "${js[@]}"
$bin/eslint --config web/eslint.config.js --max-warnings 0 "${js[@]}"
echo "${#js[@]} JavaScript files formatted and linted"
