/** Energy per 1,000 successful requests, measured (RAPL) or estimated from CPU time (pure). */
import { EndpointFigures } from "./figures";

export type EnergySource = "rapl" | "estimate";

export interface EnergyFigure {
  joulesPer1000: number | null;
  source: EnergySource;
}

/**
 * RAPL: the package energy over the measured windows (the whole host: load generator included).
 * Estimate: the container's CPU-seconds × an assumed power per busy core; it leaves out idle power,
 * memory, the network path and the load generator.
 */
export function energyPer1000(figures: EndpointFigures, source: EnergySource, wattsPerCore: number): EnergyFigure {
  if (figures.successfulRequests === 0) return { joulesPer1000: null, source };
  const joules = source === "rapl" ? figures.raplJoules : figures.serverCpuSeconds === null ? null : figures.serverCpuSeconds * wattsPerCore;
  return { joulesPer1000: joules === null ? null : (joules / figures.successfulRequests) * 1000, source };
}

/** Difference of two RAPL energy_uj readings in joules, allowing for one counter wrap. */
export function raplDeltaJoules(beforeUj: number, afterUj: number, maxRangeUj: number): number {
  const delta = afterUj >= beforeUj ? afterUj - beforeUj : maxRangeUj - beforeUj + afterUj;
  return delta / 1e6;
}
