#!/usr/bin/env bash
# Makes the Pulumi CLI and the Node.js plugins it needs available, and prints one line:
# the directory to put first on PATH.
#
#   scripts/ensure-pulumi.sh            # install if needed, print the bin directory
#   PATH="$(scripts/ensure-pulumi.sh):$PATH" pulumi version
#   scripts/ensure-pulumi.sh --languages yaml,python   # also those languages' hosts
#
# Where the CLI comes from, first that works:
#   1. a `pulumi` already on PATH (set PULUMI_ROTATOR_IGNORE_PATH=1 to skip it);
#   2. the official installer (get.pulumi.com), when that site is reachable;
#   3. a build of the pinned release from its Go module through the Go module proxy.
# The Node.js language host `pulumi-language-nodejs` (needed to run a program folder)
# is taken from PATH, from next to the CLI, or built from its Go module. So are the hosts of
# the languages named with --languages (comma-separated: yaml, python, go), and only when
# asked, so the TypeScript path (`npm run demo`, `npm test`) never waits for their builds:
# `pulumi-language-yaml` from github.com/pulumi/pulumi-yaml; `pulumi-language-python` (with
# the `pulumi-language-python-exec` script it runs, beside it where it looks for it) from the
# same sdk module as the Node.js host; `pulumi-language-go` from the sdk module's last release
# that held it. A Python program also needs an active virtualenv: scripts/ensure-python.sh.
# The dynamic provider plugin `pulumi-resource-pulumi-nodejs` is the shim shipped in
# the `@pulumi/pulumi` npm package. `pulumi` is linked into the printed directory,
# node_modules/.pulumi/bin (or $PULUMI_ROTATOR_BIN); the plugins are put next to a CLI this
# script installed, else linked there too.
#
# Binaries are cached by version outside the repository, in
# ${PULUMI_ROTATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-postgres-rotator}.
# Progress goes to stderr, one line per phase (download, build the CLI, build each language
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
# The last release whose sdk module still contained the Go language host (v3.67.0 moved it to
# a module of its own, which the proxy does not serve).
GO_HOST_SDK_VERSION="3.66.0"
# The YAML language host, its own module (github.com/pulumi/pulumi-yaml).
YAML_HOST_VERSION="1.25.0"

# The language hosts this script knows: each one's Go package, module version, the variable its
# version is stamped into, how its phase line names it, and a file of its module it needs
# beside its binary.
sdk_version_variable=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
declare -A host_package=(
  [nodejs]=github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
  [yaml]=github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
  [python]=github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python
  [go]=github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go
)
declare -A host_version=(
  [nodejs]=$LANGUAGE_HOST_SDK_VERSION
  [yaml]=$YAML_HOST_VERSION
  [python]=$LANGUAGE_HOST_SDK_VERSION
  [go]=$GO_HOST_SDK_VERSION
)
declare -A host_version_variable=(
  [nodejs]=$sdk_version_variable
  [yaml]=github.com/pulumi/pulumi-yaml/pkg/version.Version
  [python]=$sdk_version_variable
  [go]=$sdk_version_variable
)
declare -A host_title=([nodejs]=Node.js [yaml]=YAML [python]=Python [go]=Go)
declare -A host_source=(
  [nodejs]="(sdk v$LANGUAGE_HOST_SDK_VERSION)"
  [yaml]="v$YAML_HOST_VERSION"
  [python]="(sdk v$LANGUAGE_HOST_SDK_VERSION)"
  [go]="(sdk v$GO_HOST_SDK_VERSION)"
)
declare -A host_companion=([python]=python/cmd/pulumi-language-python-exec)

