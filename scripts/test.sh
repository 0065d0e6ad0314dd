#!/usr/bin/env bash
# The test command: installs what the tests need and is missing (Debian/Ubuntu packages), then
# runs `cargo test --workspace` with any arguments given (`scripts/test.sh -p cachetape-tape`).
#
#   scripts/test.sh [CARGO TEST ARGS…]   install what is missing, then run the tests
#   scripts/test.sh --install-only       install what is missing, run nothing
#
# The integration tests start private redis-server and mariadbd instances from the binaries on
# PATH, drive them with redis-cli and the mariadb client, and render one HTML report in headless
# Chromium. The end-to-end app tests (tests/app_django.rs, tests/app_node.rs) run real framework
# apps: their Python packages go into a venv under $CACHETAPE_APPS_CACHE (default
# $HOME/.cache/cachetape), their npm packages into tests/apps/node/node_modules (`npm ci`); both
# are reinstalled when their pinned versions change. Installing uses sudo when not run as root.
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
need python3        on_path python3
# Debian's python3 leaves out venv's pip bootstrap (ensurepip) unless python3-venv is installed.
need python3-venv   python3 -c 'import ensurepip, venv; ensurepip.version()'
need nodejs         on_path node
need npm            on_path npm

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# The Django app's packages (tests/apps/django/requirements.txt), in a venv: a Debian python3
# refuses global pip installs.
apps_cache=${CACHETAPE_APPS_CACHE:-$HOME/.cache/cachetape}
venv=$apps_cache/django-venv
requirements=tests/apps/django/requirements.txt
if ! cmp -s "$requirements" "$venv/installed-requirements.txt"; then
  echo "installing the Django app's packages into $venv"
  rm -rf "$venv"
  mkdir -p "$apps_cache"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/installed-requirements.txt"
fi

# The Node app's packages (tests/apps/node/package-lock.json).
node_app=tests/apps/node
if ! cmp -s "$node_app/package-lock.json" "$node_app/node_modules/.installed-package-lock.json"; then
  echo "installing the Node app's packages into $node_app/node_modules"
  (cd "$node_app" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$node_app/package-lock.json" "$node_app/node_modules/.installed-package-lock.json"
fi

if [ "${1:-}" = "--install-only" ]; then
  exit 0
fi
exec cargo test --workspace "$@"
