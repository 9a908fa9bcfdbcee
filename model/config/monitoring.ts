import { z } from "zod";
import { numeric } from "./numbers";
import { pinnedImage } from "./pinnedImage";
import { DOCKER_MIN_MEMORY_MB, hostPortSchema } from "./variants";

/** cAdvisor v0.49's metric groups (its `--disable_metrics` refuses any other name and exits). */
export const CADVISOR_METRIC_GROUPS = [
  "advtcp", "app", "cpu", "cpuLoad", "cpu_topology", "cpuset", "disk", "diskIO", "hugetlb", "memory",
  "memory_numa", "network", "oom_event", "percpu", "perf_event", "process", "referenced_memory",
  "resctrl", "sched", "tcp", "udp",
] as const;

/** Groups the dashboard reads: disabling them would empty its cAdvisor panels. */
export const CADVISOR_REQUIRED_GROUPS = ["cpu", "memory", "network", "oom_event"] as const;

/**
 * Everything else. `disk` (walks every container's writable layer) and `percpu`/`sched`/`process`
 * are the costly ones upstream points at; the rest are unused here. The flag replaces cAdvisor's own
 * default list, so that list's groups are repeated.
 */
export const CADVISOR_DISABLED_METRICS: readonly (typeof CADVISOR_METRIC_GROUPS)[number][] = CADVISOR_METRIC_GROUPS.filter(
  (group) => !(CADVISOR_REQUIRED_GROUPS as readonly string[]).includes(group),
);

/**
 * CPU and memory caps of a monitoring container: they share the host with the variants they
 * measure, so their cost is bounded by construction (no swap beyond the memory cap).
 */
const budget = (cpus: number, memoryMb: number) => ({
  cpus: numeric((n) => n.positive()).default(cpus),
  memoryMb: numeric((n) => n.int().min(DOCKER_MIN_MEMORY_MB)).default(memoryMb),
});

export const monitoringSchema = z
  .strictObject({
    /** false: no Prometheus, cAdvisor or Grafana in this stack (and no monitoring outputs). */
    enabled: z.boolean().default(true),
    prometheus: z
      .strictObject({
        image: pinnedImage.default("prom/prometheus:v2.53.2"),
        port: hostPortSchema.default(9090),
        retention: z.string().regex(/^\d+[smhdwy]$/, "must be a Prometheus duration such as 15d").default("15d"),
        scrapeInterval: z.string().regex(/^\d+[smh]$/, "must be a Prometheus duration such as 5s").default("5s"),
        ...budget(0.5, 512),
      })
      .prefault({}),
    cadvisor: z
      .strictObject({
        image: pinnedImage.default("gcr.io/cadvisor/cadvisor:v0.49.1"),
        port: hostPortSchema.default(8081),
        /** How often cAdvisor reads each container's cgroups: its main CPU cost. */
        housekeepingInterval: z.string().regex(/^\d+(ms|s|m)$/, "must be a Go duration such as 10s").default("10s"),
        ...budget(0.25, 256),
      })
      .prefault({}),
    grafana: z
      .strictObject({
        // 12.2: the dashboard JSON of @grafana/grafana-foundation-sdk carries schemaVersion 42.
        image: pinnedImage.default("grafana/grafana:12.2.1"),
        port: hostPortSchema.default(3000),
        ...budget(0.5, 512),
      })
      .prefault({}),
  })
  .prefault({});