usage="usage: ensure-pulumi.sh [--languages yaml,python,go]"
languages=(nodejs)
while (($# > 0)); do
  case "$1" in
    --languages=*) requested="${1#*=}" ;;
    --languages)
      (($# >= 2)) || { echo "ensure-pulumi: --languages needs a list ($usage)" >&2 && exit 2; }
      requested="$2"
      shift
      ;;
    *) echo "ensure-pulumi: unknown argument $1 ($usage)" >&2 && exit 2 ;;
  esac
  shift
  IFS=, read -ra names <<<"$requested"
  for name in ${names[@]+"${names[@]}"}; do
    case "$name" in
      nodejs | yaml | python | go) [[ " ${languages[*]} " == *" $name "* ]] || languages+=("$name") ;;
      *) echo "ensure-pulumi: unknown language '$name' (known: yaml, python, go)" >&2 && exit 2 ;;
    esac
  done
done

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

# --- the language hosts ----------------------------------------------------------------
cli_home=""
[[ -n "$found_cli" ]] && cli_home="$(dirname "$(readlink -f "$found_cli")")"
complete_host() {
  # complete_host <language> <file>: an executable host, its companion beside its real file.
  local companion="${host_companion[$1]:-}"
  [[ -x "$2" ]] || return 1
  [[ -z "$companion" || -f "$(dirname "$(readlink -f "$2")")/$(basename "$companion")" ]]
}
declare -A host=()
hosts_to_build=()
for language in "${languages[@]}"; do
  name="pulumi-language-$language"
  found=""
  if [[ -n "$cli_home" ]] && complete_host "$language" "$cli_home/$name"; then
    found="$cli_home/$name"
  fi
  if [[ -z "$found" ]]; then
    found="$(on_path "$name")"
    if [[ -n "$found" ]] && ! complete_host "$language" "$found"; then found=""; fi
  fi
  cached="$cache/language-$language-v${host_version[$language]}/$name"
  if [[ -z "$found" ]] && complete_host "$language" "$cached"; then
    found="$cached"
  fi
  host[$language]="$found"
  [[ -n "$found" ]] || hosts_to_build+=("$language")
done

# --- building what is missing from its Go module ---------------------------------------
build_cli=false
[[ -z "$found_cli" ]] && build_cli=true

