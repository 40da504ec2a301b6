/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  // Type checking is `npm run lint`'s job; the tests only transpile, which keeps them fast.
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  globalSetup: "<rootDir>/__tests__/preflight.js",
  // Most suites wait on the programs they start (nginx, dnsmasq, npm, the app): two workers overlap that waiting.
  maxWorkers: 2,
  setupFilesAfterEnv: ["<rootDir>/__tests__/setup.ts"],
  reporters: ["default", "<rootDir>/__tests__/summary-reporter.js"],
};
