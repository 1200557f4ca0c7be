#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: npm packages (pinned by package-lock.json)
# and the real servers (scripts/install-servers.sh, cached outside the clone).
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".").map(Number).slice(0,2).join(".")')
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a < 20 || (a === 20 && b < 19)) { console.error("vecgate needs Node.js 20.19 or later (found " + process.version + ")"); process.exit(1); }' || exit 1

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[ensure-deps] npm ci (Node $node_major)" >&2
  npm ci --no-audit --no-fund
fi
bash scripts/install-servers.sh
