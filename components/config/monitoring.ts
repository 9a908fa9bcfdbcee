import { z } from "zod";
import { hostPortSchema } from "./variants";

const pinnedImage = z
  .string()
  .min(1)
  .refine((ref) => ref.includes("@") || /:[^/:]+$/.test(ref), "must be pinned to a version tag or digest")
  .refine((ref) => !ref.endsWith(":latest"), "must not use the `latest` tag");

export const monitoringSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    prometheus: z
      .strictObject({
        image: pinnedImage.default("prom/prometheus:v2.53.2"),
        port: hostPortSchema.default(9090),
        retention: z.string().regex(/^\d+[smhdwy]$/, "must be a Prometheus duration such as 15d").default("15d"),
        scrapeInterval: z.string().regex(/^\d+[smh]$/, "must be a Prometheus duration such as 5s").default("5s"),
      })
      .prefault({}),
    cadvisor: z
      .strictObject({
        image: pinnedImage.default("gcr.io/cadvisor/cadvisor:v0.49.1"),
        port: hostPortSchema.default(8081),
        housekeepingInterval: z.string().regex(/^\d+(ms|s|m)$/, "must be a Go duration such as 10s").default("10s"),
      })
      .prefault({}),
    grafana: z
      .strictObject({
        image: pinnedImage.default("grafana/grafana:11.2.2"),
        port: hostPortSchema.default(3000),
      })
      .prefault({}),
  })
  .prefault({});
