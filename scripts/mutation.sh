#!/usr/bin/env bash
# `npm run mutation [-- stryker options]`: StrykerJS on the server-free modules (stryker.config.json),
# with their unit tests only: no PostgreSQL, no Pulumi CLI. Not part of `npm test`.
# StrykerJS 10 needs Node.js 22 or later: under an older node, the pinned Node.js 24 runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
if (($(node -p 'process.versions.node.split(".")[0]') < 22)); then
  PATH="$(bash scripts/ensure-node.sh 24):$PATH"
fi
# StrykerJS is not a devDependency: its Node.js >= 22 packages would make every `npm ci` on
# Node.js 20 print hundreds of EBADENGINE lines. It is added here, once, without touching
# package.json or the lockfile (the next `npm ci` removes it again).
STRYKER_PACKAGES=(@stryker-mutator/core@10.0.0 @stryker-mutator/mocha-runner@10.0.0)
if [[ ! -x node_modules/.bin/stryker || ! -d node_modules/@stryker-mutator/mocha-runner ]]; then
  echo "mutation: installing ${STRYKER_PACKAGES[*]} (once per npm ci)"
  npm install --no-save --no-audit --no-fund --loglevel=error "${STRYKER_PACKAGES[@]}"
fi
# Mocha 12 keeps its CLI helpers in .cjs files, which mocha-runner 10.0.0 names without one.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--require $PWD/scripts/mochaCliCjs.cjs"
exec node_modules/.bin/stryker run "$@"
