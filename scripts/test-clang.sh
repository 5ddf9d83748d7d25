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
# A cache from another compiler cannot be reconfigured in place.
if [ -f build-clang/CMakeCache.txt ] && ! grep -q "CMAKE_CXX_COMPILER:FILEPATH=.*clang++" build-clang/CMakeCache.txt; then
  rm -rf build-clang
fi
# configure first: cmake-js compile alone keeps an existing cache's options.
export CC="${CXX/clang++/clang}" CXX
npx cmake-js configure -O build-clang --CDDENSENORM_STRICT_WARNINGS=ON --log-level warn
grep -q "DENSENORM_STRICT_WARNINGS:BOOL=ON" build-clang/CMakeCache.txt
npx cmake-js compile -O build-clang --log-level warn
npx tsc -p tsconfig.json
export DENSENORM_ADDON="$PWD/build-clang/Release/densenorm.node"
export DENSENORM_EXPECT_ADDON="$DENSENORM_ADDON"
npx mocha "${@:-test/*.test.mjs}"
