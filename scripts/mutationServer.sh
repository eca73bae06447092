#!/usr/bin/env bash
# `npm run mutation:server -- <module> [stryker options]`: StrykerJS on one server-side module
# (stryker.server.config.mjs lists them), with only the test files that cover it. Not part of
# `npm test` nor of CI. The PostgreSQL-backed modules start PostgreSQL ${PG_MAJORS:-18} only; run
# them under the shared lock when other work starts servers on the machine:
#   flock /tmp/pg-heavy.lock npm run mutation:server -- pool
# Reruns are incremental (reports/mutation-server/<module>/stryker-incremental.json): only the
# mutants of changed code, or covered by changed tests, run again. `--mutate <file>:<lines>`
# narrows a run to some lines (e.g. --mutate provider/postgres/shell.ts:100-200).
set -euo pipefail
cd "$(dirname "$0")/.."
module="${1:-}"
if [[ -z "$module" || "$module" == -* ]]; then
  echo "usage: npm run mutation:server -- <module> [stryker options]; modules:" >&2
  grep -oE '^  "?[a-z-]+"?: \{' stryker.server.config.mjs | tr -d ' "{:' | sed 's/^/  /' >&2
  exit 2
fi
shift
export MUTATION_MODULE="$module"
export PG_MAJORS="${PG_MAJORS:-18}"
# The servers' data directories go to a directory of this run, removed at the end; a server
# still running then (its worker ended without stopping it) is stopped by the process id in its
# postmaster.pid file.
TMPDIR="$(mktemp -d /tmp/mutation-server-XXXXXX)"
chmod 755 "$TMPDIR"
export TMPDIR
cleanup() {
  local pidfile pid
  for pidfile in "$TMPDIR"/*/data/postmaster.pid; do
    [[ -f "$pidfile" ]] || continue
    pid="$(head -n 1 "$pidfile")"
    # Only a postmaster of that very data directory (the file outlives a killed server).
    if [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" |
      grep -qF -- "-D ${pidfile%/postmaster.pid}"; then
      kill -QUIT "$pid" 2>/dev/null || true
    fi
  done
  sleep 1
  rm -rf "$TMPDIR"
}
trap cleanup EXIT
start=$SECONDS
status=0
bash scripts/mutation.sh "stryker.server.config.mjs" "$@" || status=$?
echo "mutation:server $module: $((SECONDS - start)) s (PG_MAJORS=$PG_MAJORS)"
exit "$status"
