/**
 * consul-template's configuration on a load balancer, as JSON (consul-template reads JSON as well as HCL).
 * consul-template supervises nginx (exec mode). On every change it hands the rendered site to an installer that
 * keeps it only if `nginx -t` accepts it, then signals nginx to reload, so nginx only ever loads a validated config
 * and a bad render never takes the load balancer down.
 */
import type { Lab } from "../topology";
import { jsonFileText } from "../shared/generated-file";

/** Where each file of a load balancer lives in its container. */
export const LOAD_BALANCER_PATHS = {
  config: "/etc/consul-template/config.json",
  template: "/etc/consul-template/templates/site.conf.ctmpl",
  rendered: "/etc/consul-template/rendered/site.conf",
  liveSite: "/etc/nginx/conf.d/site.conf",
  consulUi: "/etc/nginx/conf.d/consul-ui.conf",
  /** Installed by the image (assets/load-balancer/install-site-conf.sh). */
  installer: "/usr/local/bin/install-site-conf",
  /**
   * consul-template's ACL token ("secure" labs), root's alone: consul-template runs as root and reads it through
   * `consul.token_file`, so the token is in no environment (`docker inspect` shows environments, and children
   * inherit them).
   */
  consulToken: "/etc/consul-template/consul-token",
} as const;

export interface ConsulTemplateConfig {
  readonly consul: {
    readonly address: string;
    /**
     * Read by Consul's API client when consul-template makes it (api/api.go NewClient, from dependency/client_set.go),
     * and preferred to CONSUL_TOKEN.
     */
    readonly token_file?: string;
    readonly retry: {
      readonly enabled: boolean;
      readonly attempts: number;
      readonly backoff: string;
      readonly max_backoff: string;
    };
  };
  readonly log_level: string;
  readonly max_stale: string;
  readonly kill_signal: string;
  readonly wait: { readonly min: string; readonly max: string };
  readonly exec?: {
    readonly command: readonly string[];
    readonly reload_signal: string;
    readonly kill_signal: string;
    readonly kill_timeout: string;
    readonly env: { readonly denylist: readonly string[] };
  };
  readonly template: readonly {
    readonly source: string;
    readonly destination: string;
    readonly create_dest_dirs: boolean;
    readonly command: readonly string[];
    readonly command_timeout: string;
  }[];
}

/** What a process consul-template supervises never inherits from it: the token and every other Consul setting. */
export const SUPERVISED_ENV_DENYLIST = ["CONSUL_*"] as const;

/** A process consul-template supervises (exec mode), and how it is told to reload and to stop. */
export interface SupervisedProcess {
  readonly command: readonly string[];
  readonly reloadSignal: string;
  readonly killSignal: string;
}

/** One template of a job: where its source and output live, and what runs after each render. */
export interface JobTemplate {
  readonly source: string;
  readonly destination: string;
  readonly command: readonly string[];
}

/** What a consul-template job does: the templates it renders and, optionally, the process it supervises. */
export interface ConsulTemplateJobSpec {
  readonly templates: readonly JobTemplate[];
  readonly exec?: SupervisedProcess;
}

/**
 * A job's configuration: how it reaches Consul comes from the topology (the local agent, retries, staleness,
 * quiescence); what it renders and supervises from the job.
 */
export function renderConsulTemplateConfig(lab: Lab, job: ConsulTemplateJobSpec): ConsulTemplateConfig {
  const { consulTemplate } = lab.topology;
  return {
    consul: {
      address: lab.agentHttpAddress,
      ...(lab.secure ? { token_file: LOAD_BALANCER_PATHS.consulToken } : {}),
      // attempts 0 retries forever: a leader election or an agent restart must never kill the load balancer.
      retry: { enabled: true, attempts: 0, backoff: "250ms", max_backoff: "30s" },
    },
    log_level: consulTemplate.logLevel,
    max_stale: consulTemplate.maxStale,
    // Docker stops containers with SIGTERM; let consul-template treat it as its graceful stop.
    kill_signal: "SIGTERM",
    wait: { min: consulTemplate.wait.min, max: consulTemplate.wait.max },
    ...(job.exec
      ? {
          exec: {
            command: job.exec.command,
            reload_signal: job.exec.reloadSignal,
            kill_signal: job.exec.killSignal,
            kill_timeout: "10s",
            // The supervised program (nginx) gets none of consul-template's Consul settings, its token included:
            // globs matched with filepath.Match (consul-template config/env.go EnvConfig.Env, v0.42.1).
            env: { denylist: [...SUPERVISED_ENV_DENYLIST] },
          },
        }
      : {}),
    template: job.templates.map((template) => ({
      source: template.source,
      destination: template.destination,
      create_dest_dirs: true,
      command: template.command,
      command_timeout: "30s",
    })),
  };
}

/**
 * The load balancers' job: render the site's upstream, install it through the validating installer (which exits 0
 * when it keeps the last good config, because consul-template exits on a failed command and would take nginx down
 * with it), and supervise nginx. SIGHUP is nginx's graceful reload (without a reload signal consul-template would
 * restart nginx on every change); SIGQUIT its graceful stop.
 */
export function loadBalancerJob(): ConsulTemplateJobSpec {
  return {
    templates: [
      {
        source: LOAD_BALANCER_PATHS.template,
        destination: LOAD_BALANCER_PATHS.rendered,
        command: ["/bin/sh", LOAD_BALANCER_PATHS.installer, LOAD_BALANCER_PATHS.rendered, LOAD_BALANCER_PATHS.liveSite],
      },
    ],
    exec: { command: ["nginx", "-g", "daemon off;"], reloadSignal: "SIGHUP", killSignal: "SIGQUIT" },
  };
}

/** The consul-template config file's text for a job. */
export function renderConsulTemplateConfigJson(lab: Lab, job: ConsulTemplateJobSpec): string {
  return jsonFileText(renderConsulTemplateConfig(lab, job));
}
