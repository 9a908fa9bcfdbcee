// The stack outputs both engines return, the unikernel's entry included (docs/deploy.md lists them;
// docs/architecture.md says where they sit). Their own module, importing nothing of the components,
// so the docker lab, the swarm lab, the unikernel and the monitoring components share the types
// without importing each other.
import * as pulumi from "@pulumi/pulumi";
import { Runtime } from "../model/config";
import { UNIKERNEL_BUILDERS } from "../model/config/unikernel";

/** The builder that made the unikernel (config's `auto` picks one of these). */
export type UnikernelBuilder = Exclude<(typeof UNIKERNEL_BUILDERS)[number], "auto">;

export type Accelerator = "kvm" | "tcg";

/** The unikernel's `variants` entry; `memoryMb` is the guest's MiB, the unit Docker's limits use too. */
export interface UnikernelVariantOutput {
  cpus: number;
  memoryMb: number;
  /** Debian's Node serves the routes in the guest, whichever builder made it. */
  runtime: "node";
  url?: string;
  status: string;
  /** Set when it runs. */
  builder?: UnikernelBuilder;
  /** What QEMU runs it with: `tcg` is emulation (the bench marks such runs); unknown when the start step did not say. */
  accel?: Accelerator;
  /** Source builder: QEMU's pid file, for the bench to measure the process's CPU and memory. */
  pidFile?: string;
}

/** What the stack exports for one variant (the `variants` output). */
export interface VariantOutput {
  /** The guests' isolation (`microvm`, `unikernel`), the same record for both; containers leave it out. */
  isolation?: "microvm" | "unikernel";
  cpus: number;
  memoryMb: number;
  /** The runtime serving the routes (`node`, `bun`). */
  runtime?: Runtime;
  /** Absent when the variant does not run (the unikernel without a builder). */
  url?: string;
  /** The unikernel's `running…`, or why it does not run (`skipped: no kraft, no qemu-system-x86_64`). */
  status?: string;
  /** The unikernel's builder, accelerator and QEMU pid file (UnikernelVariantOutput). */
  builder?: UnikernelVariantOutput["builder"];
  /** The guests' acceleration (the bench marks `tcg` runs as emulated). */
  accel?: UnikernelVariantOutput["accel"];
  pidFile?: string;
}

/** The stack outputs of the monitoring services, the same from both engines. */
export interface MonitoringOutputs {
  prometheusUrl: pulumi.Output<string>;
  cadvisorUrl: pulumi.Output<string>;
  grafanaUrl: pulumi.Output<string>;
  /** `grafanaUrl` + `/d/optivolt-webapi` */
  dashboardUrl: pulumi.Output<string>;
  /** Grafana's `admin` password (secret). */
  grafanaAdminPassword: pulumi.Output<string>;
}

/** The `nodes` stack output: hostname → role and labels. */
export type NodesOutput = Record<string, { role: string; labels: Record<string, string> }>;

/** The stack outputs; the monitoring ones only when monitoring is enabled. */
export interface LabOutputs extends Partial<MonitoringOutputs> {
  /** variant → URL, for the variants that run (anything may fetch every entry) */
  endpoints: pulumi.Output<Record<string, string>>;
  /** variant → budget and URL */
  variants: pulumi.Output<Record<string, VariantOutput>>;
  /** Swarm stacks: node hostname → role and labels, as the manager reported them at `pulumi up`. */
  nodes?: pulumi.Output<NodesOutput>;
}

/** The stack outputs from what a lab made: its endpoints and variants, and the monitoring's when it runs. */
export function labOutputs(
  endpoints: Record<string, pulumi.Input<string>>,
  variants: Record<string, pulumi.Input<VariantOutput>>,
  monitoring: { outputs: MonitoringOutputs } | undefined,
): LabOutputs {
  return { endpoints: pulumi.output(endpoints), variants: pulumi.output(variants), ...monitoring?.outputs };
}
