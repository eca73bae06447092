#!/usr/bin/env bash
# A Python virtualenv for running Pulumi Python programs here, with the `pulumi` wheel from PyPI
# and, if named, generated SDKs pip-installed into it; prints what a test needs to activate it:
#
#   scripts/ensure-python.sh                        # the venv, with pulumi
#   scripts/ensure-python.sh --sdk sdk/python       # … and that SDK installed (repeatable)
#
# stdout: `VIRTUAL_ENV=<dir>` and `BIN=<dir>/bin`, nothing else. The Python language host that
# scripts/ensure-pulumi.sh builds (sdk v3.68.0) ignores Pulumi.yaml's `virtualenv` option: run
# the CLI with VIRTUAL_ENV set and BIN first on PATH.
#
# Two venvs, so that two checkouts never install into each other's:
#   - a shared one with the pinned `pulumi` wheel (and setuptools, to build SDKs offline), made
#     once per machine in the cache, ${PULUMI_ROTATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/
#     pulumi-postgres-rotator}, like the CLI: a venv cannot be moved, so it is made in place and
#     trusted only once its last step wrote `.complete` into it;
#   - this checkout's, node_modules/.pulumi/venv (or $PULUMI_ROTATOR_VENV), made without pip in a
#     moment, that sees the shared one's packages through a .pth file and holds the SDKs.
# An SDK is reinstalled only when its files changed (their hash is kept in the venv), from a
# scratch copy, so the build leaves nothing in the SDK's directory. Progress goes to stderr, one
# line per phase with its duration, and nothing when everything is in place; what pip prints
# goes to python.log in the cache, shown (its end) only when a phase fails.
set -euo pipefail

# The Python SDK release that runs with the CLI (v3.274.1) and the Python host (sdk v3.68.0)
# here, and meets the generated SDKs' `pulumi>=3.269.0,<4.0.0`.
PULUMI_PYTHON_VERSION="3.272.0"
SETUPTOOLS_VERSION="84.2.1"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PULUMI_ROTATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-postgres-rotator}"
venv="${PULUMI_ROTATOR_VENV:-$root/node_modules/.pulumi/venv}"
log="$cache/python.log"
say() { echo "ensure-python: $*" >&2; }
fail() {
  say "$*"
  exit 1
}

sdks=()
while (($# > 0)); do
  case "$1" in
    --sdk)
      (($# >= 2)) || fail "--sdk needs a directory (usage: ensure-python.sh [--sdk <dir>]…)"
      [[ -d "$2" ]] || fail "--sdk $2: no such directory (generate it first: npm run gen-sdk)"
      sdks+=("$(cd "$2" && pwd)")
      shift 2
      ;;
    *) fail "unknown argument $1 (usage: ensure-python.sh [--sdk <dir>]…)" ;;
  esac
done

mkdir -p "$cache"
# Scratch directories of this run, removed however the script ends.
scratch_dirs=()
cleanup() {
  local dir
  for dir in ${scratch_dirs[@]+"${scratch_dirs[@]}"}; do rm -rf "$dir"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

phase() {
  # phase <title> <command…>: runs the command with its output appended to $log.
  local title="$1" started=$SECONDS seconds
  shift
  printf 'ensure-python: %s … ' "$title" >&2
  if "$@" >>"$log" 2>&1 </dev/null; then
    seconds=$((SECONDS - started))
    printf 'done (%dm%02ds)\n' $((seconds / 60)) $((seconds % 60)) >&2
    return 0
  fi
  seconds=$((SECONDS - started))
  printf 'failed after %dm%02ds\n' $((seconds / 60)) $((seconds % 60)) >&2
  say "the end of $log:"
  tail -n 30 "$log" | sed 's/^/  /' >&2 || true
  return 1
}

python="$(command -v python3 || true)"
[[ -n "$python" ]] || fail "no python3 on PATH: install Python 3.9 or later"
python_version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

# --- the shared venv with pulumi --------------------------------------------------------------
base="$cache/python$python_version-pulumi-v$PULUMI_PYTHON_VERSION"
if [[ ! -f "$base/.complete" ]]; then
  make_base() {
    rm -rf "$base" &&
      "$python" -m venv "$base" &&
      "$base/bin/python" -m pip install -q --disable-pip-version-check \
        "pulumi==$PULUMI_PYTHON_VERSION" "setuptools==$SETUPTOOLS_VERSION" &&
      "$base/bin/python" -c 'import pulumi, setuptools' &&
      touch "$base/.complete"
  }
  # One maker at a time: another checkout may be making the same venv.
  exec 9>"$base.lock"
  flock 9
  if [[ ! -f "$base/.complete" ]]; then
    : >"$log"
    phase "creating a venv with pulumi $PULUMI_PYTHON_VERSION from PyPI (python $python_version)" \
      make_base || fail "could not install pulumi $PULUMI_PYTHON_VERSION from PyPI (the log: $log)"
  fi
  flock -u 9
fi
base_site="$("$base/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"

# --- this checkout's venv ---------------------------------------------------------------------
site_packages() { "$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))'; }
if [[ ! -x "$venv/bin/python" ]] ||
  [[ "$(cat "$(site_packages 2>/dev/null)/pulumi-rotator-base.pth" 2>/dev/null)" != "$base_site" ]]; then
  make_venv() {
    rm -rf "$venv" &&
      "$base/bin/python" -m venv --without-pip "$venv" &&
      echo "$base_site" >"$(site_packages)/pulumi-rotator-base.pth" &&
      "$venv/bin/python" -c 'import pulumi, pip'
  }
  : >"$log"
  phase "creating this checkout's venv (${venv#"$root/"})" make_venv ||
    fail "could not create $venv (the log: $log)"
fi

# --- the SDKs -----------------------------------------------------------------------------------
site="$(site_packages)"
for sdk in ${sdks[@]+"${sdks[@]}"}; do
  # The files pip would read, by content; a build's leftovers are not the SDK's.
  hash="$(cd "$sdk" && find . -type f ! -path '*/__pycache__/*' ! -path './build/*' \
    ! -path '*.egg-info/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
  record="$site/.pulumi-rotator-sdk-$(echo "$sdk" | sha256sum | cut -c1-16)"
  [[ "$(cat "$record" 2>/dev/null)" == "$hash" ]] && continue
  scratch="$(mktemp -d "$cache/.scratch.XXXXXX")"
  scratch_dirs+=("$scratch")
  install_sdk() {
    cp -R "$sdk/." "$scratch/" &&
      # Dependencies already in the shared venv are found there; setuptools too (no isolation).
      "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation \
        --force-reinstall --no-deps "$scratch" &&
      "$venv/bin/python" -m pip check &&
      echo "$hash" >"$record"
  }
  : >"$log"
  phase "installing the SDK in ${sdk#"$root/"}" install_sdk ||
    fail "could not pip install $sdk (the log: $log)"
done

echo "VIRTUAL_ENV=$venv"
echo "BIN=$venv/bin"
