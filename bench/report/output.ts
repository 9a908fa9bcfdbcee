/** Writes results.json, the SVG charts and report.md into the output directory. */
import * as fs from "fs";
import * as path from "path";
import { analyze } from "../numbers/analysis";
import { ChartOptions, chartSpecs, renderSvgs } from "./charts";
import { ChartLinks, renderReport } from "./report";
import { BenchResults, parseResults } from "../schema";

export interface WrittenFiles {
  results: string;
  report: string;
  charts: string[];
  chartError: string | null;
}

export async function writeOutputs(outDir: string, results: BenchResults, chartOptions: ChartOptions = { yMax: null }): Promise<WrittenFiles> {
  const valid = parseResults(results);
  fs.mkdirSync(path.join(outDir, "charts"), { recursive: true });
  const resultsFile = path.join(outDir, "results.json");
  // Raw figures first: a chart failure must never cost the measurements.
  fs.writeFileSync(resultsFile, `${JSON.stringify(valid, null, 2)}\n`);

  const links: ChartLinks = {};
  const charts: string[] = [];
  let chartError: string | null = null;
  try {
    for (const { file, svg } of await renderSvgs(chartSpecs(analyze(valid), chartOptions))) {
      const relative = `charts/${file}.svg`;
      fs.writeFileSync(path.join(outDir, relative), svg);
      links[file] = relative;
      charts.push(path.join(outDir, relative));
    }
  } catch (err) {
    chartError = (err as Error).message;
  }
  const reportFile = path.join(outDir, "report.md");
  fs.writeFileSync(reportFile, renderReport(valid, links));
  return { results: resultsFile, report: reportFile, charts, chartError };
}
