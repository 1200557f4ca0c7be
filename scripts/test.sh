#!/usr/bin/env bash
# The one test command (npm test): type-check, lint, then every jest suite against real servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "[test] type-check" >&2
npx tsc -p tsconfig.json --noEmit
echo "[test] lint" >&2
npx eslint .
echo "[test] build (the CLI tests run the built command)" >&2
npx tsc -p tsconfig.build.json
echo "[test] jest" >&2
mkdir -p .vecgate
results=.vecgate/jest-results.json
rm -f "$results"
status=0
npx jest --ci --json --outputFile="$results" "$@" || status=$?
# One plain closing line with the counts, whatever reads this log.
if [ -f "$results" ]; then
  node -e 'const r=require(process.argv[1]); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`)' "$PWD/$results"
fi
exit $status
