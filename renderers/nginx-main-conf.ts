/**
 * The main nginx.conf of every nginx in the lab (app, sorry, placeholder and entry pages, the load balancers): the
 * official image's own (its package's /etc/nginx/nginx.conf: the nginx user, error log, pid, mime types, access log,
 * sendfile, keepalive, conf.d), with one change: a fixed number of workers. The image says `worker_processes auto`,
 * one worker per CPU of the host, and each worker counts against the container's memory ceiling
 * (containers.memoryMb): on a host with many cores the ceiling would kill them. Two workers keep a reload seamless.
 */
import { GENERATED_NOTICE } from "../shared/generated-file";

export const NGINX_MAIN_CONF = "/etc/nginx/nginx.conf";

/** Workers per nginx, whatever the host's CPU count. */
export const NGINX_WORKER_PROCESSES = 2;

export function renderNginxMainConf(): string {
  return [
    GENERATED_NOTICE,
    "user  nginx;",
    `worker_processes  ${NGINX_WORKER_PROCESSES};`,
    "",
    "error_log  /var/log/nginx/error.log notice;",
    "pid        /var/run/nginx.pid;",
    "",
    "events {",
    "    worker_connections  1024;",
    "}",
    "",
    "http {",
    "    include       /etc/nginx/mime.types;",
    "    default_type  application/octet-stream;",
    "",
    `    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '`,
    `                      '$status $body_bytes_sent "$http_referer" '`,
    `                      '"$http_user_agent" "$http_x_forwarded_for"';`,
    "",
    "    access_log  /var/log/nginx/access.log  main;",
    "",
    "    sendfile        on;",
    "    keepalive_timeout  65;",
    "",
    "    include /etc/nginx/conf.d/*.conf;",
    "}",
    "",
  ].join("\n");
}