if $build_cli || ((${#hosts_to_build[@]} > 0)); then
  # In words: "the Pulumi CLI v… and its Node.js language host", "the Pulumi YAML and Python
  # language hosts".
  hosts_named=""
  for language in ${hosts_to_build[@]+"${hosts_to_build[@]}"}; do
    if [[ -z "$hosts_named" ]]; then
      hosts_named="${host_title[$language]}"
    elif [[ "$language" == "${hosts_to_build[-1]}" ]]; then
      hosts_named="$hosts_named and ${host_title[$language]}"
    else
      hosts_named="$hosts_named, ${host_title[$language]}"
    fi
  done
  hosts_named="$hosts_named language host"
  ((${#hosts_to_build[@]} > 1)) && hosts_named="${hosts_named}s"
  if ! $build_cli; then
    what="the Pulumi $hosts_named"
  elif ((${#hosts_to_build[@]} == 0)); then
    what="the Pulumi CLI v$PULUMI_VERSION"
  else
    what="the Pulumi CLI v$PULUMI_VERSION and its $hosts_named"
  fi
  command -v go >/dev/null ||
    fail "no pulumi on PATH, get.pulumi.com unreachable, and no Go toolchain to build $what. Install the Pulumi CLI (https://www.pulumi.com/docs/install/) and run again."
  : >"$log"
  phase_number=0
  phase_count=$((1 + ${#hosts_to_build[@]}))
  $build_cli && phase_count=$((phase_count + 1))
  say "building $what from the Go module proxy, once per machine (Go's output: $log)"

  cli_package=github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  go_get() {
    # go_get <directory> <package> <version>: a module in <directory> requiring the package.
    (cd "$1" && go mod init pulumi-postgres-rotator-cli-build && go get -tool "$2@v$3")
  }
  go_build() {
    # go_build <directory> <package> <version> <output> [<version variable>]
    mkdir -p "$(dirname "$4")" && (cd "$1" && CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X ${5:-$sdk_version_variable}=v$3" -o "$4" "$2")
  }
  build_host() {
    # build_host <language>: its binary, and the companion file from its module's source.
    local language="$1" work="${host_work[$1]}" companion="${host_companion[$1]:-}" module_dir
    go_build "$work" "${host_package[$language]}" "${host_version[$language]}" \
      "$work/out/pulumi-language-$language" "${host_version_variable[$language]}" || return
    [[ -n "$companion" ]] || return 0
    module_dir="$(cd "$work" && go list -f '{{.Module.Dir}}' "${host_package[$language]}")" &&
      cp "$module_dir/$companion" "$work/out/" &&
      chmod 755 "$work/out/$(basename "$companion")"
  }
  downloads() {
    local language
    if $build_cli; then go_get "$cli_work" "$cli_package" "$PULUMI_VERSION" || return; fi
    for language in ${hosts_to_build[@]+"${hosts_to_build[@]}"}; do
      go_get "${host_work[$language]}" "${host_package[$language]}" \
        "${host_version[$language]}" || return
    done
  }
  failed() {
    show_log
    fail "building $1 from the Go module proxy failed (the full log: $log). Install the Pulumi CLI (https://www.pulumi.com/docs/install/) and run again."
  }
  $build_cli && new_scratch cli_work
  declare -A host_work=()
  for language in ${hosts_to_build[@]+"${hosts_to_build[@]}"}; do
    new_scratch "host_work[$language]"
  done

  phase "downloading the Go modules" downloads || failed "the Go modules' download"
  if $build_cli; then
    phase "building the Pulumi CLI v$PULUMI_VERSION" \
      go_build "$cli_work" "$cli_package" "$PULUMI_VERSION" "$cli_work/out/pulumi" ||
      failed "$cli_package v$PULUMI_VERSION"
  fi
  for language in ${hosts_to_build[@]+"${hosts_to_build[@]}"}; do
    phase "building the ${host_title[$language]} language host ${host_source[$language]}" \
      build_host "$language" ||
      failed "${host_package[$language]} v${host_version[$language]}"
  done
  # Only whole results reach their final place, each with a rename.
  if $build_cli; then
    rm -rf "$cli_dir"
    mv "$cli_work/out" "$cli_dir"
    found_cli="$cli_dir/pulumi"
  fi
  for language in ${hosts_to_build[@]+"${hosts_to_build[@]}"}; do
    host_dir="$cache/language-$language-v${host_version[$language]}"
    rm -rf "$host_dir"
    mv "${host_work[$language]}/out" "$host_dir"
    host[$language]="$host_dir/pulumi-language-$language"
  done
fi
ln -sfn "$found_cli" "$bin/pulumi"
cli_home="$(dirname "$(readlink -f "$found_cli")")"

# --- the plugins ------------------------------------------------------------------------
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

for language in "${languages[@]}"; do
  # A host with a companion looks for it beside its own real file: beside our CLI, copy it
  # there first; a link in $bin resolves to a file that already has it beside it.
  companion="${host_companion[$language]:-}"
  if [[ -n "$companion" ]] && $own_cli; then
    place "$(basename "$companion")" \
      "$(dirname "$(readlink -f "${host[$language]}")")/$(basename "$companion")"
  fi
  place "pulumi-language-$language" "${host[$language]}"
done

# The dynamic provider plugin: a shell shim of the @pulumi/pulumi npm package that resolves
# @pulumi/pulumi from the program's directory, so one copy serves every checkout.
shim="$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
[[ -x "$shim" ]] || fail "$shim is missing: run \`npm ci\` first."
place pulumi-resource-pulumi-nodejs "$shim"

"$bin/pulumi" version >/dev/null 2>&1 || fail "$bin/pulumi does not run"
echo "$bin"
