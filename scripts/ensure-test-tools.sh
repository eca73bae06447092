#!/usr/bin/env bash
# The test tools that are not npm packages, installed if missing, and where they are:
#
#   PGBOUNCER  PgBouncer (Debian's `pgbouncer`), for the pooler end-to-end test;
#   PSQL       libpq's `psql` (Debian's `postgresql-client`);
#   PYTHON     a Python with psycopg 3 and its binary wheel (which ships its own libpq), in a
#              venv this script creates;
#   PGX_LOGIN  test/support/drivers/pgx built with the machine's Go (modules from the Go module
#              proxy): logs in with pgx, a Go client sharing no code with libpq.
#
# stdout: one `NAME=path` line per tool, nothing else. Debian's packages are installed with
# apt-get (as root; `apt-get update` only when the install fails without it); the venv and the
# Go binary are cached by version and source hash outside the repository, in
# ${PULUMI_ROTATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-postgres-rotator}, like
# scripts/ensure-pulumi.sh. Progress goes to stderr, one line per phase, and nothing at all when
# everything is present; what apt, pip and Go print goes to test-tools.log in the cache, shown
# (its end) only when a phase fails. Exits non-zero, saying why, when a tool cannot be had.
set -euo pipefail

PSYCOPG_VERSION="3.2.10"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PULUMI_ROTATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-postgres-rotator}"
log="$cache/test-tools.log"
mkdir -p "$cache"
say() { echo "ensure-test-tools: $*" >&2; }
fail() {
  say "$*"
  exit 1
}
phase() {
  # phase <title> <command…>: runs the command with its output appended to $log.
  local title="$1" started=$SECONDS
  shift
  printf 'ensure-test-tools: %s … ' "$title" >&2
  if "$@" >>"$log" 2>&1 </dev/null; then
    echo "done ($((SECONDS - started))s)" >&2
    return 0
  fi
  echo "failed after $((SECONDS - started))s" >&2
  say "the end of $log:"
  grep -v '^go: downloading ' "$log" | tail -n 30 | sed 's/^/  /' >&2 || true
  return 1
}

# --- Debian's packages -----------------------------------------------------------------------
find_pgbouncer() { command -v pgbouncer || { [[ -x /usr/sbin/pgbouncer ]] && echo /usr/sbin/pgbouncer; } || true; }
pgbouncer="$(find_pgbouncer)"
psql="$(command -v psql || true)"
missing=()
[[ -n "$pgbouncer" ]] || missing+=(pgbouncer)
[[ -n "$psql" ]] || missing+=(postgresql-client)
if ((${#missing[@]} > 0)); then
  [[ "$(id -u)" == 0 ]] || fail "${missing[*]} missing and not root: install ${missing[*]} (Debian's packages)"
  command -v apt-get >/dev/null || fail "${missing[*]} missing and no apt-get: install them by hand"
  apt_install() {
    # Waits for another apt (a parallel install) instead of failing; never starts the service.
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -q --no-install-recommends \
      -o DPkg::Lock::Timeout=600 "${missing[@]}"
  }
  apt_update_install() { apt-get update -q -o DPkg::Lock::Timeout=600 && apt_install; }
  : >"$log"
  phase "installing ${missing[*]} with apt-get" apt_install ||
    phase "apt-get update, then installing ${missing[*]}" apt_update_install ||
    fail "could not install ${missing[*]} (the log: $log)"
  pgbouncer="$(find_pgbouncer)"
  psql="$(command -v psql || true)"
  [[ -n "$pgbouncer" && -n "$psql" ]] || fail "apt-get installed ${missing[*]}, yet pgbouncer or psql is not found"
fi

# --- psycopg (libpq from its binary wheel) in a venv ------------------------------------------
venv="$cache/psycopg-v$PSYCOPG_VERSION"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import psycopg' 2>/dev/null; then
  python="$(command -v python3 || true)"
  [[ -n "$python" ]] || fail "no python3 to create the psycopg venv"
  make_venv() {
    local scratch="$venv.tmp"
    rm -rf "$scratch" &&
      "$python" -m venv "$scratch" &&
      "$scratch/bin/python" -m pip install -q --disable-pip-version-check \
        "psycopg[binary]==$PSYCOPG_VERSION" &&
      "$scratch/bin/python" -c 'import psycopg' &&
      rm -rf "$venv" &&
      # A venv records its own path: recreate its scripts' paths by moving before first use.
      mv "$scratch" "$venv" &&
      sed -i "s#$scratch#$venv#g" "$venv/bin/activate" "$venv/pyvenv.cfg" 2>/dev/null
  }
  : >"$log"
  phase "creating a venv with psycopg[binary] $PSYCOPG_VERSION" make_venv ||
    fail "could not install psycopg from PyPI (the log: $log)"
fi

# --- pgx, built from the repository's Go module -----------------------------------------------
source_dir="$root/test/support/drivers/pgx"
hash="$(cat "$source_dir/go.mod" "$source_dir/go.sum" "$source_dir/main.go" | sha256sum | cut -c1-16)"
pgx_login="$cache/pgx-login-$hash/pgx-login"
if [[ ! -x "$pgx_login" ]]; then
  command -v go >/dev/null || fail "no Go toolchain to build $source_dir"
  build_pgx() {
    local scratch
    scratch="$(mktemp -d "$cache/.pgx-login.XXXXXX")"
    (cd "$source_dir" && CGO_ENABLED=0 go build -mod=readonly -trimpath -o "$scratch/pgx-login" .) &&
      rm -rf "$(dirname "$pgx_login")" &&
      mv "$scratch" "$(dirname "$pgx_login")"
  }
  : >"$log"
  phase "building the pgx login program" build_pgx ||
    fail "could not build $source_dir with Go (the log: $log)"
fi

echo "PGBOUNCER=$pgbouncer"
echo "PSQL=$psql"
echo "PYTHON=$venv/bin/python"
echo "PGX_LOGIN=$pgx_login"
