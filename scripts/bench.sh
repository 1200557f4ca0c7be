#!/usr/bin/env bash
# Benchmarks (npm run bench): alternatives side by side in one run, ratios printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npx tsc -p tsconfig.build.json
node dist/bench/gateway.js
node dist/bench/masking.js
