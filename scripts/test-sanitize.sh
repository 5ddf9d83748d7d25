#!/usr/bin/env bash
# npm run test:sanitize: builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-sanitize/ (the normal build/ is untouched) and runs the whole mocha suite, every ISA path,
# against it. Any ASan/UBSan report aborts the process, which fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
npx cmake-js compile -O build-sanitize --CDDENSENORM_SANITIZE=ON --log-level warn
npx tsc -p tsconfig.json
asan_lib="$(gcc -print-file-name=libasan.so)"
if [ ! -e "$asan_lib" ]; then
  echo "test:sanitize: libasan.so not found (gcc -print-file-name=libasan.so gave '$asan_lib')" >&2
  exit 1
fi
export DENSENORM_ADDON="$PWD/build-sanitize/Release/densenorm.node"
# node is not instrumented: the ASan runtime must be loaded first; node's own allocations are
# never freed at exit, so leak detection is off.
export LD_PRELOAD="$asan_lib${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_odr_violation=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:abort_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export DENSENORM_SANITIZE_RUN=1
node test/run-all-isas.mjs "$@"
