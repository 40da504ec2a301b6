/**
 * An engine endpoint is parsed once (runtime/docker-endpoint.ts) and read by its fields; whether the lab publishes on
 * loopback has one answer (Lab.publishesOnLoopback, from topology/ipv4.ts).
 */
import { describeEndpoint, isRemoteEngine, parseDockerEndpoint } from "../runtime/docker-endpoint";
import { bindsLoopback, isLoopbackAddress } from "../topology/ipv4";
import { articleInput, labOf } from "./tools/helpers";

describe("a Docker endpoint, parsed once", () => {
  it.each([
    ["unix:///var/run/docker.sock", { kind: "socket" }],
    ["tcp://127.0.0.1:2375", { kind: "network", scheme: "tcp", remote: false }],
    ["tcp://[::1]:2376", { kind: "network", scheme: "tcp", remote: false }],
    ["tcp://10.0.0.5:2376", { kind: "network", scheme: "tcp", remote: true }],
    ["ssh://me@build-host", { kind: "network", scheme: "ssh", remote: true, ssh: { destination: "me@build-host" } }],
    [
      "ssh://me@[2001:db8::1]:2222",
      { kind: "network", scheme: "ssh", remote: true, ssh: { destination: "me@2001:db8::1", port: "2222" } },
    ],
  ])("%s", (url, expected) => {
    const endpoint = parseDockerEndpoint(url);
    expect(endpoint).toEqual({ url, ...expected });
    expect(describeEndpoint(endpoint)).toBe(url);
    expect(isRemoteEngine(endpoint)).toBe("remote" in expected && expected.remote);
  });

  it("names a context that does not exist, and never takes it for this machine's socket", () => {
    const missing = { kind: "missing-context", context: "gone" } as const;
    expect(describeEndpoint(missing)).toBe("context gone (not found: `docker context ls`)");
    expect(isRemoteEngine(missing)).toBe(false);
  });
});

describe("publishing on loopback", () => {
  it.each([
    ["127.0.0.1", true, true],
    ["127.9.9.9", true, true],
    ["0.0.0.0", false, true],
    ["192.168.1.10", false, false],
  ])("%s: loopback %s, takes loopback traffic %s", (address, loopback, binds) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
    expect(bindsLoopback(address)).toBe(binds);
    const input = articleInput();
    input.publish = { address, ...(loopback ? {} : { exposeOnNetwork: true }) };
    expect(labOf(input).publishesOnLoopback).toBe(binds);
  });
});
