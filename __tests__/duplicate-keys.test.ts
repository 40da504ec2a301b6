/** The one-pass duplicate-key check (topology/duplicate-keys.ts), against inputs that trip a naive scanner. */
import { parseAllDocuments } from "yaml";
import { jsonDuplicateKeys, yamlDuplicateKeys } from "../topology/duplicate-keys";

describe("duplicate keys in a JSON text", () => {
  it("names each key that appears twice in one object, with its line and column", () => {
    const text = '{\n  "a": 1,\n  "b": {"a": 2, "c": 3},\n  "a": 4\n}';
    expect(jsonDuplicateKeys(text)).toEqual([{ line: 4, column: 3, key: "a" }]);
  });

  it("tells keys from values, strings holding braces, commas or quotes, and objects inside arrays", () => {
    const text = JSON.stringify({
      kv: { "x,{y}": '"a": "b", {', 'k"q': "v" },
      list: [{ a: 1 }, { a: 2 }],
      value: "a",
    });
    expect(jsonDuplicateKeys(text)).toEqual([]);
    const twice = '{"k\\"q": 1, "k\\"q": 2, "list": [{"a": 1, "a": 2}]}';
    expect(jsonDuplicateKeys(twice).map((found) => found.key)).toEqual(['k"q', "a"]);
  });

  it("compares keys as JSON reads them: an escaped and a plain spelling are one key", () => {
    expect(jsonDuplicateKeys('{"a": 1, "\\u0061": 2}')).toEqual([{ line: 1, column: 10, key: "a" }]);
  });

  it("finds the one duplicate among 200,000 keys", () => {
    const entries = Array.from({ length: 200_000 }, (_, index) => `"web/key${index}": "v"`);
    entries.push('"web/key123456": "again"');
    expect(jsonDuplicateKeys(`{"kv": {${entries.join(", ")}}}`).map((found) => found.key)).toEqual(["web/key123456"]);
  });
});

describe("duplicate keys in a YAML document", () => {
  const duplicates = (text: string) =>
    yamlDuplicateKeys(parseAllDocuments(text, { uniqueKeys: false })[0] as any, (offset) => [offset, 0]);

  it("compares keys as the properties they become: 1 and '1', true and 'true', ~ and ''", () => {
    expect(
      duplicates(`a:\n  "1": x\n  1: y\n  true: x\n  "true": y\n  ~: x\n  '': y\n`).map((found) => found.key),
    ).toEqual(["1", "true", ""]);
  });

  it("names each key that appears twice in one mapping, and only there", () => {
    expect(duplicates("a: 1\nb:\n  a: 2\na: 3\n").map((found) => found.key)).toEqual(["a"]);
    expect(duplicates("list:\n  - a: 1\n  - a: 2\n")).toEqual([]);
  });
});
