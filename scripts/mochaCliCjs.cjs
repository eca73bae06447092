/**
 * Preloaded by `npm run mutation` and `npm run mutation:server` only. Mocha 12 ships its CLI
 * helpers as `lib/cli/*.cjs`; `@stryker-mutator/mocha-runner` 10.0.0 requires them without an extension
 * (`mocha/lib/cli/run-helpers`), which Node does not complete with `.cjs`. This adds exactly that.
 */
const Module = require("node:module");
const fs = require("node:fs");

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  try {
    return resolve.call(this, request, ...rest);
  } catch (error) {
    if (/[\\/]mocha[\\/]lib[\\/]cli[\\/][\w-]+$/.test(request) && fs.existsSync(`${request}.cjs`)) {
      return resolve.call(this, `${request}.cjs`, ...rest);
    }
    throw error;
  }
};
