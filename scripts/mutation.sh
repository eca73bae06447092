#!/usr/bin/env bash
# `npm run mutation [-- stryker options]`: StrykerJS on the server-free modules (stryker.config.json),
# with their unit tests only: no PostgreSQL, no Pulumi CLI. Not part of `npm test`.
# StrykerJS 10 needs Node.js 22 or later: under an older node, the pinned Node.js 24 runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
if (($(node -p 'process.versions.node.split(".")[0]') < 22)); then
  PATH="$(bash scripts/ensure-node.sh 24):$PATH"
fi
# Mocha 12 keeps its CLI helpers in .cjs files, which mocha-runner 10.0.0 names without one.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--require $PWD/scripts/mochaCliCjs.cjs"
exec npx stryker run "$@"
