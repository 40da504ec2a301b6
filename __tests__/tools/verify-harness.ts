/**
 * What the verify suites share: one copy of the checkout with a topology on free ports and its secrets, the stand-in
 * lab around each test, and the environment verify runs with against it.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { articleInput, labOf } from "./helpers";
import { LabCheckout } from "./lab-checkout";
import { LabStandIn } from "./lab-stand-in";
import { freeLoopbackPort } from "./ports";

export interface DrillRowSeen {
  step: string;
  expected: string;
  seconds?: number;
  ok: boolean;
  seen: string;
}

export const secondsOf = (rows: DrillRowSeen[], step: string, expected: string): number =>
  rows.find((row) => row.step.startsWith(step) && row.expected === expected)!.seconds!;

export const factLines = (stdout: string) => stdout.split("\n").filter((line) => /^(ok {2}|FAIL|info) {2}/.test(line));

/** A checkout of its own for one test file, with the article's lab on free ports and its secrets created. */
export function verifyHarness() {
  const checkout = new LabCheckout();
  const state: { topologyFile: string; input: ReturnType<typeof articleInput> } = {
    topologyFile: join(checkout.root, "lab.json"),
    input: articleInput(),
  };
  beforeAll(async () => {
    state.input.publish = {
      httpPort: await freeLoopbackPort(),
      dnsPort: await freeLoopbackPort(),
      entryPort: await freeLoopbackPort(),
    };
    writeFileSync(state.topologyFile, JSON.stringify(state.input));
    expect((await checkout.script("secrets", [], { CONSUL_LAB_TOPOLOGY: state.topologyFile })).status).toBe(0);
  });

  /**
   * Runs `script` against a stand-in lab started for it (after `setup`), and stops the stand-in whatever happens.
   * `publishAddress`: where the stand-in publishes instead of the topology's address, as a remote host's loopback
   * (127.0.0.2) that the fake ssh forwards to (FAKE_SSH_REMOTE_ADDRESS).
   */
  async function withStandIn<T>(
    script: (standIn: LabStandIn) => Promise<T>,
    setup?: (standIn: LabStandIn) => void,
    publishAddress?: string,
  ): Promise<T> {
    const lab = labOf(
      publishAddress ? { ...state.input, publish: { ...state.input.publish, address: publishAddress } } : state.input,
    );
    // The checkout's own TLS material (made by `npm run secrets`): verify must trust its CA and nothing else.
    const standIn = new LabStandIn(lab, lab.secure ? checkout.serverTls(lab.publishNode.name) : undefined);
    setup?.(standIn);
    await standIn.start();
    try {
      return await script(standIn);
    } finally {
      await standIn.stop();
    }
  }

  const verifyEnv = (standIn: LabStandIn, extra: Record<string, string> = {}) => ({
    CONSUL_LAB_TOPOLOGY: state.topologyFile,
    FAKE_DOCKER_STATE: standIn.dockerState,
    ...(standIn.enginesDir ? { FAKE_DOCKER_HOSTS: standIn.enginesDir } : {}),
    FAKE_LAB_URL: standIn.controlUrl,
    FAKE_DOCKER_STOP_MS: String(standIn.timeline.dockerStopMs),
    CONSUL_LAB_DRILL_DEADLINE_SECONDS: "8",
    CONSUL_LAB_DRILL_WINDOW_SECONDS: "0.5",
    ...extra,
  });

  /** What the last verify wrote to verify-report.json. */
  const readReport = (): { passed: boolean; drill?: DrillRowSeen[]; [field: string]: any } =>
    JSON.parse(checkout.file("verify-report.json"));

  return { checkout, state, withStandIn, verifyEnv, readReport };
}
