/** Renders a consul-template template over a fixture with tools/render-template (Go's text/template). */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = join(__dirname, "render-template", "render-template");

export interface HealthInstance {
  Node: string;
  Address: string;
  Port: number;
  ID: string;
  Tags: string[];
  Status: "passing" | "warning" | "critical" | "maintenance";
}

export interface Fixture {
  datacenter?: string;
  services: Record<string, HealthInstance[]>;
  kv: Record<string, string>;
}

export interface RenderResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const dir = mkdtempSync(join(tmpdir(), "consul-lab-render-"));
let counter = 0;

export function renderTemplate(template: string, fixture: Fixture | string): RenderResult {
  counter += 1;
  const templateFile = join(dir, `template-${counter}.ctmpl`);
  const fixtureFile = join(dir, `fixture-${counter}.json`);
  writeFileSync(templateFile, template);
  writeFileSync(fixtureFile, typeof fixture === "string" ? fixture : JSON.stringify(fixture));
  const result = spawnSync(SCRIPT, [templateFile, fixtureFile], { encoding: "utf8" });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
