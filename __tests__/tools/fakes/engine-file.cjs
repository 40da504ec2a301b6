// Which fake engine a Docker call reaches on a lab over several hosts (FAKE_DOCKER_HOSTS, a folder of state files):
// chosen as the real CLI chooses, DOCKER_HOST before DOCKER_CONTEXT, else the default engine. Shared by the fake docker
// and the tests that lay out the engines, so both name a host's file alike.
"use strict";

/**
 * The file name of the engine that Docker variables point at: the endpoint with every character but letters, digits,
 * '.' and '-' as '_' (`ssh___ops_lab-a.example.test.json`), `context_<name>.json` for a context, else `default.json`.
 * @param {{ DOCKER_HOST?: string | null, DOCKER_CONTEXT?: string | null }} variables
 * @returns {string}
 */
function engineFileName(variables) {
  if (variables.DOCKER_HOST) return `${variables.DOCKER_HOST.replace(/[^A-Za-z0-9.-]/g, "_")}.json`;
  if (variables.DOCKER_CONTEXT) return `context_${variables.DOCKER_CONTEXT}.json`;
  return "default.json";
}

module.exports = { engineFileName };
