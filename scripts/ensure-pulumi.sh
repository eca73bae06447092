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
# Progress goes to stderr; stdout is only the directory.
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
say() { echo "ensure-pulumi: $*" >&2; }
fail() {
  say "$*"
  exit 1
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

if [[ -z "$found_cli" ]] && command -v curl >/dev/null &&
  curl -fsS --max-time 10 -o "$cache/install.sh" https://get.pulumi.com/ 2>/dev/null; then
  say "installing Pulumi CLI v$PULUMI_VERSION with the official installer"
  if sh "$cache/install.sh" --version "$PULUMI_VERSION" --install-root "$cache/official" \
    --no-edit-path >&2 && [[ -x "$cache/official/bin/pulumi" ]]; then
    mkdir -p "$cli_dir"
    cp "$cache/official/bin/"pulumi* "$cli_dir/"
    found_cli="$cli_dir/pulumi"
  else
    say "the official installer failed; building from the Go module instead"
  fi
fi

go_build() {
  # go_build <version> <package> <output> [ldflags]
  local version="$1" package="$2" output="$3" ldflags="${4:-}"
  command -v go >/dev/null ||
    fail "no pulumi on PATH, get.pulumi.com unreachable, and no Go toolchain to build v$PULUMI_VERSION. Install the Pulumi CLI (https://www.pulumi.com/docs/install/) and run again."
  local work
  work="$(mktemp -d "$cache/build.XXXXXX")"
  (
    cd "$work"
    go mod init pulumi-postgres-rotator-cli-build >/dev/null 2>&1
    go get -tool "$package@v$version" >&2
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$output.tmp" "$package" >&2
  ) || {
    rm -rf "$work"
    fail "building $package v$version from the Go module proxy failed (see above). Install the Pulumi CLI (https://www.pulumi.com/docs/install/) and run again."
  }
  mv "$output.tmp" "$output"
  rm -rf "$work"
}

if [[ -z "$found_cli" ]]; then
  say "building Pulumi CLI v$PULUMI_VERSION from the Go module proxy (first time only; several minutes)"
  mkdir -p "$cli_dir"
  go_build "$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$cli_dir/pulumi" \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
  found_cli="$cli_dir/pulumi"
fi
ln -sfn "$found_cli" "$bin/pulumi"

# --- the Node.js plugins ----------------------------------------------------------------
# The CLI uses plugins found next to its own (resolved) executable silently, and warns about
# ones it takes from PATH. Next to a CLI in our cache we put them there; next to anyone
# else's we only link them into $bin.
cli_home="$(dirname "$(readlink -f "$found_cli")")"
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

host="$cli_home/pulumi-language-nodejs"
[[ -x "$host" ]] || host="$(on_path pulumi-language-nodejs)"
if [[ -z "$host" ]]; then
  host_dir="$cache/language-nodejs-v$LANGUAGE_HOST_SDK_VERSION"
  host="$host_dir/pulumi-language-nodejs"
  if [[ ! -x "$host" ]]; then
    say "building the Node.js language host (sdk v$LANGUAGE_HOST_SDK_VERSION) from the Go module proxy"
    mkdir -p "$host_dir"
    go_build "$LANGUAGE_HOST_SDK_VERSION" \
      github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs "$host" \
      "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$LANGUAGE_HOST_SDK_VERSION"
  fi
fi
place pulumi-language-nodejs "$host"

# The dynamic provider plugin: a shell shim of the @pulumi/pulumi npm package that resolves
# @pulumi/pulumi from the program's directory, so one copy serves every checkout.
shim="$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
[[ -x "$shim" ]] || fail "$shim is missing: run \`npm ci\` first."
place pulumi-resource-pulumi-nodejs "$shim"

"$bin/pulumi" version >/dev/null 2>&1 || fail "$bin/pulumi does not run"
echo "$bin"
