/** Throughput per unit of budget and per unit of CPU actually used (pure). */
import { EndpointFigures } from "./figures";
import { VariantResult } from "../schema";
import { ratio } from "./stats";

export interface Efficiency {
  /** Successful req/s per allocated CPU. */
  rpsPerCpu: number | null;
  /** Successful req/s per allocated GiB of memory. */
  rpsPerGb: number | null;
  /** Successful requests per CPU-second the container actually used. */
  requestsPerCpuSecond: number | null;
}

export function efficiency(figures: EndpointFigures, budget: VariantResult["budget"]): Efficiency {
  const rps = figures.rps.median;
  return {
    rpsPerCpu: budget.cpus === null ? null : rps / budget.cpus,
    rpsPerGb: budget.memoryMb === null ? null : rps / (budget.memoryMb / 1024),
    requestsPerCpuSecond:
      figures.serverCpuSeconds === null || figures.serverCpuSeconds === 0 ? null : figures.successfulRequests / figures.serverCpuSeconds,
  };
}

/** Each metric divided by the baseline's (1.5 = 50 % better than baseline). */
export function relativeEfficiency(value: Efficiency, baseline: Efficiency): Efficiency {
  return {
    rpsPerCpu: ratio(value.rpsPerCpu, baseline.rpsPerCpu),
    rpsPerGb: ratio(value.rpsPerGb, baseline.rpsPerGb),
    requestsPerCpuSecond: ratio(value.requestsPerCpuSecond, baseline.requestsPerCpuSecond),
  };
}
