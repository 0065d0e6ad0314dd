#!/usr/bin/env bash
# The test command: installs what the tests need and is missing (Debian/Ubuntu packages), then
# runs `cargo test --workspace` with any arguments given (`scripts/test.sh -p cachetape-tape`).
#
#   scripts/test.sh [CARGO TEST ARGS…]   install what is missing, then run the tests
#   scripts/test.sh --install-only       install what is missing, run nothing
#
# The integration tests start private redis-server and mariadbd instances from the binaries on
# PATH, drive them with redis-cli and the mariadb client, and render one HTML report in headless
# Chromium. Installing uses sudo when not run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tests need, one line each: `need PACKAGE CHECK…` installs the Debian package PACKAGE
# unless its CHECK command succeeds.
missing=()
need() {
  local package=$1
  shift
  "$@" >/dev/null 2>&1 || missing+=("$package")
}
on_path() { command -v "$1" || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

need redis-server   on_path redis-server
need redis-tools    on_path redis-cli
need mariadb-server on_path mariadbd
need mariadb-client on_path mariadb
need chromium       test -x /usr/bin/chromium

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if [ "${1:-}" = "--install-only" ]; then
  exit 0
fi
exec cargo test --workspace "$@"
