/**
 * Turns user input (the built-in default, or a JSON/YAML file) into a validated `Lab`, or a `TopologyError`
 * that lists every problem found, each with its path.
 */
import { readFileSync, statSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import { type Document, isNode, parseAllDocuments, visit, YAMLError, YAMLWarning } from "yaml";
import { type DuplicateKey, jsonDuplicateKeys, yamlDuplicateKeys } from "./duplicate-keys";
import type { z } from "zod";
import { ARTICLE_TOPOLOGY } from "./default";
import { Lab } from "./model";
import { Topology, TopologySchema } from "./schema";
import { crossFieldProblems, TopologyProblem } from "./validate";

/** The environment variable naming a topology file to use instead of the article's lab. */
export const TOPOLOGY_ENV = "CONSUL_LAB_TOPOLOGY";

/** A topology that cannot be used: every problem, each with its path, under one message. */
export class TopologyError extends Error {
  readonly problems: readonly TopologyProblem[];

  constructor(source: string, problems: readonly TopologyProblem[]) {
    const lines = problems.map((problem) => `  ${problem.path ? `${problem.path}: ` : ""}${problem.message}`);
    super(
      `${source} is not a valid topology (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}`,
    );
    this.name = "TopologyError";
    this.problems = problems;
  }
}

// Keys people carry over from the article's hand-written agent configs.
const KEY_HINTS: Record<string, string> = { tag: "tags", ID: "id", Name: "name", node_name: "name" };

/** `nodes[4].name`, or `kv["web/key"]` for a key that is not a plain field name. */
function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === "number") return `${text}[${key}]`;
    const name = String(key);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `${text}[${JSON.stringify(name)}]`;
    return text ? `${text}.${name}` : name;
  }, "");
}

/**
 * A name as a newcomer can tell it apart: everything outside printable ASCII escaped (`n\u0430me` for a Cyrillic a, a
 * no-break space as `\u00a0`), so `unknown field "name"` is never shown for a key that only looks like one.
 */
function visible(name: string): string {
  return name.replace(/[^\x20-\x7e]/gu, (character) =>
    [...character].map((unit) => `\\u${unit.codePointAt(0)!.toString(16).padStart(4, "0")}`).join(""),
  );
}

function describeIssue(issue: z.core.$ZodIssue): TopologyProblem[] {
  const path = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      path: path ? `${path}.${visible(key)}` : visible(key),
      message: `unknown field "${visible(key)}"${Object.hasOwn(KEY_HINTS, key) ? `; did you mean "${KEY_HINTS[key]}"?` : "; remove it or check its spelling"}`,
    }));
  }
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return [{ path, message: `required (expected ${issue.expected})` }];
  }
  return [{ path, message: issue.message }];
}

/** Validates raw topology data; `source` names it in the error ("CONSUL_LAB_TOPOLOGY file lab.yaml"). */
export function parseTopology(input: unknown, source = "input"): Topology {
  const parsed = TopologySchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new TopologyError(source, parsed.error.issues.flatMap(describeIssue));
  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) throw new TopologyError(source, problems);
  return parsed.data;
}

/** A YAML parser's error or warning as a problem: where it is (line and column) and what it says. */
function describeYamlIssue(text: string, issue: YAMLError | YAMLWarning): TopologyProblem {
  const [line, column] = [issue.linePos?.[0]?.line, issue.linePos?.[0]?.col];
  const path = line === undefined ? "" : `line ${line}, column ${column}`;
  if (issue.code === "DUPLICATE_KEY") {
    const at = /^"((?:[^"\\]|\\.)*)"|^([^:\s]+)/.exec(text.slice(issue.pos[0]));
    const key = at ? (at[1] ?? at[2]) : "a key";
    return { path, message: `duplicate key "${key}"; a key may appear once in a mapping, so keep one` };
  }
  const message = issue.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
  return { path, message: `cannot parse the file: ${message}` };
}

function describeDuplicate(duplicate: DuplicateKey): TopologyProblem {
  return {
    path: `line ${duplicate.line}, column ${duplicate.column}`,
    message: `duplicate key "${duplicate.key}"; a key may appear once in a mapping, so keep one`,
  };
}

/** Line and column (1-based) of an offset, from one pass over the text's line starts. */
class LineCounter {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let index = text.indexOf("\n"); index !== -1; index = text.indexOf("\n", index + 1))
      this.starts.push(index + 1);
  }
  at(offset: number): [number, number] {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle] <= offset) low = middle;
      else high = middle - 1;
    }
    return [low + 1, offset - this.starts[low] + 1];
  }
}

