import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "cdktf.out/", ".build/", ".gen/", "coverage/", "labs/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.mjs", "**/*.cjs", "**/*.js"],
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        module: "writable",
        require: "readonly",
        fetch: "readonly",
        setTimeout: "readonly",
        AbortSignal: "readonly",
        Buffer: "readonly",
        __dirname: "readonly",
      },
    },
  },
  {
    // Jest loads its config hooks (globalSetup, reporters) as CommonJS.
    files: ["__tests__/**/*.js", "jest.config.js", "jest.*.config.js"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Tests build deliberately malformed topologies and read raw synthesized JSON.
    files: ["__tests__/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    rules: {
      // Constructs are created for their side effect on the tree.
      "no-new": "off",
    },
  },
  {
    // A spread into a call passes every element as an argument, on the stack: a list as long as the input (200,000
    // KV keys) overflows it ("Maximum call stack size exceeded"). Pass the array itself, or loop.
    files: [
      "{topology,renderers,constructs,stacks,secrets,shared,runtime,cli,verify,scripts}/**/*.{ts,mjs}",
      "main.ts",
    ],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression > SpreadElement, NewExpression > SpreadElement",
          message: "no spread into a call: an input-sized list overflows the stack; pass the array, or loop",
        },
        {
          selector: "CallExpression[callee.property.name='apply']",
          message: "no .apply(): an input-sized list overflows the stack; pass the array, or loop",
        },
      ],
    },
  },
);
