/**
 * consul-template's configuration on a load balancer, as JSON (consul-template reads JSON as well as HCL).
 * consul-template supervises nginx (exec mode). On every change it hands the rendered site to an installer that
 * keeps it only if `nginx -t` accepts it, then signals nginx to reload, so nginx only ever loads a validated config
 * and a bad render never takes the load balancer down.
 */
import type { Lab } from "../topology";

/** Where each file of a load balancer lives in its container. */
export const LOAD_BALANCER_PATHS = {
  config: "/etc/consul-template/config.json",
  template: "/etc/consul-template/templates/site.conf.ctmpl",
  rendered: "/etc/consul-template/rendered/site.conf",
  liveSite: "/etc/nginx/conf.d/site.conf",
  consulUi: "/etc/nginx/conf.d/consul-ui.conf",
  /** Installed by the image (assets/load-balancer/install-site-conf.sh). */
  installer: "/usr/local/bin/install-site-conf",
} as const;

export interface ConsulTemplateConfig {
  readonly consul: {
    readonly address: string;
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
  readonly exec: {
    readonly command: readonly string[];
    readonly reload_signal: string;
    readonly kill_signal: string;
    readonly kill_timeout: string;
  };
  readonly template: readonly {
    readonly source: string;
    readonly destination: string;
    readonly create_dest_dirs: boolean;
    readonly command: readonly string[];
    readonly command_timeout: string;
  }[];
}

export function renderConsulTemplateConfig(lab: Lab): ConsulTemplateConfig {
  const { consulTemplate } = lab.topology;
  return {
    consul: {
      address: lab.agentHttpAddress,
      // attempts 0 retries forever: a leader election or an agent restart must never kill the load balancer.
      retry: { enabled: true, attempts: 0, backoff: "250ms", max_backoff: "30s" },
    },
    log_level: consulTemplate.logLevel,
    max_stale: consulTemplate.maxStale,
    // Docker stops containers with SIGTERM; let consul-template treat it as its graceful stop.
    kill_signal: "SIGTERM",
    wait: { min: consulTemplate.wait.min, max: consulTemplate.wait.max },
    // SIGHUP is nginx's graceful reload; without a reload signal consul-template would restart nginx on every change.
    // SIGQUIT is its graceful stop.
    exec: {
      command: ["nginx", "-g", "daemon off;"],
      reload_signal: "SIGHUP",
      kill_signal: "SIGQUIT",
      kill_timeout: "10s",
    },
    template: [
      {
        source: LOAD_BALANCER_PATHS.template,
        destination: LOAD_BALANCER_PATHS.rendered,
        create_dest_dirs: true,
        // The installer validates and installs; it exits 0 when it keeps the last good config, because
        // consul-template exits on a failed command and would take nginx down with it.
        command: ["/bin/sh", LOAD_BALANCER_PATHS.installer, LOAD_BALANCER_PATHS.rendered, LOAD_BALANCER_PATHS.liveSite],
        command_timeout: "30s",
      },
    ],
  };
}

export function renderConsulTemplateConfigJson(lab: Lab): string {
  return `${JSON.stringify(renderConsulTemplateConfig(lab), null, 2)}\n`;
}
