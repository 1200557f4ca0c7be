#!/usr/bin/env bash
# Benchmarks (npm run bench): alternatives side by side in one run, ratios printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npx tsc -p tsconfig.build.json
node dist/bench/gateway.js
node dist/bench/masking.js
node dist/bench/volume.js
node dist/bench/audit.js
# the trail at scale (verify, start-up): BENCH_SCALE_EVENTS=1000000 for the issue's size (most of an hour on FerretDB here)
node dist/bench/audit-scale.js
# 1,000,000 audit events take a while to seed and export on FerretDB; BENCH_EVIDENCE_EVENTS=100000 for a quick look
node dist/bench/evidence.js
# 1,000 and 10,000 pending approvals take about 25 minutes here; BENCH_PENDING_LARGE=3000 for a quick look
node dist/bench/approvals.js
