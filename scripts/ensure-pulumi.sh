#!/usr/bin/env bash
# Makes the Pulumi CLI and the Node.js plugins it needs available, and prints one line:
# the directory to put first on PATH.
#
#   scripts/ensure-pulumi.sh            # install if needed, print the bin directory
#   PATH="$(scripts/ensure-pulumi.sh):$PATH" pulumi version
#
# Where the CLI comes from, first that works:
#   1. a `pulumi` already on PATH (set PULUMI_ROTATOR_IGNORE_PATH=1 to skip it);
#   2. the official installer (get.pulumi.com), when that site is reachable;
#   3. a build of the pinned release from its Go module through the Go module proxy.
# The Node.js language host `pulumi-language-nodejs` (needed to run a program folder)
# is taken from PATH, from next to the CLI, or built from its Go module.
# The dynamic provider plugin `pulumi-resource-pulumi-nodejs` is the shim shipped in
# the `@pulumi/pulumi` npm package. `pulumi` is linked into the printed directory,
# node_modules/.pulumi/bin (or $PULUMI_ROTATOR_BIN); the two plugins are put next to a CLI
# this script installed, else linked there too.
#
# Binaries are cached by version outside the repository, in
# ${PULUMI_ROTATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-postgres-rotator}.
# Progress goes to stderr, one line per phase (download, build the CLI, build the language
# host) with its duration, and nothing when everything is cached; stdout is only the
# directory. What the installer and Go print goes to install.log in the cache, shown (its end)
# only when a phase fails. Work happens in scratch directories in the cache, removed however
# the script ends; only finished binaries are moved into place.
set -euo pipefail

PULUMI_VERSION="3.274.1"
# The last release whose Go module `github.com/pulumi/pulumi/sdk/v3` still contained
# the Node.js language host; later releases moved it to a module the proxy does not
# serve. The host's protocol is stable, and it only starts `node` on the program.
LANGUAGE_HOST_SDK_VERSION="3.68.0"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PULUMI_ROTATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-postgres-rotator}"
# Links to what we use live with this checkout, so two clones never fight over them.
bin="${PULUMI_ROTATOR_BIN:-$root/node_modules/.pulumi/bin}"
# What the installer or the Go toolchain prints goes here, not to the terminal; shown on failure.
log="$cache/install.log"
say() { echo "ensure-pulumi: $*" >&2; }
fail() {
  say "$*"
  exit 1
}

