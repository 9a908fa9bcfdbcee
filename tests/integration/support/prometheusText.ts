/** Labels of one sample in the Prometheus text format. */
export type SampleLabels = Record<string, string>;

export interface Sample {
  name: string;
  labels: SampleLabels;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the samples of a Prometheus text exposition (comments and blank lines skipped). */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) continue;
    const labels: SampleLabels = {};
    for (const pair of (match[2] ?? "").matchAll(LABEL_PAIR)) labels[pair[1]] = pair[2].replace(/\\(.)/g, "$1");
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include every pair of `labels` (0 when none match). */
export function sumSamples(text: string, name: string, labels: SampleLabels = {}): number {
  return parsePrometheusText(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value))
    .reduce((total, s) => total + s.value, 0);
}
