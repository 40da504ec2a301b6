const { availableParallelism } = require("node:os");

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  // The real-engine suites run apart, against their own dockerd: `npm run test:engine`.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/__tests__/engine/"],
  // Type checking is `npm run lint`'s job; the tests only transpile, which keeps them fast.
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  globalSetup: "<rootDir>/__tests__/global-setup.js",
  globalTeardown: "<rootDir>/__tests__/global-teardown.js",
  // The longest suites spend much of their time waiting (on the programs they start, on a stand-in lab's scripted
  // timeline): half as many workers again as cores fill that waiting with other suites.
  // (Jest reads a percentage above 100% as a count, so the figure is worked out here.)
  maxWorkers: Math.ceil(availableParallelism() * 1.5),
  setupFilesAfterEnv: ["<rootDir>/__tests__/setup.ts"],
  reporters: ["default", "<rootDir>/__tests__/summary-reporter.js"],
};
