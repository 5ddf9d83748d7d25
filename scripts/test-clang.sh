#!/usr/bin/env bash
# npm run test:clang: builds the addon with clang++ and -Wall -Wextra -Werror into build-clang/
# (the normal build/ is untouched) and runs the mocha suite against it, on the best ISA this CPU
# has (the per-ISA runs are the g++ build's job; this proves the compiler, not the kernels again).
# Extra arguments go to mocha. Needs clang (Debian/Ubuntu: apt-get install clang).
set -euo pipefail
cd "$(dirname "$0")/.."
CXX="${CLANGXX:-clang++}"
command -v "$CXX" >/dev/null || { echo "test:clang: $CXX not found (apt-get install clang)" >&2; exit 1; }
"$CXX" --version | head -n 1
CC="${CXX/clang++/clang}" CXX="$CXX" npx cmake-js compile -O build-clang --CDDENSENORM_STRICT_WARNINGS=ON --log-level warn
grep -q "CMAKE_CXX_COMPILER:FILEPATH=.*clang++" build-clang/CMakeCache.txt || {
  echo "test:clang: build-clang/ was configured with another compiler; remove it and rerun" >&2; exit 1; }
npx tsc -p tsconfig.json
export DENSENORM_ADDON="$PWD/build-clang/Release/densenorm.node"
export DENSENORM_EXPECT_ADDON="$DENSENORM_ADDON"
npx mocha "${@:-test/*.test.mjs}"
