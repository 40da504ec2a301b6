/**
 * Terraform reads every string in the synthesized JSON as a template: `${...}` interpolates and `%{...}` is a
 * directive. A file we upload (a shell script's `${var:-default}`, say) must reach the container unchanged, so its
 * text is escaped (`$${`, `%%{`) before it goes into a resource.
 */
export function terraformLiteral(text: string): string {
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/** The inverse: a string as Terraform reads it from the JSON, `$${` a literal `${` and `%%{` a literal `%{`. */
export function asTerraformReadsIt(text: string): string {
  return text.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
}
