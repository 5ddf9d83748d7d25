#!/usr/bin/env bash
# npm run test:native: builds the C++ tests that CMakeLists.txt lists in DN_NATIVE_TESTS (the
# kernel selftest with its emulated width-16 table, and any others) into build-native/, without
# the Node addon, and runs each once per ISA this CPU has (DENSENORM_ISA=scalar, avx2, avx512).
# Any failing run fails the script. Needs only cmake, make and g++.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-native

cmake -S . -B "$build" -DSELFTEST_ONLY=ON -DCMAKE_BUILD_TYPE=Release --log-level=WARNING >/dev/null
names=()
exes=()
while read -r name exe; do
  [ -n "$name" ] || continue
  names+=("$name")
  exes+=("$exe")
done <"$build/native_tests.txt"
if [ ${#names[@]} -eq 0 ] || [ "${names[0]}" != densenorm_kernel_selftest ]; then
  echo "test:native: densenorm_kernel_selftest is not the first of DN_NATIVE_TESTS" >&2
  exit 1
fi
# At most 2 jobs: the build machines are shared.
cmake --build "$build" -j 2 --target "${names[@]}" >/dev/null

log="$build/test-native.log"
: >"$log"
runs=0
# run <isa> <index>: one test under one ISA; its output goes to the terminal and to $log.
run() {
  echo "== ${names[$2]} (DENSENORM_ISA=$1)" | tee -a "$log"
  if ! DENSENORM_ISA="$1" "${exes[$2]}" 2>&1 | tee -a "$log"; then
    echo "test:native: ${names[$2]} failed with DENSENORM_ISA=$1" >&2
    exit 1
  fi
  runs=$((runs + 1))
}

# The selftest's first line names the ISA this CPU and OS support ("detected ISA: avx512, ...");
# every ISA up to it in the chain scalar < avx2 < avx512 is run.
run scalar 0
detected="$(sed -n 's/^detected ISA: \([a-z0-9]*\).*/\1/p' "$log" | head -n 1)"
isas=()
for isa in scalar avx2 avx512; do
  isas+=("$isa")
  [ "$isa" != "$detected" ] || break
done
if [ "${isas[-1]}" != "$detected" ]; then
  echo "test:native: unexpected detected ISA '$detected'" >&2
  exit 1
fi

for isa in "${isas[@]}"; do
  for i in "${!names[@]}"; do
    [ "$isa:$i" != scalar:0 ] || continue  # ran above
    run "$isa" "$i"
  done
done
echo "test:native: ${#names[@]} test(s) [${names[*]}] x ISAs [${isas[*]}]: $runs runs passed"
