#!/usr/bin/env bash
# Install the engines that the test suite needs (docker, registry, compose v1, postgres, busybox)
# on a Debian 12 machine, as root, unattended. Idempotent and fast when everything is present.
# Terraform and the gcloud CLI (with the Pub/Sub emulator) are expected to be preinstalled.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

log() { printf '[install.sh] %s\n' "$*" >&2; }
die() { printf '[install.sh] ERROR: %s\n' "$*" >&2; exit 1; }

# binary (absolute path or name on PATH) -> Debian package that provides it
declare -A NEED=(
  [dockerd]=docker.io
  [containerd]=containerd
  [runc]=runc
  [/usr/bin/docker-registry]=docker-registry
  [htpasswd]=apache2-utils
  [docker-compose]=docker-compose
  [/bin/busybox]=busybox-static
  [psql]=postgresql-client
  # MariaDB server for the native runtime's `engine: mysql` tests (they start their own servers)
  [/usr/sbin/mariadbd]=mariadb-server
  [mariadb-install-db]=mariadb-server
  [iptables]=iptables
  # the native runtime's Redis (caches:), tested for real in tests/integration/local
  [redis-server]=redis-server
)

have() {
  case "$1" in
    /*) [ -x "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

have_pg_server() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

have_static_busybox() {
  # busybox-static replaces the dynamic busybox; a dynamic one is useless inside a scratch image.
  [ -x /bin/busybox ] && dpkg -s busybox-static >/dev/null 2>&1
}

missing=()
for bin in "${!NEED[@]}"; do
  if [ "$bin" = /bin/busybox ]; then
    have_static_busybox || missing+=("${NEED[$bin]}")
  elif ! have "$bin"; then
    missing+=("${NEED[$bin]}")
  fi
done
have_pg_server || missing+=(postgresql)
# docker-compose v1 needs python3-docker etc. (pulled in as dependencies); the Debian docker CLI
# (docker.io) is fine next to /usr/local/bin/docker which comes first on PATH.

if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  apt-get update -qq
  # policy-rc.d: do not let the packages try to start services (no systemd here anyway).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    docker.io containerd runc docker-registry apache2-utils docker-compose busybox-static \
    postgresql postgresql-client mariadb-server iptables ca-certificates >/dev/null
else
  log "all packages already installed; skipping apt"
fi

# The postgresql package's postinst creates a 'main' cluster and may start it: stop it, tests run
# their own throwaway clusters.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters --no-header 2>/dev/null | while read -r ver name port status _rest; do
    if [ "$status" = online ]; then
      log "stopping packaged postgres cluster $ver/$name on port $port"
      pg_ctlcluster "$ver" "$name" stop || true
    fi
  done
fi
# The same for the packaged MariaDB server (if its init script started it): tests run their own.
if [ -S /run/mysqld/mysqld.sock ] && command -v mariadb-admin >/dev/null 2>&1; then
  log "stopping the packaged mariadb server"
  mariadb-admin --socket=/run/mysqld/mysqld.sock shutdown || true
fi
# The docker-registry package may have started a registry on :5000 through its init script
# (not with policy-rc.d in place). Stop only that one, by its pidfile: tests run their own.
if [ -s /run/docker-registry.pid ]; then
  start-stop-daemon --stop --quiet --pidfile /run/docker-registry.pid --retry 5 || true
  rm -f /run/docker-registry.pid
fi

# ---- checks: fail loudly when something the tests need is missing ----
for bin in "${!NEED[@]}"; do
  have "$bin" || die "missing $bin after install (package ${NEED[$bin]})"
done
have_pg_server || die "PostgreSQL server binaries (initdb, pg_ctl) not found"
id postgres >/dev/null 2>&1 || die "system user 'postgres' missing (package postgresql-common)"
have terraform || die "terraform not found on PATH (expected /usr/local/bin/terraform)"
tf_version="$(terraform version -json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])')" \
  || die "terraform version failed"
log "terraform $tf_version"
if have gcloud; then
  if gcloud components list --only-local-state --format='value(id)' 2>/dev/null | grep -qx pubsub-emulator \
     || compgen -G "$(dirname "$(readlink -f "$(command -v gcloud)")")/../platform/pubsub-emulator" >/dev/null \
     || [ -d /usr/lib/google-cloud-sdk/platform/pubsub-emulator ]; then
    log "gcloud with pubsub emulator present (the gcloud-parity test uses its beta track too)"
  else
    log "WARNING: gcloud present but the pubsub emulator was not found (pubsub tests will skip)"
  fi
else
  log "WARNING: gcloud not found (pubsub and gcloud-parity tests will skip, or fail under SHIPIT_TEST_REQUIRE_ALL=1)"
fi
log "docker: $(dockerd --version 2>/dev/null || echo '?')"
log "compose: $(docker-compose version --short 2>/dev/null || echo '?')"
log "registry: $(/usr/bin/docker-registry --version 2>/dev/null || echo '?')"
log "done"
