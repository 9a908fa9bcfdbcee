/** What `compare` says about one variant and endpoint: the verdicts and the figures behind them (the types the comparison and its chart share). */

export const NOT_EVIDENCE = "one repetition: not evidence";
export const MACHINE_CHANGED = "the machine changed";
export const NOT_SERVER_BOUND = "not server-bound: not evidence";
export type Verdict = "changed" | "within noise" | typeof NOT_EVIDENCE | typeof MACHINE_CHANGED | typeof NOT_SERVER_BOUND;

/** One session's figure for a metric: the median and the range over its repetitions. */
export interface SessionFigure {
  median: number;
  min: number;
  max: number;
  repetitions: number;
  /** The larger of (max − min) / median over the repetitions and the session floor; the default noise with one repetition. */
  noise: number;
  /** Where `noise` comes from: the repetitions' spread, the floor between sessions, or the one-repetition default. */
  noiseSource: "spread" | "floor" | "default";
}

/** What the machine did during one session's runs of a variant and endpoint. */
export interface MachineReading {
  /** Median reference workload time (ms), null when the runs carry none (older files). */
  referenceMs: number | null;
  /** Highest steal share of any run. */
  steal: number | null;
  /** Median share of the variant's own cores other processes used during its runs; null when it shares its cores or the file predates the field. */
  others: number | null;
  /** Runs flagged for a machine that moved beyond the bounds during them. */
  flagged: string[];
}

export interface ComparisonLine {
  variant: string;
  endpoint: string;
  rps: { old: SessionFigure; new: SessionFigure; change: number; verdict: Verdict };
  p99: { old: SessionFigure; new: SessionFigure; change: number; verdict: Verdict };
  /** Both sessions' readings; `moved` when the machine moved beyond the bounds between or during them. */
  machine: { old: MachineReading; new: MachineReading; moved: boolean; explanation: string | null };
  /** Runs behind either figure that were not server-bound and whole. */
  caveats: string[];
}
