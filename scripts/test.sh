#!/usr/bin/env bash
# `npm test [-- <files or folders>] [-- mocha options]`: mocha on the files named, or on the
# whole suite (test/**/*.test.ts) when none is named. The mocharc lists no spec, so naming a
# file runs that file alone.
set -euo pipefail
cd "$(dirname "$0")/.."
named=false
for arg in "$@"; do
  [[ "$arg" != -* && -e "$arg" ]] && named=true
done
if $named; then
  exec npx mocha "$@"
fi
exec npx mocha "$@" 'test/**/*.test.ts'
