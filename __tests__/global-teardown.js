// Jest's globalTeardown: stops the fake daemon and removes the run's temporary directory (see global-setup.js).
const { rmSync } = require("node:fs");

module.exports = async function globalTeardown() {
  const run = globalThis.consulLabTestRun;
  if (!run) return;
  run.daemon.kill();
  rmSync(run.testRunDir, { recursive: true, force: true });
};
