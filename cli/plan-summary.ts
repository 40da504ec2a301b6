/** What a saved plan would do, from `terraform show -json <plan>`, counted as Terraform's own "Plan:" line does. */

export interface PlanSummary {
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
}

interface PlanJson {
  readonly resource_changes?: readonly { readonly change?: { readonly actions?: readonly string[] } }[];
}

/** Counts a plan's resource changes: a replacement is one to add and one to destroy. */
export function summarizePlan(plan: PlanJson): PlanSummary {
  let add = 0;
  let change = 0;
  let destroy = 0;
  for (const resource of plan.resource_changes ?? []) {
    const actions = resource.change?.actions ?? [];
    // A replacement is ["delete", "create"] or ["create", "delete"]: one to add and one to destroy.
    if (actions.includes("create")) add++;
    if (actions.includes("delete")) destroy++;
    if (actions.includes("update")) change++;
  }
  return { add, change, destroy };
}

/** `N to add, N to change, N to destroy`, as Terraform words it. */
export function describePlan(summary: PlanSummary): string {
  return `${summary.add} to add, ${summary.change} to change, ${summary.destroy} to destroy`;
}
