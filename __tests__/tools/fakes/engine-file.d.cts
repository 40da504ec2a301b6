/** See engine-file.cjs. */
export declare function engineFileName(variables: {
  DOCKER_HOST?: string | null;
  DOCKER_CONTEXT?: string | null;
}): string;
