#!/usr/bin/env bash
# `npm run bench:setup-peers`: a writable copy of ../shared/peers in .bench-peers/ (shared/ is
# read-only) with onnxruntime-node 1.30 installed and the W2 ONNX models exported, so that
# `npm run bench` can run the onnxruntime-node inference peer in the same run.
#
#   .bench-peers/                 copy of ../shared/peers (PEERS_SRC overrides the source)
#   .bench-peers/node/node_modules/onnxruntime-node
#   .bench-peers/node/models/w2_eval_{bn,folded}.onnx, w2_ref.json   (from export_onnx.py)
#
# Idempotent: re-running refreshes the copied scripts, and skips the npm install and the export
# when they are already done and up to date. `--force` redoes both. Needs /usr/bin/python3 with
# torch and onnx (apt-get install python3-torch python3-onnx) and network access to npm.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="${PEERS_SRC:-$root/../shared/peers}"
dst="$root/.bench-peers"
py=/usr/bin/python3
ort_range='~1.30.0'
force=0
[[ "${1:-}" == "--force" ]] && force=1

say() { echo "bench-peers: $*"; }
die() { echo "bench-peers: error: $*" >&2; exit 1; }

[[ -f "$src/export_onnx.py" && -f "$src/node/ort_bench.js" ]] ||
  die "$src does not look like the peers directory (no export_onnx.py / node/ort_bench.js); set PEERS_SRC"
src="$(cd "$src" && pwd)"

# ---- prerequisites (checked first, so nothing is half done) ----
command -v npm >/dev/null || die "npm not found on PATH"
[[ -x "$py" ]] || die "$py not found (apt-get install python3 python3-torch python3-onnx)"
missing=()
for m in torch onnx; do "$py" -c "import $m" 2>/dev/null || missing+=("$m"); done
if ((${#missing[@]})); then
  die "$py cannot import ${missing[*]}, which export_onnx.py needs: apt-get install ${missing[*]/#/python3-}"
fi

# ---- copy (shared/ is read-only: the copy's files and dirs are made writable) ----
# Leaves node_modules/, models/ and package-lock.json in place; --preserve=timestamps keeps the
# scripts' mtimes so the export below can tell whether the models are older than the scripts.
writable() { find "$dst" -path "$dst/node/node_modules" -prune -o -exec chmod u+w {} +; }
if [[ -d "$dst" ]]; then writable; fi
mkdir -p "$dst"
cp -R --preserve=timestamps "$src/." "$dst/"
writable
say "copied $src -> $dst"

# ---- onnxruntime-node only ----
# The peers' package.json also lists tfjs (~600 MB with ORT); the bench only needs ORT, so the copy's
# package.json is replaced by one with onnxruntime-node alone (the original is kept beside it).
# The copied node/.npmrc (onnxruntime-node-install=skip) skips ORT's GPU download, whose postinstall
# fails here.
node_dir="$dst/node"
mv "$node_dir/package.json" "$node_dir/package.peers.json"
cat >"$node_dir/package.json" <<EOF
{
  "name": "densenorm-bench-peers",
  "version": "0.0.0",
  "private": true,
  "description": "Written by scripts/bench-peers-setup.sh: onnxruntime-node only (the peers' own package.json is package.peers.json)",
  "license": "UNLICENSED",
  "dependencies": {
    "onnxruntime-node": "$ort_range"
  }
}
EOF
ort_version() { node -p "require('$node_dir/node_modules/onnxruntime-node/package.json').version" 2>/dev/null || true; }
have="$(ort_version)"
if ((force == 0)) && [[ "$have" == 1.30.* ]]; then
  say "onnxruntime-node $have already installed"
else
  say "npm install onnxruntime-node@$ort_range in $node_dir"
  (cd "$node_dir" && npm install --no-audit --no-fund) || die "npm install failed in $node_dir"
  have="$(ort_version)"
  [[ "$have" == 1.30.* ]] || die "onnxruntime-node 1.30 not installed in $node_dir/node_modules (found '${have:-nothing}')"
  say "onnxruntime-node $have installed"
fi
node -e "require('$node_dir/node_modules/onnxruntime-node')" ||
  die "onnxruntime-node $have is installed but does not load (see the error above)"

# ---- models ----
models="$node_dir/models"
stale=$force
for f in w2_eval_bn.onnx w2_eval_folded.onnx w2_ref.json; do
  if [[ ! -f "$models/$f" || "$models/$f" -ot "$dst/export_onnx.py" || "$models/$f" -ot "$dst/torch_bench.py" ]]; then stale=1; fi
done
if ((stale)); then
  say "exporting the W2 models: $py export_onnx.py"
  (cd "$dst" && "$py" export_onnx.py) || die "export_onnx.py failed (needs torch and onnx: apt-get install python3-torch python3-onnx)"
else
  say "models up to date in $models"
fi
for f in w2_eval_bn.onnx w2_eval_folded.onnx w2_ref.json; do
  [[ -f "$models/$f" ]] || die "export_onnx.py did not write $models/$f"
done

say "ready: npm run bench runs the onnxruntime-node W2 inference peer ($node_dir/ort_bench.js)"
