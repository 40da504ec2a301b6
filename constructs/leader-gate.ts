import type { Container } from "@cdktf/provider-docker/lib/container";
import { DataResource } from "cdktf";
import { Construct } from "constructs";
import type { Lab } from "../topology";
import { fromStackDir } from "../shared/project-paths";

/** The deploy-time script that waits for a leader, from the project root. */
export const WAIT_FOR_LEADER_SCRIPT = "scripts/deploy-time/wait-for-leader.mjs";

export interface LeaderGateProps {
  readonly lab: Lab;
  /** Every server's agent, and the agent that publishes the HTTP API the script asks. */
  readonly agents: readonly Container[];
  /**
   * The lab CA's certificate, relative to the stack's directory, which the script trusts ("secure" mode: the API is
   * HTTPS). @default none: the article's plain HTTP
   */
  readonly caFile?: string;
  /**
   * How long to wait for a leader.
   * @default 180
   */
  readonly timeoutSeconds?: number;
}

/**
 * Completes once the cluster has elected a leader, asking the published HTTP API from the deploying machine. What
 * needs a leader (the clients' health, the ACL bootstrap) depends on it, and it depends on every server, so no
 * resource that waits for a leader can hold one of Terraform's parallel slots while a server it needs is unstarted.
 * It runs again whenever a server is replaced.
 */
export class LeaderGate extends Construct {
  readonly resource: DataResource;

  constructor(scope: Construct, id: string, props: LeaderGateProps) {
    super(scope, id);
    this.resource = new DataResource(this, "wait", {
      dependsOn: [...props.agents],
      triggersReplace: props.agents.map((agent) => agent.id),
      provisioners: [
        {
          type: "local-exec",
          command: `node ${fromStackDir(WAIT_FOR_LEADER_SCRIPT)}`,
          environment: {
            CONSUL_HTTP_ADDR: props.lab.publishedApiUrl,
            ...trustedCa(props.caFile),
            CONSUL_LAB_LEADER_TIMEOUT_SECONDS: String(props.timeoutSeconds ?? 180),
          },
        },
      ],
    });
  }
}

/**
 * The environment that makes a deploy-time script (Node's fetch) trust the lab's CA besides the public ones: Node
 * reads NODE_EXTRA_CA_CERTS at start, relative to the script's working directory, the stack's.
 */
export function trustedCa(caFile: string | undefined): Record<string, string> {
  return caFile === undefined ? {} : { NODE_EXTRA_CA_CERTS: caFile };
}
