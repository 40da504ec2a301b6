/** What validation reports: a problem with where it is, and the function each rule reports through. */
export interface TopologyProblem {
  /** Where the problem is, as `nodes[4].name`. */
  readonly path: string;
  /** What is wrong and what to change. */
  readonly message: string;
}

/** Reports one problem: its path and its message. */
export type Report = (path: string, message: string) => void;
