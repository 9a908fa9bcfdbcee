/** Intel RAPL package energy counters (/sys/class/powercap), when the host exposes them. */
import * as fs from "fs";
import * as path from "path";
import { raplDeltaJoules } from "../numbers/energy";

const POWERCAP = "/sys/class/powercap";

interface Zone {
  energyFile: string;
  maxRangeUj: number;
}

/** Top-level package zones (intel-rapl:N), readable ones only. */
export function raplZones(root = POWERCAP): Zone[] {
  let names: string[];
  try {
    names = fs.readdirSync(root).filter((n) => /^intel-rapl:\d+$/.test(n));
  } catch {
    return [];
  }
  const zones: Zone[] = [];
  for (const name of names) {
    try {
      const energyFile = path.join(root, name, "energy_uj");
      fs.readFileSync(energyFile, "utf8");
      zones.push({ energyFile, maxRangeUj: Number(fs.readFileSync(path.join(root, name, "max_energy_range_uj"), "utf8")) });
    } catch {
      // unreadable (non-root on recent kernels): treated as absent
    }
  }
  return zones;
}

/** Starts a reading; the returned function gives the joules since then over all packages. */
export function startRaplReading(zones: readonly Zone[]): () => number | null {
  if (zones.length === 0) return () => null;
  const read = () => zones.map((z) => Number(fs.readFileSync(z.energyFile, "utf8")));
  const before = read();
  return () => {
    const after = read();
    return zones.reduce((sum, z, i) => sum + raplDeltaJoules(before[i], after[i], z.maxRangeUj), 0);
  };
}
