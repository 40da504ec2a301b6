// A stand-in for OpenSSH's client as the CLI uses it: `ssh -N -o ... [-p port] -L 127.0.0.1:P:ADDR:RP ... -- dest`.
// It really forwards: it listens on each local port and passes every connection to the remote address and port as
// seen from this machine: FAKE_SSH_REMOTE_ADDRESS (such as 127.0.0.2, where a test's stand-in lab plays the remote
// host on the same ports) in place of the remote's own loopback. It
// records `opened` once every forward listens and `closed` when a signal ends it (FAKE_LOG, as record.mjs does), so a
// test sees each forward opened and closed. A taken local port ends it as ExitOnForwardFailure does; FAKE_FAIL=ssh:connect
// plays a host that does not answer. Runs as its own process (bin/ssh), not through the fake daemon: it must listen.
import { appendFileSync } from "node:fs";
import { createServer, connect } from "node:net";

const argv = process.argv.slice(2);
const env = process.env;
const log = (event, extra = {}) => {
  if (env.FAKE_LOG)
    appendFileSync(env.FAKE_LOG, `${JSON.stringify({ program: "ssh", argv, cwd: process.cwd(), event, ...extra })}\n`);
};

const forwards = [];
let destination;
for (let index = 0; index < argv.length; index++) {
  const arg = argv[index];
  if (arg === "-L") {
    const [bindAddress, port, remoteAddress, remotePort] = argv[++index].split(":");
    forwards.push({ bindAddress, port: Number(port), remoteAddress, remotePort: Number(remotePort) });
  } else if (arg === "-o" || arg === "-p") index++;
  else if (arg === "--") destination = argv[index + 1];
}
if (!argv.includes("-N") || forwards.length === 0 || !destination) {
  console.error(`fake ssh: knows only -N with -L forwards and a destination after --, got: ${argv.join(" ")}`);
  process.exit(255);
}
if ((env.FAKE_FAIL ?? "").split(",").includes("ssh:connect")) {
  log("refused");
  console.error(`ssh: connect to host ${destination.replace(/^.*@/, "")} port 22: Connection refused`);
  process.exit(255);
}

const remoteAddress = env.FAKE_SSH_REMOTE_ADDRESS ?? "127.0.0.1";
// The signal handlers come first: the CLI sees the forwards open once it can connect, which can be before this
// process has run the line after its last listen, and a signal then must still be recorded as closing them.
const servers = [];
let opened = false;
const recordOpened = () => {
  if (opened) return;
  opened = true;
  log("opened", { ports: forwards.map((forward) => forward.port) });
};
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) {
  process.on(signal, () => {
    if (servers.length === forwards.length && servers.every((server) => server.listening)) recordOpened();
    for (const server of servers) server.close();
    log("closed", { signal });
    process.exit(0);
  });
}
for (const forward of forwards) {
  const server = createServer((socket) => {
    const upstream = connect({ host: remoteAddress, port: forward.remotePort });
    socket.pipe(upstream).pipe(socket);
    // As ssh does: a channel whose far end is not listening is closed.
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    upstream.on("error", end);
    socket.on("error", end);
  });
  servers.push(server);
  try {
    await new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(forward.port, forward.bindAddress, resolve);
    });
  } catch (error) {
    console.error(
      `bind [${forward.bindAddress}]:${forward.port}: ${error.code === "EADDRINUSE" ? "Address already in use" : error.message}`,
    );
    console.error(`channel_setup_fwd_listener_tcpip: cannot listen to port: ${forward.port}`);
    console.error("Could not request local forwarding.");
    log("failed", { port: forward.port });
    process.exit(255);
  }
}
recordOpened();
