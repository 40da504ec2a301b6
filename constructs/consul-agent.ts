import { Container, ContainerPorts } from "@cdktf/provider-docker/lib/container";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Construct } from "constructs";
import {
  AGENT_SECRETS_FILE,
  AgentSecrets,
  CONSUL_DATA_DIR,
  MAINTENANCE_HANDLER_FILE,
  MAINTENANCE_WATCH_ROLE,
  nodeRole,
  renderAgentConfigFiles,
} from "../renderers";
import { Lab, NODE_LOOPBACK } from "../topology";
import { assetText } from "./assets";
import { requireSecrets, SecretRefs } from "./secret-refs";
import { terraformLiteral } from "./terraform-literal";

export interface ConsulAgentProps {
  readonly lab: Lab;
  readonly nodeName: string;
  /** The image ID to run (a `docker_image`'s `imageId`), so the container follows image changes. */
  readonly image: string;
  /** The Docker network to attach to. */
  readonly networkName: string;
  /**
   * Seconds Terraform waits for the container to become healthy (leader elected, node joined).
   * @default 180
   */
  readonly waitTimeoutSeconds?: number;
  /** The lab's secrets; required when the topology's security is "secure". */
  readonly secrets?: SecretRefs;
}

/** What this node's agent config and environment carry in "secure" mode. */
function agentSecrets(secrets: SecretRefs, nodeName: string): AgentSecrets {
  return {
    gossipKey: secrets.gossipKey,
    managementToken: secrets.managementToken,
    nodeToken: secrets.roleToken(nodeRole(nodeName)),
    maintenanceWatchToken: secrets.roleToken(MAINTENANCE_WATCH_ROLE),
  };
}

/**
 * One node's Consul agent: a container on the lab network at the node's address, its agent config rendered
 * from the topology, and a named volume for its data so a redeploy keeps Raft and KV state.
 */
export class ConsulAgent extends Construct {
  readonly container: Container;
  readonly dataVolume: Volume;
  /** The container's name. */
  readonly containerName: string;
  /** The network mode that joins this agent's namespace (`container:<id>`), for the node's other containers. */
  readonly namespaceMode: string;

  constructor(scope: Construct, id: string, props: ConsulAgentProps) {
    super(scope, id);
    const { lab, nodeName } = props;
    const node = lab.node(nodeName);
    const secure = lab.topology.security === "secure";
    const secrets = secure
      ? agentSecrets(requireSecrets(props.secrets, `the agent of "${nodeName}"`), nodeName)
      : undefined;
    const isLoadBalancer = lab.workloadOf(node.name) === "load-balancer";
    const labels = [
      { label: "consul-lab.lab", value: lab.topology.name },
      { label: "consul-lab.node", value: node.name },
    ];

    this.dataVolume = new Volume(this, "data", { name: lab.dockerName(node.name, "data"), labels });
    this.containerName = lab.dockerName(node.name);
    this.container = new Container(this, "container", {
      name: this.containerName,
      image: props.image,
      hostname: node.name,
      // The node resolves through its dnsmasq (see DnsForwarder), which Docker's embedded DNS forwards to; the
      // search domains let `keepalived.service` and `dev1001` resolve inside any node, as in the article.
      dns: [NODE_LOOPBACK],
      dnsSearch: [`node.${lab.topology.consul.domain}`, `service.${lab.topology.consul.domain}`],
      command: ["agent"],
      restart: "unless-stopped",
      mustRun: true,
      networksAdvanced: [{ name: props.networkName, ipv4Address: node.address }],
      // Said explicitly: Docker reports "bridge" for an unset mode, which the provider would otherwise read as a
      // change and replace every container on every plan (kreuzwerker/terraform-provider-docker#603).
      networkMode: "bridge",
      volumes: [{ volumeName: this.dataVolume.name, containerPath: CONSUL_DATA_DIR }],
      upload: [
        // agent.json is literal text; secrets.json carries `${var...}` references between literals made only of
        // validated names, paths and booleans, so it is passed as it is.
        ...Object.entries(renderAgentConfigFiles(lab, node.name, secrets)).map(([file, content]) => ({
          file,
          content: file === AGENT_SECRETS_FILE ? content : terraformLiteral(content),
        })),
        // The load balancers' agents run the maintenance watch's handler.
        ...(isLoadBalancer
          ? [
              {
                file: MAINTENANCE_HANDLER_FILE,
                content: terraformLiteral(assetText("handlers/maintenance-flag.sh")),
                executable: true,
              },
            ]
          : []),
      ],
      ports: publishedPorts(lab, node.name),
      // Consul passes its environment to watch handlers: the handler's token for its KV write. Unset on other nodes.
      env: isLoadBalancer && secrets ? [`MAINTENANCE_FLAG_TOKEN=${secrets.maintenanceWatchToken}`] : undefined,
      healthcheck: {
        // A server is ready once a leader is elected; a client once it has joined one (it asks a server).
        test: ["CMD-SHELL", `wget -qO- http://${lab.agentHttpAddress}/v1/status/leader | grep -q ':'`],
        interval: "5s",
        timeout: "3s",
        retries: 3,
        startPeriod: "10s",
      },
      wait: true,
      waitTimeout: props.waitTimeoutSeconds ?? 180,
      labels,
    });
    this.namespaceMode = `container:${this.container.id}`;
  }
}

/**
 * The host ports a node's namespace publishes, on `publish.address` only: Consul's HTTP and DNS on the publish node,
 * the site's entry on the entry node. Published by the agent's container because it owns the namespace.
 */
function publishedPorts(lab: Lab, nodeName: string): ContainerPorts[] {
  const { publish, consul, site } = lab.topology;
  const ports: ContainerPorts[] = [];
  if (lab.publishNode.name === nodeName) {
    ports.push(
      { internal: consul.ports.http, external: publish.httpPort, ip: publish.address, protocol: "tcp" },
      { internal: consul.ports.dns, external: publish.dnsPort, ip: publish.address, protocol: "tcp" },
      { internal: consul.ports.dns, external: publish.dnsPort, ip: publish.address, protocol: "udp" },
    );
  }
  const entryPort = lab.portOf(site.entryService);
  if (entryPort !== undefined && lab.entryNode?.name === nodeName) {
    ports.push({ internal: entryPort, external: publish.entryPort, ip: publish.address, protocol: "tcp" });
  }
  return ports;
}
