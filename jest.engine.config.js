/**
 * `npm run test:engine`: the suites under __tests__/engine/, against the private Docker engine that
 * __tests__/engine/run.sh starts (DOCKER_HOST). One worker: the suites share that engine, and a daemon restart in one
 * would cut the others short.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__/engine"],
  testMatch: ["**/*.test.ts"],
  // The twin lab's suites run in `npm run test:twin` (jest.twin.config.js).
  testPathIgnorePatterns: ["/node_modules/", "/twin-[^/]*\\.test\\.ts$"],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  maxWorkers: 1,
  setupFilesAfterEnv: ["<rootDir>/__tests__/engine/require-engine.ts"],
};
