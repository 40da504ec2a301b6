/**
 * Test images of real programs for the private engine, which cannot pull: a binary from this machine's Debian
 * package, the shared libraries `ldd` names for it, a static BusyBox for a shell, and the files a test gives.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { dockerOk } from "./engine";

/** The libraries a dynamically linked binary loads, with the loader, as ldd lists them. */
function sharedLibraries(binary: string): string[] {
  const listed = execFileSync("ldd", [binary], { encoding: "utf8" });
  return [...listed.matchAll(/(\/\S+) \(0x[0-9a-f]+\)/g)].map((match) => match[1]);
}

/**
 * Imports an image named `tag` holding `binaries` (absolute paths on this machine) with their libraries, BusyBox's
 * applets under /bin, and `files` (path to content; a mode after a colon in the key, such as "/x.sh:755").
 */
export function debianImage(tag: string, binaries: readonly string[], files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "consul-lab-image-"));
  // mkdtemp makes it owner-only; as the image's / it must let every user through.
  chmodSync(root, 0o755);
  const place = (source: string, target = source) => {
    mkdirSync(join(root, dirname(target)), { recursive: true });
    copyFileSync(source, join(root, target));
  };
  for (const binary of binaries) {
    place(binary);
    chmodSync(join(root, binary), 0o755);
    for (const library of sharedLibraries(binary)) place(library);
  }
  const busybox = execFileSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).trim();
  place(busybox, "/bin/busybox");
  chmodSync(join(root, "bin/busybox"), 0o755);
  for (const applet of execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean)) {
    if (applet !== "busybox") symlinkSync("busybox", join(root, "bin", applet));
  }
  for (const [key, content] of Object.entries(files)) {
    const [path, mode] = key.split(":");
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), content);
    if (mode) chmodSync(join(root, path), parseInt(mode, 8));
  }
  mkdirSync(join(root, "tmp"), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  const archive = join(root, "..", `${tag.replace(/\W/g, "_")}.tar`);
  execFileSync("tar", ["-C", root, "-cf", archive, "."]);
  return dockerOk(["import", archive, tag]).trim();
}
