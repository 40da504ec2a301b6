/**
 * Limits the synthesized configuration must stay under at any lab size, checked on a 600-node lab: what a
 * provisioner passes to `execve` (Linux caps each argument and environment string at 128 KiB, MAX_ARG_STRLEN; the
 * limit here leaves room for what Terraform adds).
 */
import { Testing } from "cdktf";
import { generatedTopology } from "./tools/generated-topology";
import { ClusterStack, ConsulStack } from "../stacks";
import { labOf } from "./tools/helpers";

jest.setTimeout(60_000);

/** Each limit: where in a stack it applies, and its bound in bytes. */
const LIMITS = {
  "a provisioner's environment value": 32 * 1024,
  "a provisioner's command": 32 * 1024,
};

describe("a 600-node lab", () => {
  const lab = labOf(generatedTopology(600));
  const app = Testing.app();
  const cluster = new ClusterStack(app, "cluster", { lab });
  const consul = new ConsulStack(app, "consul", { lab, cluster });
  const stacks = [JSON.parse(Testing.synth(cluster)), JSON.parse(Testing.synth(consul))];
  const provisioners = stacks.flatMap((stack) =>
    Object.values<any>(stack.resource ?? {}).flatMap((byName) =>
      Object.entries<any>(byName).flatMap(([name, body]) =>
        (body.provisioner ?? []).map((provisioner: any) => ({ name, exec: provisioner["local-exec"] })),
      ),
    ),
  );

  it("has provisioners to check", () => {
    expect(provisioners.length).toBeGreaterThanOrEqual(3);
  });

  it(`passes every provisioner's environment value under ${LIMITS["a provisioner's environment value"]} bytes`, () => {
    const over = provisioners.flatMap(({ name, exec }) =>
      Object.entries<string>(exec.environment ?? {})
        .filter(([, value]) => Buffer.byteLength(`${value}`) >= LIMITS["a provisioner's environment value"])
        .map(([variable, value]) => `${name}.${variable}: ${Buffer.byteLength(value)} bytes`),
    );
    expect(over).toEqual([]);
  });

  it(`runs every provisioner's command under ${LIMITS["a provisioner's command"]} bytes`, () => {
    const over = provisioners
      .filter(({ exec }) => Buffer.byteLength(exec.command) >= LIMITS["a provisioner's command"])
      .map(({ name }) => name);
    expect(over).toEqual([]);
  });
});
