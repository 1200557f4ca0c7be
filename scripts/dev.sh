#!/usr/bin/env bash
# The main job (npm run dev): the whole local stack with the demo configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npx tsc -p tsconfig.build.json
exec node bin/vecgate dev "$@"
