/**
 * Every string a topology gives that reaches the synthesized JSON passes two readers before a program sees it:
 * - cdktf, which resolves `${TfToken[...]}` and `#{TfToken[...]}` in any string as its own tokens (a secret variable,
 *   or a crash on an unknown one);
 * - Terraform, which reads every string as a template: `${...}` interpolates and `%{...}` is a directive.
 * terraformLiteral escapes a text for both, so Terraform reads back exactly the text (`terraform-literal.test.ts`
 * proves it with `terraform console`): `$${` and `%%{` are Terraform's escapes, and `TfToken[` is split by an empty
 * interpolation, `Tf${""}Token[`, which cdktf does not recognise and Terraform reads as nothing.
 *
 * TERRAFORM_TEXT_FIELDS lists the topology's fields whose schema lets such characters through; every other string
 * field is limited by its schema to characters neither reader treats specially (terraform-strings.test.ts tries each).
 */
export function terraformLiteral(text: string): string {
  return text
    .replace(/\$\{/g, () => "$${")
    .replace(/%\{/g, () => "%%{")
    .replace(/TfToken\[/g, () => 'Tf${""}Token[');
}

/** The inverse: a string as Terraform reads it from the JSON. */
export function asTerraformReadsIt(text: string): string {
  return text
    .replace(/Tf\$\{""\}Token\[/g, "TfToken[")
    .replace(/\$\$\{/g, "${")
    .replace(/%%\{/g, "%{");
}

/**
 * The topology's free-text fields that reach Terraform, and how each stays literal: written through terraformLiteral
 * into the JSON, or written as data into a file Terraform reads with jsondecode(file()), which is never a template.
 */
export const TERRAFORM_TEXT_FIELDS = [
  { field: "kv.<path>", reaches: "the consul stack's kv.json, read by consul_keys", literal: "data file" },
  {
    field: "hosts[].certPath",
    reaches: "the Docker provider's cert_path in the cluster stack",
    literal: "terraformLiteral",
  },
] as const;
