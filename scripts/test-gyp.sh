#!/usr/bin/env bash
# npm run test:gyp: builds the addon the way `npm install` does without cmake (scripts/install.js
# with the node-gyp builder) in a copy of the sources under build-gyp/ (node-gyp always writes
# ./build, which is cmake-js's here), then runs the mocha suite against that binary on the best
# ISA this CPU has. Extra arguments go to mocha. Needs make, python3 and a C++17 compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
src=build-gyp/src
rm -rf "$src"
mkdir -p "$src/scripts"
cp -r cpp binding binding.gyp package.json "$src/"
cp scripts/install.js scripts/sources.js "$src/scripts/"
ln -s ../../node_modules "$src/node_modules"
# At most 2 jobs: the build machines are shared.
(cd "$src" && JOBS="${JOBS:-2}" npm_config_build_from_source=true DENSENORM_BUILDER=node-gyp node scripts/install.js)
test -f "$src/build/binding.Makefile"  # the node-gyp build, not a cmake one
npx tsc -p tsconfig.json
export DENSENORM_ADDON="$PWD/$src/build/Release/densenorm.node"
export DENSENORM_EXPECT_ADDON="$DENSENORM_ADDON"
npx mocha "${@:-test/*.test.mjs}"
