#!/usr/bin/env bash
# Benchmarks (npm run bench): alternatives side by side in one run, ratios printed.
# `npm run bench -- soak`: only the soak (10 minutes at 80 % of the gateway's peak).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
# the gateway is compared with nginx from Debian's packages, a plain keep-alive proxy
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench: nginx is missing (run as root, or: sudo apt-get install nginx-light)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
fi
npx tsc -p tsconfig.build.json
if [ "${1:-}" = soak ]; then
  node dist/bench/gateway.js soak
  exit 0
fi
node dist/bench/gateway.js
node --expose-gc dist/bench/masking.js
node dist/bench/volume.js
node dist/bench/audit.js
# the trail at scale (verify, start-up): BENCH_SCALE_EVENTS=1000000 for the issue's size (most of an hour on FerretDB here)
node dist/bench/audit-scale.js
# 1,000,000 audit events take a while to seed and export on FerretDB; BENCH_EVIDENCE_EVENTS=100000 for a quick look
node dist/bench/evidence.js
# 1,000 and 10,000 pending approvals take about 25 minutes here; BENCH_PENDING_LARGE=3000 for a quick look
node dist/bench/approvals.js
