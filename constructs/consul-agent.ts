import { Container } from "@cdktf/provider-docker/lib/container";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import {
  AGENT_SECRETS_FILE,
  AgentSecrets,
  CONSUL_DATA_DIR,
  DNS_ROLE,
  MAINTENANCE_HANDLER_FILE,
  MAINTENANCE_HANDLER_TOKEN_FILE,
  MAINTENANCE_HANDLER_LOG,
  MAINTENANCE_WATCH_ROLE,
  nodeRole,
  renderAgentConfigFiles,
  TLS_CA_FILE,
  TLS_SERVER_CERT_FILE,
  TLS_SERVER_KEY_FILE,
} from "../renderers";
import type { Lab } from "../topology";
import { assetText } from "../shared/assets";
import { labLabels } from "../shared/labels";
import { labContainerBase } from "./lab-container";
import type { NodeNamespace } from "./node-namespace";
import type { ClusterSecurity, SecretRefs } from "./cluster-security";
import { terraformLiteral } from "./terraform-literal";

export interface ConsulAgentProps {
  readonly lab: Lab;
  readonly nodeName: string;
  /** The image ID to run (a `docker_image`'s `imageId`), so the container follows image changes. */
  readonly image: string;
  /** The node's namespace (address, hostname, resolver, published ports), which the agent joins. */
  readonly namespace: NodeNamespace;
  /**
   * Whether Terraform waits until the agent is healthy (it knows a leader). Only an agent created after every
   * server may wait: a server waiting for a leader could hold one of Terraform's parallel slots that another
   * server needs to start, and a leader needs them all.
   * @default false
   */
  readonly waitForLeader?: boolean;
  /**
   * Seconds Terraform waits for the container to become healthy, when `waitForLeader` is set.
   * @default 180
   */
  readonly waitTimeoutSeconds?: number;
  /**
   * What must exist before the agent is created (a client waits for the cluster's leader gate).
   * @default none
   */
  readonly dependsOn?: ITerraformDependable[];
  /** The cluster's security; "secure" puts the gossip key and the node's tokens into its config. */
  readonly security: ClusterSecurity;
}

/** What this node's agent config and environment carry in "secure" mode. */
function agentSecrets(secrets: SecretRefs, nodeName: string): AgentSecrets {
  return {
    gossipKey: secrets.gossipKey,
    managementToken: secrets.managementToken,
    nodeToken: secrets.roleToken(nodeRole(nodeName)),
    maintenanceWatchToken: secrets.roleToken(MAINTENANCE_WATCH_ROLE),
    dnsToken: secrets.roleToken(DNS_ROLE),
  };
}

/** The TLS files of an agent ("secure" mode), as variable references: no certificate or key is synthesized. */
function tlsFiles(secrets: SecretRefs, nodeName: string, isServer: boolean) {
  return [
    { file: TLS_CA_FILE, content: secrets.tls.caCert },
    ...(isServer
      ? [
          { file: TLS_SERVER_CERT_FILE, content: secrets.tls.serverCert(nodeName) },
          { file: TLS_SERVER_KEY_FILE, content: secrets.tls.serverKey(nodeName) },
        ]
      : []),
  ];
}

/**
 * One node's Consul agent: a container in the node's namespace (which holds its address on the lab network), its
 * agent config rendered from the topology, and a named volume for its data so a redeploy keeps Raft and KV state.
 */
export class ConsulAgent extends Construct {
  readonly container: Container;
  readonly dataVolume: Volume;
  /** The container's name, for `docker exec` and `docker logs`. */
  readonly containerName: string;

  constructor(scope: Construct, id: string, props: ConsulAgentProps) {
    super(scope, id);
    const { lab, nodeName } = props;
    const node = lab.node(nodeName);
    const secrets = props.security.mode === "secure" ? agentSecrets(props.security.secrets, nodeName) : undefined;
    const isLoadBalancer = lab.workloadOf(node.name) === "load-balancer";
    this.dataVolume = new Volume(this, "data", {
      name: lab.dockerName(node.name, "data"),
      labels: labLabels(lab, { node: node.name }),
    });
    this.containerName = lab.dockerName(node.name);
    this.container = new Container(this, "container", {
      name: this.containerName,
      image: props.image,
      command: ["agent"],
      // Address, hostname, resolver and published ports belong to the namespace; Docker refuses them here.
      networkMode: props.namespace.joinMode,
      volumes: [{ volumeName: this.dataVolume.name, containerPath: CONSUL_DATA_DIR }],
      upload: [
        // agent.json is literal text; secrets.json carries `${var...}` references between literals made only of
        // validated names, paths and booleans, so it is passed as it is.
        ...Object.entries(renderAgentConfigFiles(lab, node.name, secrets)).map(([file, content]) => ({
          file,
          content: file === AGENT_SECRETS_FILE ? content : terraformLiteral(content),
        })),
        // "secure": the lab CA's certificate for every agent, a server's own certificate and key for a server.
        ...(props.security.mode === "secure"
          ? tlsFiles(props.security.secrets, node.name, node.role === "server")
          : []),
        // The load balancers' agents run the maintenance watch's handler.
        ...(isLoadBalancer
          ? [
              {
                file: MAINTENANCE_HANDLER_FILE,
                content: terraformLiteral(assetText("handlers/maintenance-flag.sh")),
                executable: true,
              },
              ...(secrets
                ? [
                    {
                      file: MAINTENANCE_HANDLER_TOKEN_FILE,
                      content: secrets.maintenanceWatchToken,
                      permissions: "0444",
                    },
                  ]
                : []),
            ]
          : []),
      ],
      // Consul passes its environment to watch handlers: where the handler logs each flag change (Consul logs
      // handler output at DEBUG only), and where its token is (a path; the token itself is in no environment).
      // Unset on other nodes.
      env: isLoadBalancer
        ? [
            `MAINTENANCE_FLAG_LOG=${MAINTENANCE_HANDLER_LOG}`,
            ...(secrets ? [`MAINTENANCE_FLAG_TOKEN_FILE=${MAINTENANCE_HANDLER_TOKEN_FILE}`] : []),
          ]
        : undefined,
      healthcheck: {
        // A server is ready once a leader is elected; a client once it has joined one (it asks a server).
        test: ["CMD-SHELL", `wget -qO- http://${lab.agentHttpAddress}/v1/status/leader | grep -q ':'`],
        interval: "5s",
        timeout: "3s",
        retries: 3,
        startPeriod: "10s",
      },
      wait: props.waitForLeader ?? false,
      ...(props.waitForLeader ? { waitTimeout: props.waitTimeoutSeconds ?? 180 } : {}),
      dependsOn: props.dependsOn,
      ...labContainerBase(this, lab, node.name, "agent"),
    });
  }
}
