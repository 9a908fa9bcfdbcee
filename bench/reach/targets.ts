/** What to measure: targets from `--target` specs or from the stack's outputs (pure). */
import * as path from "path";
import { z } from "zod";
import { BenchError, UsageError } from "../errors";
import { Accel, ACCELS, GUEST_KINDS, GuestKind, MemoryFloor } from "../schema";
import { isLoopbackHost } from "../../tooling/loopback";

/** A variant QEMU runs (the micro-VM, the source-built unikernel): measured from its process, reached through its forwarded port. */
export interface QemuTarget {
  /** Absolute path of the file holding QEMU's pid (the runner's boot.json lies beside it). */
  pidFile: string;
  /** kvm, or tcg (software emulation: figures not comparable for speed); null when not said. */
  accel: Accel | null;
  /** Which VM rung: the stack outputs' or --target's `isolation`; null when not said. */
  guest: GuestKind | null;
}

export interface Target {
  name: string;
  /** Base URL; null when the stack lists the variant without one (skipped). */
  url: string | null;
  /** Set when the stack reports the variant as not deployed (the text is shown as is). */
  skipped: string | null;
  cpus: number | null;
  memoryMb: number | null;
  budgetSource: "stack" | "target" | "none";
  /** Container to sample; null lets the bench find the container publishing the URL's port. */
  container: string | null;
  /** Runtime the stack output names (`node`, `bun`); null when it names none. */
  runtime: string | null;
  /** Set for a variant QEMU runs; absent for containers and host processes. */
  qemu?: QemuTarget;
  /** The stack config's memory floor for it, once read (runBench); absent: none read. */
  memoryFloor?: MemoryFloor;
}

const NAME = /^[a-z][a-z0-9-]*$/;
const TARGET_HELP =
  "expected name=URL[,cpus=N,memoryMb=M,container=NAME | ,pidFile=PATH,accel=kvm|tcg,isolation=microvm|unikernel], e.g. standard=http://127.0.0.1:8001,cpus=2,memoryMb=512 " +
  "or unikernel=http://127.0.0.1:8004,cpus=1,memoryMb=480,pidFile=/abs/unikernel/.run/dev/qemu.pid,accel=tcg,isolation=unikernel";

function positiveNumber(key: string, text: string, spec: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--target ${spec}: ${key} must be a positive number, got "${text}"`);
  return value;
}

function httpUrl(text: string, where: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${where}: "${text}" is not a URL; use http://HOST:PORT`);
  }
  if (url.protocol !== "http:") throw new UsageError(`${where}: only http:// URLs can be load-tested, got ${url.protocol}`);
  return url.toString().replace(/\/$/, "");
}

function accelOf(text: string, spec: string): Accel {
  const accel = ACCELS.find((a) => a === text);
  if (accel === undefined) throw new UsageError(`--target ${spec}: accel must be kvm or tcg (what \`qemu.sh start\` printed last: accel=...), got "${text}"`);
  return accel;
}

function guestOf(text: string, spec: string): GuestKind {
  const guest = GUEST_KINDS.find((g) => g === text);
  if (guest === undefined) throw new UsageError(`--target ${spec}: isolation must be one of ${GUEST_KINDS.join(", ")} (a container needs no isolation option), got "${text}"`);
  return guest;
}

function pidFileOf(text: string, spec: string): string {
  if (!path.isAbsolute(text)) throw new UsageError(`--target ${spec}: pidFile must be an absolute path (the bench may run from another directory), got "${text}"; e.g. pidFile=$PWD/${text}`);
  return text;
}

/** Parses one `--target name=URL[,cpus=N,memoryMb=M,container=NAME,pidFile=PATH,accel=kvm|tcg,isolation=microvm|unikernel]`. */
export function parseTargetSpec(spec: string): Target {
  const [head, ...options] = spec.split(",");
  const eq = head.indexOf("=");
  if (eq <= 0) throw new UsageError(`--target ${spec}: ${TARGET_HELP}`);
  const name = head.slice(0, eq);
  if (!NAME.test(name)) throw new UsageError(`--target ${spec}: name "${name}" must be lower-case letters, digits and dashes`);
  const target: Target = {
    name,
    url: httpUrl(head.slice(eq + 1), `--target ${spec}`),
    skipped: null,
    cpus: null,
    memoryMb: null,
    budgetSource: "none",
    container: null,
    runtime: null,
  };
  let pidFile: string | null = null;
  let accel: Accel | null = null;
  let guest: GuestKind | null = null;
  for (const option of options) {
    const [key, value, ...rest] = option.split("=");
    if (value === undefined || value === "" || rest.length > 0) throw new UsageError(`--target ${spec}: "${option}" is not key=value; ${TARGET_HELP}`);
    if (key === "cpus") target.cpus = positiveNumber(key, value, spec);
    else if (key === "memoryMb") target.memoryMb = positiveNumber(key, value, spec);
    else if (key === "container") target.container = value;
    else if (key === "pidFile") pidFile = pidFileOf(value, spec);
    else if (key === "accel") accel = accelOf(value, spec);
    else if (key === "isolation") guest = guestOf(value, spec);
    else throw new UsageError(`--target ${spec}: unknown option "${key}"; ${TARGET_HELP}`);
  }
  if (pidFile === null && guest !== null) throw new UsageError(`--target ${spec}: isolation=${guest} describes a QEMU guest, which the bench measures from its process; add pidFile=PATH (QEMU's pid file)`);
  if (pidFile === null && accel !== null) throw new UsageError(`--target ${spec}: accel describes a QEMU variant, which the bench measures from its process; add pidFile=PATH (QEMU's pid file)`);
  if (pidFile !== null && target.container !== null) throw new UsageError(`--target ${spec}: a variant is either a container (container=NAME) or a QEMU process (pidFile=PATH), not both`);
  if (pidFile !== null) target.qemu = { pidFile, accel, guest };
  if (target.cpus !== null || target.memoryMb !== null) target.budgetSource = "target";
  return target;
}

