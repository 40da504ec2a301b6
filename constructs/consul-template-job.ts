import type { ContainerUpload } from "@cdktf/provider-docker/lib/container";
import { Construct } from "constructs";
import {
  CONSUL_TEMPLATE_ROLE,
  ConsulTemplateJobSpec,
  LOAD_BALANCER_PATHS,
  renderConsulTemplateConfigJson,
} from "../renderers";
import type { Lab } from "../topology";
import type { ClusterSecurity } from "./cluster-security";
import { terraformLiteral } from "./terraform-literal";

export interface ConsulTemplateJobProps {
  readonly lab: Lab;
  /** What the job renders and supervises (see renderers/consul-template-config.ts). */
  readonly job: ConsulTemplateJobSpec;
  /** The contents of each template, by its `source` path in the container. */
  readonly templateContents: Readonly<Record<string, string>>;
  /** Where the container reads the rendered configuration. */
  readonly configFile: string;
  /** The cluster's security; "secure" gives consul-template its token. */
  readonly security: ClusterSecurity;
}

/**
 * A consul-template job for a container that runs consul-template: its configuration rendered from the topology and
 * the job, its templates, and its ACL token as a root-only file. The container takes `uploads`; nothing reaches the
 * image, and nothing secret its environment.
 */
export class ConsulTemplateJob extends Construct {
  /** The files to upload into the container: the configuration, every template, and ("secure") the token. */
  readonly uploads: ContainerUpload[];

  constructor(scope: Construct, id: string, props: ConsulTemplateJobProps) {
    super(scope, id);
    const { lab, job } = props;
    const missing = job.templates.filter((template) => props.templateContents[template.source] === undefined);
    if (missing.length > 0) {
      throw new Error(
        `no contents for template(s) ${missing.map((template) => template.source).join(", ")}; add them to templateContents`,
      );
    }
    this.uploads = [
      { file: props.configFile, content: terraformLiteral(renderConsulTemplateConfigJson(lab, job)) },
      ...job.templates.map((template) => ({
        file: template.source,
        content: terraformLiteral(props.templateContents[template.source]),
      })),
    ];
    if (props.security.mode === "secure") {
      this.uploads.push({
        file: LOAD_BALANCER_PATHS.consulToken,
        content: props.security.secrets.roleToken(CONSUL_TEMPLATE_ROLE),
        permissions: "0400",
      });
    }
  }
}
