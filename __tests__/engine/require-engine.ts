// The engine suites talk to the private engine run.sh starts, never to whatever DOCKER_HOST a shell had.
if (!process.env.CONSUL_LAB_ENGINE_DIR || !process.env.DOCKER_HOST?.includes(process.env.CONSUL_LAB_ENGINE_DIR)) {
  throw new Error("the engine suites run through `npm run test:engine`, which starts their own Docker engine");
}
jest.setTimeout(120_000);