# Scratch directories of this run, in the cache (so a finished binary is moved, not copied,
# into place); removed however the script ends, Ctrl-C included.
scratch_dirs=()
cleanup() {
  local dir
  for dir in ${scratch_dirs[@]+"${scratch_dirs[@]}"}; do rm -rf "$dir"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
new_scratch() {
  # new_scratch <variable>: makes a scratch directory and stores its path in <variable>.
  local dir
  dir="$(mktemp -d "$cache/.scratch.XXXXXX")"
  scratch_dirs+=("$dir")
  printf -v "$1" '%s' "$dir"
}

# One progress line per phase: its title when it starts, then how long it took.
phase_number=0
phase_count=0
phase() {
  # phase <title> <command…>: runs the command with its output appended to $log.
  local title="$1" started=$SECONDS
  shift
  phase_number=$((phase_number + 1))
  printf 'ensure-pulumi: [%d/%d] %s … ' "$phase_number" "$phase_count" "$title" >&2
  if "$@" >>"$log" 2>&1 </dev/null; then
    echo "done ($(elapsed "$started"))" >&2
    return 0
  fi
  echo "failed after $(elapsed "$started")" >&2
  return 1
}
elapsed() {
  local seconds=$((SECONDS - $1))
  printf '%dm%02ds' $((seconds / 60)) $((seconds % 60))
}
show_log() {
  # The end of the log (without Go's module download lines), then where the rest is.
  say "the end of $log:"
  grep -v '^go: downloading ' "$log" | tail -n 40 | sed 's/^/  /' >&2 || true
}

mkdir -p "$bin" "$cache"

# --- the CLI -------------------------------------------------------------------------
cli_dir="$cache/pulumi-v$PULUMI_VERSION"
on_path() {
  # on_path <command>: its first location on PATH outside our own bin directory, if any.
  [[ "${PULUMI_ROTATOR_IGNORE_PATH:-}" == "1" ]] && return 0
  local candidate
  while IFS= read -r candidate; do
    if [[ "$(dirname "$candidate")" != "$bin" ]]; then
      echo "$candidate"
      return 0
    fi
  done < <(type -ap "$1" 2>/dev/null || true)
}

found_cli="$(on_path pulumi)"

if [[ -z "$found_cli" && -x "$cli_dir/pulumi" ]]; then
  found_cli="$cli_dir/pulumi"
fi

official_install() {
  # official_install <scratch>: the official installer's CLI (and plugins) into <scratch>/official.
  sh "$1/install.sh" --version "$PULUMI_VERSION" --install-root "$1/official" --no-edit-path &&
    [[ -x "$1/official/bin/pulumi" ]]
}

if [[ -z "$found_cli" ]] && command -v curl >/dev/null; then
  new_scratch official
  if curl -fsS --max-time 10 -o "$official/install.sh" https://get.pulumi.com/ 2>/dev/null; then
    : >"$log"
    phase_count=1
    if phase "downloading Pulumi CLI v$PULUMI_VERSION with the official installer" \
      official_install "$official"; then
      mkdir -p "$official/staged"
      cp "$official/official/bin/"pulumi* "$official/staged/"
      rm -rf "$cli_dir"
      mv "$official/staged" "$cli_dir"
      found_cli="$cli_dir/pulumi"
    else
      show_log
      say "the official installer failed; building from the Go module instead"
    fi
  fi
fi

# --- the Node.js language host ---------------------------------------------------------
cli_home=""
[[ -n "$found_cli" ]] && cli_home="$(dirname "$(readlink -f "$found_cli")")"
host=""
[[ -n "$cli_home" && -x "$cli_home/pulumi-language-nodejs" ]] && host="$cli_home/pulumi-language-nodejs"
[[ -n "$host" ]] || host="$(on_path pulumi-language-nodejs)"
host_dir="$cache/language-nodejs-v$LANGUAGE_HOST_SDK_VERSION"
if [[ -z "$host" && -x "$host_dir/pulumi-language-nodejs" ]]; then
  host="$host_dir/pulumi-language-nodejs"
fi

# --- building what is missing from its Go module ---------------------------------------
build_cli=false
build_host=false
[[ -z "$found_cli" ]] && build_cli=true
[[ -z "$host" ]] && build_host=true

if $build_cli || $build_host; then
  command -v go >/dev/null ||
    fail "no pulumi on PATH, get.pulumi.com unreachable, and no Go toolchain to build v$PULUMI_VERSION. Install the Pulumi CLI (https://www.pulumi.com/docs/install/) and run again."
  : >"$log"
  phase_number=0
  phase_count=1
  $build_cli && phase_count=$((phase_count + 1))
  $build_host && phase_count=$((phase_count + 1))
  what="the Pulumi CLI v$PULUMI_VERSION and its Node.js language host"
  $build_cli || what="the Pulumi Node.js language host"
  say "building $what from the Go module proxy, once per machine (Go's output: $log)"

  cli_package=github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  host_package=github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
  go_get() {
    # go_get <directory> <package> <version>: a module in <directory> requiring the package.
    (cd "$1" && go mod init pulumi-postgres-rotator-cli-build && go get -tool "$2@v$3")
  }
  go_build() {
    # go_build <directory> <package> <version> <output>
    mkdir -p "$(dirname "$4")" && (cd "$1" && CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$3" \
      -o "$4" "$2")
  }
  downloads() {
    if $build_cli; then go_get "$cli_work" "$cli_package" "$PULUMI_VERSION" || return; fi
    if $build_host; then go_get "$host_work" "$host_package" "$LANGUAGE_HOST_SDK_VERSION"; fi
  }
  failed() {
    show_log
    fail "building $1 from the Go module proxy failed (the full log: $log). Install the Pulumi CLI (https://www.pulumi.com/docs/install/) and run again."
  }
  $build_cli && new_scratch cli_work
  $build_host && new_scratch host_work

  phase "downloading the Go modules" downloads || failed "the Go modules' download"
  if $build_cli; then
    phase "building the Pulumi CLI v$PULUMI_VERSION" \
      go_build "$cli_work" "$cli_package" "$PULUMI_VERSION" "$cli_work/out/pulumi" ||
      failed "$cli_package v$PULUMI_VERSION"
  fi
  if $build_host; then
    phase "building the Node.js language host (sdk v$LANGUAGE_HOST_SDK_VERSION)" \
      go_build "$host_work" "$host_package" "$LANGUAGE_HOST_SDK_VERSION" \
      "$host_work/out/pulumi-language-nodejs" ||
      failed "$host_package v$LANGUAGE_HOST_SDK_VERSION"
  fi
  # Only whole results reach their final place, each with a rename.
  if $build_cli; then
    rm -rf "$cli_dir"
    mv "$cli_work/out" "$cli_dir"
    found_cli="$cli_dir/pulumi"
  fi
  if $build_host; then
    rm -rf "$host_dir"
    mv "$host_work/out" "$host_dir"
    host="$host_dir/pulumi-language-nodejs"
  fi
fi
ln -sfn "$found_cli" "$bin/pulumi"
cli_home="$(dirname "$(readlink -f "$found_cli")")"

# --- the Node.js plugins ----------------------------------------------------------------
# The CLI uses plugins found next to its own (resolved) executable silently, and warns about
# ones it takes from PATH. Next to a CLI in our cache we put them there; next to anyone
# else's we only link them into $bin.
own_cli=false
[[ "$cli_home" == "$(cd "$cache" && pwd -P)"/* ]] && own_cli=true

place() {
  # place <plugin name> <file>: beside the CLI if it is ours, else linked into $bin.
  local name="$1" file="$2"
  if [[ -x "$cli_home/$name" ]]; then
    rm -f "$bin/$name"
  elif $own_cli; then
    cp "$file" "$cli_home/$name.tmp" && mv "$cli_home/$name.tmp" "$cli_home/$name"
    rm -f "$bin/$name"
  else
    ln -sfn "$file" "$bin/$name"
  fi
}

place pulumi-language-nodejs "$host"

# The dynamic provider plugin: a shell shim of the @pulumi/pulumi npm package that resolves
# @pulumi/pulumi from the program's directory, so one copy serves every checkout.
shim="$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
[[ -x "$shim" ]] || fail "$shim is missing: run \`npm ci\` first."
place pulumi-resource-pulumi-nodejs "$shim"

"$bin/pulumi" version >/dev/null 2>&1 || fail "$bin/pulumi does not run"
echo "$bin"
