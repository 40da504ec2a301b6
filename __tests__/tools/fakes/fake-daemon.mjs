// One process that answers every call of the fake `docker` and `terraform` (bin/) during a test run. The clients
// are shell scripts that hand it their argv, directory, umask and FAKE_*/TF_VAR_* variables over loopback TCP, so a
// call costs a shell's start instead of Node's: a run makes hundreds of calls, at about 80 ms each when every call
// started Node.
//
// Request: NUL-terminated fields: program, cwd, umask (octal), argc, argv..., envc, NAME=value...
// Answer: a line `status stdout-bytes stderr-bytes interruptible`, then stdout, then stderr.
//
// It prints its port on the first line of stdout, and exits when its stdin closes (its parent, Jest, went away).
import { createServer } from "node:net";
import { docker } from "./fake-docker.mjs";
import { terraform } from "./fake-terraform.mjs";

const FAKES = { docker, terraform };

// Files are created with the mode each client's umask asks for, not this process's.
process.umask(0);

/** The call in `fields`, or undefined while fields are still missing. */
function parse(fields) {
  const [program, cwd, umask, argcText] = fields;
  if (argcText === undefined) return undefined;
  const argc = Number(argcText);
  const envcText = fields[4 + argc];
  if (envcText === undefined) return undefined;
  const envc = Number(envcText);
  if (fields.length < 5 + argc + envc) return undefined;
  const env = Object.fromEntries(
    fields.slice(5 + argc, 5 + argc + envc).map((entry) => {
      const equals = entry.indexOf("=");
      return [entry.slice(0, equals), entry.slice(equals + 1)];
    }),
  );
  return { program, cwd, umask: parseInt(umask, 8), argv: fields.slice(4, 4 + argc), env };
}

async function answer(call) {
  const fake = FAKES[call.program];
  if (!fake) return { status: 127, stdout: "", stderr: `the fake daemon has no ${call.program}\n` };
  try {
    return await fake(call);
  } catch (error) {
    return { status: 70, stdout: "", stderr: `fake ${call.program} crashed: ${error.stack}\n` };
  }
}

const server = createServer((socket) => {
  let buffered = Buffer.alloc(0);
  let answered = false;
  socket.on("data", async (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    const text = buffered.toString("utf8");
    if (answered || !text.endsWith("\0")) return;
    const call = parse(text.slice(0, -1).split("\0"));
    if (!call) return;
    answered = true;
    let { status, stdout, stderr, interruptible } = await answer(call);
    if (`${stdout}${stderr}`.includes("\0")) {
      // The client reads text: it would drop the byte and misread what follows.
      [status, stdout, stderr] = [70, "", `fake ${call.program}: an answer with a NUL byte cannot be passed on\n`];
    }
    const out = Buffer.from(stdout);
    const err = Buffer.from(stderr);
    socket.end(
      Buffer.concat([Buffer.from(`${status} ${out.length} ${err.length} ${interruptible ? 1 : 0}\n`), out, err]),
    );
  });
  socket.on("error", () => undefined);
});

server.listen(0, "127.0.0.1", () => console.log(server.address().port));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
