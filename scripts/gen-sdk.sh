#!/usr/bin/env bash
# Generates the Python, Go and .NET SDKs of the package from its schema.json:
#
#   npm run gen-sdk [-- <schema.json> [<out>]]
#   scripts/gen-sdk.sh                                   # provider/plugin/schema.json → sdk/
#   scripts/gen-sdk.sh test/fixtures/gen-sdk/schema.json /tmp/sdk
#
# writes <out>/python (pip-installable: scripts/ensure-python.sh --sdk <out>/python), <out>/go
# (a Go module with its go.sum, requiring the Pulumi Go SDK at the CLI's version) and
# <out>/dotnet (a C# project), each replaced whole. stdout: `PYTHON_SDK=<dir>`, `GO_SDK=<dir>` and
# `DOTNET_SDK=<dir>`, nothing else.
#
# The generators are Go programs: scripts/gen-sdk (Python and Go: the code generators of
# github.com/pulumi/pulumi/pkg/v3 at the CLI's version) and scripts/gen-sdk/dotnet (.NET: pkg/v3
# v3.228.0, the last version that has the .NET generator, which then moved to the .NET language
# host), each a module pinned by its go.sum. `pulumi package gen-sdk` asks the language hosts to
# generate, and the ones that build here (sdk v3.68.0) predate that. Each is built once per hash
# of its sources into the cache, ${PULUMI_ROTATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/
# pulumi-postgres-rotator}, like scripts/ensure-pulumi.sh's binaries. Progress goes to stderr, one
# line per phase with its duration (nothing for generators already built); what Go prints goes
# to gen-sdk.log in the cache, shown (its end) only when a phase fails.
set -euo pipefail

# The Go SDK the generated Go module requires: the CLI's version, in the module cache already
# when the CLI was built from its module. A Go program using the SDK needs a version whose
# dependencies the Go module proxy serves: this one does.
PULUMI_GO_SDK_VERSION="3.274.1"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PULUMI_ROTATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-postgres-rotator}"
log="$cache/gen-sdk.log"
say() { echo "gen-sdk: $*" >&2; }
fail() {
  say "$*"
  exit 1
}

(($# <= 2)) || fail "usage: gen-sdk.sh [<schema.json> [<out>]]"
schema="${1:-$root/provider/plugin/schema.json}"
out="${2:-$root/sdk}"
[[ -f "$schema" ]] || fail "$schema does not exist"

mkdir -p "$cache"
# Scratch directories of this run, in the cache; removed however the script ends.
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
  printf 'gen-sdk: %s … ' "$title" >&2
  if "$@" >>"$log" 2>&1 </dev/null; then
    seconds=$((SECONDS - started))
    printf 'done (%dm%02ds)\n' $((seconds / 60)) $((seconds % 60)) >&2
    return 0
  fi
  seconds=$((SECONDS - started))
  printf 'failed after %dm%02ds\n' $((seconds / 60)) $((seconds % 60)) >&2
  say "the end of $log:"
  grep -v '^go: downloading ' "$log" | tail -n 30 | sed 's/^/  /' >&2 || true
  return 1
}

command -v go >/dev/null || fail "no Go toolchain (https://go.dev/dl/) to build the generators"

# --- the generators -----------------------------------------------------------------------------
# generator <var> <title> <source dir> <source file…>: sets <var> to the SDK generator
# built from the Go module in <source dir>, building it first unless the cache has it already (its
# folder there is named after the hash of the source files).
generator() {
  local var="$1" what="$2" source_dir="$3" hash name binary
  shift 3
  hash="$(cd "$source_dir" && cat "$@" | sha256sum | cut -c1-16)"
  name="$(basename "$source_dir")"
  [[ "$name" == gen-sdk ]] || name="gen-sdk-$name"
  binary="$cache/$name-$hash/$name"
  printf -v "$var" '%s' "$binary"
  [[ ! -x "$binary" ]] || return 0
  build_generator() {
    local scratch
    scratch="$(mktemp -d "$cache/.scratch.XXXXXX")"
    scratch_dirs+=("$scratch")
    (cd "$source_dir" && CGO_ENABLED=0 go build -mod=readonly -trimpath -o "$scratch/$name" .) &&
      rm -rf "$(dirname "$binary")" &&
      mv "$scratch" "$(dirname "$binary")"
  }
  : >"$log"
  phase "building the $what, once per machine" build_generator ||
    fail "could not build $source_dir (the log: $log)"
}
generator python_go_generator "Python and Go SDK generator (pkg/v3 v$PULUMI_GO_SDK_VERSION)" \
  "$root/scripts/gen-sdk" go.mod go.sum main.go
generator dotnet_generator ".NET SDK generator (pkg/v3 v3.228.0)" \
  "$root/scripts/gen-sdk/dotnet" go.mod go.sum main.go logo.png

# --- the SDKs -----------------------------------------------------------------------------------
# .NET first: it refuses more (a logoUrl, too), so a schema either generator refuses changes nothing.
: >"$log"
generate() {
  "$1" -schema "$schema" -out "$out" 2>>"$log" || {
    sed 's/^/  /' "$log" >&2
    fail "could not generate the SDKs from $schema"
  }
}
generate "$dotnet_generator"
generate "$python_go_generator"
# The generated go.mod asks for the Go SDK the generator was released with (v3.269.0, whose
# pulumi-cloud-sdk dependency the Go module proxy refuses); ask for the CLI's, and record the
# checksums of what it needs (go.sum), so the module builds as it is.
go_module() {
  (cd "$out/go" && go mod edit -require="github.com/pulumi/pulumi/sdk/v3@v$PULUMI_GO_SDK_VERSION" &&
    go mod tidy)
}
go_module >>"$log" 2>&1 || {
  grep -v '^go: downloading ' "$log" | tail -n 30 | sed 's/^/  /' >&2
  fail "go mod tidy failed in $out/go (the log: $log)"
}

echo "PYTHON_SDK=$(cd "$out/python" && pwd)"
echo "GO_SDK=$(cd "$out/go" && pwd)"
echo "DOTNET_SDK=$(cd "$out/dotnet" && pwd)"
