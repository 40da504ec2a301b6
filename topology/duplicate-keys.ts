/**
 * Keys that appear twice in one mapping, found in one pass over the input (the YAML library's own `uniqueKeys` check
 * compares every key with every earlier one, which never finishes on a KV map of 200,000 keys). A parser keeps the last
 * of two equal keys without a word, so these are reported instead.
 */
import { isMap, isScalar, visit, type Document } from "yaml";

/** Where a duplicate key is: its line and column (1-based), and the key. */
export interface DuplicateKey {
  readonly line: number;
  readonly column: number;
  readonly key: string;
}

/**
 * The duplicate keys of a JSON text that JSON.parse accepted. A key is a string right after `{` or `,` inside an
 * object; every other string is skipped.
 */
export function jsonDuplicateKeys(text: string): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  const stack: (Set<string> | undefined)[] = [];
  let line = 1;
  let lineStart = 0;
  let previous = "";
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === "\n") {
      line++;
      lineStart = index + 1;
    } else if (char === "{") {
      stack.push(new Set());
      previous = char;
    } else if (char === "[") {
      stack.push(undefined);
      previous = char;
    } else if (char === "}" || char === "]") {
      stack.pop();
      previous = char;
    } else if (char === '"') {
      let end = index + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (keys && (previous === "{" || previous === ",")) {
        const raw = text.slice(index + 1, end);
        const key = raw.includes("\\") ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (keys.has(key)) found.push({ line, column: index - lineStart + 1, key });
        keys.add(key);
      }
      index = end;
      previous = '"';
    } else if (char !== " " && char !== "\t" && char !== "\r") {
      previous = char;
    }
  }
  return found;
}

/** The duplicate keys of a parsed YAML document (parsed without `uniqueKeys`), each map's keys in a Set. */
export function yamlDuplicateKeys(
  document: Document.Parsed,
  lineOf: (offset: number) => [number, number],
): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  visit(document, {
    Map(_key, map) {
      if (!isMap(map)) return;
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        // The property name the key becomes in JavaScript: 1 and '1', true and 'true', ~ and '' are one key there.
        const key = String(pair.key.value ?? "");
        if (seen.has(key)) {
          const [line, column] = lineOf(pair.key.range?.[0] ?? 0);
          found.push({ line, column, key });
        }
        seen.add(key);
      }
    },
  });
  return found;
}