/** Rejects two targets with one name. */
export function checkUniqueNames(targets: readonly Target[]): void {
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t.name)) throw new UsageError(`two targets are named "${t.name}"; give each --target its own name`);
    seen.add(t.name);
  }
}

// Stack outputs: `variants` (name → {url, cpus, memoryMb, and for a QEMU-run guest isolation, accel
// and pidFile} or a status string such as "skipped: kraft not found"), or at least `endpoints` (name →
// URL or status string).
const variantOutput = z.union([
  z.string(),
  z.looseObject({
    url: z.string().optional(),
    cpus: z.number().positive().optional(),
    memoryMb: z.number().positive().optional(),
    status: z.string().optional(),
    container: z.string().optional(),
    containerName: z.string().optional(),
    runtime: z.string().optional(),
    accel: z.enum(ACCELS).optional(),
    isolation: z.enum(["container", ...GUEST_KINDS]).optional(),
    pidFile: z.string().optional(),
  }),
]);
const stackOutputs = z.looseObject({
  variants: z.record(z.string(), variantOutput).optional(),
  endpoints: z.record(z.string(), z.string()).optional(),
});

const isUrl = (text: string | undefined): text is string => text !== undefined && /^https?:\/\//.test(text);

/** Targets from `pulumi stack output --json`, in the stack's order. */
export function targetsFromStackOutputs(raw: unknown, stackName: string): Target[] {
  const parsed = stackOutputs.safeParse(raw);
  const where = `stack "${stackName}" outputs`;
  if (!parsed.success) {
    throw new BenchError(`${where} are not what the bench expects (${parsed.error.issues[0]?.message}); run \`pulumi stack output --json --stack ${stackName}\` to see them.`);
  }
  const { variants, endpoints } = parsed.data;
  const entries = variants ?? endpoints;
  if (entries === undefined || Object.keys(entries).length === 0) {
    throw new BenchError(`${where} have no \`variants\` or \`endpoints\`; deploy with \`pulumi up --stack ${stackName}\` first, or pass --target name=URL.`);
  }
  return Object.entries(entries).map(([name, entry]): Target => {
    const base: Target = { name, url: null, skipped: null, cpus: null, memoryMb: null, budgetSource: "none", container: null, runtime: null };
    if (typeof entry === "string") {
      return isUrl(entry) ? { ...base, url: httpUrl(entry, where) } : { ...base, skipped: entry };
    }
    const budget = entry.cpus !== undefined || entry.memoryMb !== undefined;
    const target: Target = {
      ...base,
      cpus: entry.cpus ?? null,
      memoryMb: entry.memoryMb ?? null,
      budgetSource: budget ? "stack" : "none",
      container: entry.container ?? entry.containerName ?? null,
      runtime: entry.runtime ?? null,
      // A QEMU-run guest reports its pid file, acceleration and kind (micro-VM or unikernel) while it runs.
      ...(entry.pidFile === undefined ? {} : { qemu: { pidFile: entry.pidFile, accel: entry.accel ?? null, guest: entry.isolation === undefined || entry.isolation === "container" ? null : entry.isolation } }),
    };
    const skippedStatus = entry.status !== undefined && /^(skipped|disabled|failed)/i.test(entry.status);
    if (!isUrl(entry.url) || skippedStatus) return { ...target, skipped: entry.status ?? "no URL in the stack outputs" };
    return { ...target, url: httpUrl(entry.url, where) };
  });
}

/** The message a non-loopback target gets (null when it may be load-tested). */
export function loopbackRefusal(url: string): string | null {
  const host = new URL(url).hostname;
  if (isLoopbackHost(host)) return null;
  return `refusing to send load to ${host}: only loopback addresses (127.0.0.0/8, ::1, localhost) may be load-tested; run the bench on the machine that hosts the lab`;
}
