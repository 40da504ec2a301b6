/**
 * `npm run test:twin`: the twin lab's suites (__tests__/engine/twin-*.test.ts), against the private Docker engine that
 * __tests__/engine/run.sh starts, as `npm run test:engine` does; apart from it so each run stays well inside its
 * time. One worker, for the same reason as the engine suites.
 * @type {import('jest').Config}
 */
module.exports = {
  ...require("./jest.engine.config.js"),
  testMatch: ["**/twin-*.test.ts"],
  testPathIgnorePatterns: [],
};