/** Reads a JSON (`.json`) or YAML (`.yaml`, `.yml`) topology file. */
export function readTopologyFile(file: string): unknown {
  const extension = extname(file).toLowerCase();
  if (![".json", ".yaml", ".yml"].includes(extension)) {
    throw new TopologyError(file, [
      { path: "", message: `unsupported file type "${extension || "(none)"}"; use .json, .yaml or .yml` },
    ]);
  }
  // Only a regular file: a FIFO would block the read (and with it every signal) until something writes to it.
  const kind = fileKind(file);
  if (kind !== undefined && kind !== "a regular file")
    throw new TopologyError(file, [
      { path: "", message: `is ${kind}, not a regular file; name a .json or .yaml file` },
    ]);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new TopologyError(file, [{ path: "", message: `cannot read the file: ${reason}` }]);
  }
  // An editor's UTF-16 reads as noise in UTF-8: name it, instead of a parse error at its first character.
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (utf16 || bytes.includes(0))
    throw new TopologyError(file, [
      { path: "", message: `is ${utf16 ? "UTF-16 text" : "not text (it holds NUL bytes)"}; save it as UTF-8` },
    ]);
  let text = bytes.toString("utf8");
  // An editor's byte-order mark is not part of the document.
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const fail = (message: string): never => {
    throw new TopologyError(file, [{ path: "", message }]);
  };
  // `npm run topology > file` writes npm's banner ("> consul-lab@0.1.0 topology" and the command) before the JSON.
  const banner = /^\s*> (\S+@\S+) (\S+)\n/.exec(text);
  if (banner)
    fail(
      `starts with npm's banner ("> ${banner[1]} ${banner[2]}"): it was written by \`npm run ${banner[2]} > file\`; ` +
        `write it again with \`npm run --silent ${banner[2]} > ${basename(file)}\`, or delete the lines that start with ">"`,
    );
  // Comments and blank lines alone are no topology.
  if (!text.split("\n").some((line) => line.trim() !== "" && !line.trim().startsWith("#")))
    fail("the file is empty; write a topology in it, or start from `npm run --silent topology`");
  if (extension === ".json") {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      // Where, as an editor shows it: V8 says "at position N" (a character offset), which nobody can find by eye.
      const message = (error as Error).message;
      const offset = /at position (\d+)/.exec(message);
      const [line, column] = offset ? new LineCounter(text).at(Number(offset[1])) : [];
      throw new TopologyError(file, [
        {
          path: line === undefined ? "" : `line ${line}, column ${column}`,
          message: `cannot parse the file: ${message.replace(/ in JSON at position \d+.*$/, "")}`,
        },
      ]);
    }
    // JSON.parse keeps the last of two equal keys without a word: they are named instead.
    const duplicates = jsonDuplicateKeys(text);
    if (duplicates.length > 0) throw new TopologyError(file, duplicates.map(describeDuplicate));
    return value;
  }
  // Parsed as documents, so warnings (an unknown tag, say) join the report instead of printing as Node warnings, and a
  // second document is refused instead of silently dropped. Merge keys (`<<: *defaults`) are read, as YAML 1.1 did.
  // Duplicate keys are found below in one pass; the parser's own check is quadratic in a map's size.
  const documents = parseAllDocuments(text, { uniqueKeys: false, logLevel: "silent", merge: true });
  if (!Array.isArray(documents)) return fail("the file holds no YAML document");
  if (documents.length > 1)
    fail(`the file holds ${documents.length} YAML documents (separated by ---); a topology is one document`);
  const [document] = documents;
  const issues = [...document.errors, ...document.warnings];
  if (issues.length > 0)
    throw new TopologyError(
      file,
      issues.map((issue) => describeYamlIssue(text, issue)),
    );
  const lines = new LineCounter(text);
  const duplicates = yamlDuplicateKeys(document, (offset) => lines.at(offset));
  if (duplicates.length > 0) throw new TopologyError(file, duplicates.map(describeDuplicate));
  const tagged = typeChangingTags(document, (offset) => lines.at(offset));
  if (tagged.length > 0) throw new TopologyError(file, tagged);
  try {
    return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof RangeError) fail("the file nests too deeply to read; a topology is a few levels deep");
    if (error instanceof ReferenceError && /alias/i.test(error.message))
      fail(`the file's aliases expand too far (more than ${MAX_ALIAS_COUNT} uses of an alias); write the values out`);
    throw error;
  }
}

/** What a path is, when it is not a regular file; undefined when it does not exist (the read says so). */
function fileKind(file: string): string | undefined {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    return undefined;
  }
  if (stat.isFile()) return "a regular file";
  if (stat.isFIFO()) return "a named pipe (FIFO)";
  if (stat.isDirectory()) return "a directory";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  return "not a file";
}

/**
 * The YAML tags a topology may carry: those that read a scalar, a map or a list as what it already is. Any other
 * (`!!set` and `!!omap` turn a map into something else, `!!binary` a string into bytes, `!!timestamp` into a date) is
 * refused with where it is, instead of reaching validation as a value it was never written as.
 */
const PLAIN_TAGS = new Set(
  ["str", "int", "float", "bool", "null", "map", "seq"].map((name) => `tag:yaml.org,2002:${name}`),
);

function typeChangingTags(document: Document, at: (offset: number) => [number, number]): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  visit(document, (_key, node) => {
    if (!isNode(node) || node.tag === undefined || PLAIN_TAGS.has(node.tag)) return;
    const [line, column] = at(node.range?.[0] ?? 0);
    const shown = node.tag.replace(/^tag:yaml\.org,2002:/, "!!");
    problems.push({
      path: `line ${line}, column ${column}`,
      message: `the tag ${shown} would turn this value into another type; remove the tag and write the value as it is`,
    });
  });
  return problems;
}

/** How many times YAML aliases may be expanded: plenty for a topology, and no room for an alias bomb. */
const MAX_ALIAS_COUNT = 1_000;

/**
 * The topology named by `CONSUL_LAB_TOPOLOGY`, or the article's lab when it is unset. A relative path is the caller's:
 * npm runs scripts from the project root but says where it was started (INIT_CWD); errors name the absolute path.
 */
export function loadTopology(env: NodeJS.ProcessEnv = process.env): Topology {
  const named = env[TOPOLOGY_ENV];
  if (!named) return parseTopology(ARTICLE_TOPOLOGY, "the built-in topology");
  const file = resolve(env.INIT_CWD || process.cwd(), named);
  return parseTopology(readTopologyFile(file), `${TOPOLOGY_ENV} file ${file}`);
}

/** The validated lab of CONSUL_LAB_TOPOLOGY (or the article's), with its derived facts. */
export function loadLab(env: NodeJS.ProcessEnv = process.env): Lab {
  return new Lab(loadTopology(env));
}
