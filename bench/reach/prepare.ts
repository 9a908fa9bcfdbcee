/** Turns a target into a variant ready to measure: reachability, container or QEMU process, budget, network path. */
import * as http from "http";
import { locateCgroup } from "../counters/cgroup";
import { enforcedCpus } from "./cores";
import { ContainerLimits, DockerEngine, InspectedContainer } from "../counters/docker";
import { LoadEngine } from "../engines/types";
import { dockerProxyPid } from "../counters/proc";
import { locateQemu, qemuCpuset, qemuStopped } from "./qemu";
import { cgroupCounters, engineCounters, processCounters, ServerCounters } from "../counters/sampler";
import { containerBoot, readGuestBoot } from "../counters/boot";
import { BootTime, VariantResult } from "../schema";
import { loopbackRefusal, QemuTarget, Target } from "./targets";

/** How the load reaches one variant: the generator that sends it and the URL it targets. */
export interface VariantLoad {
  engine: LoadEngine;
  url: string;
}

export interface PreparedVariant {
  result: VariantResult;
  /** Null when neither a container nor a QEMU process serves the target: no server CPU or memory figures. */
  counters: ServerCounters | null;
  proxyPid: number | null;
  /** The container behind the URL, as inspected before the runs. */
  container: InspectedContainer | null;
  /** The QEMU process behind the URL and the cores it may run on; null for containers. */
  qemu: { pid: number; cpuset: string } | null;
  /** Set by the measuring path; null when the variant is not measured. */
  load: VariantLoad | null;
  /** Null while the container runs, else what became of it (e.g. "exited (OOM-killed)"). */
  stopped(): Promise<string | null>;
}

/** Null when the URL answers HTTP at all (any status), else why not. */
export function probe(url: string, timeoutMs = 5000): Promise<string | null> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(null);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED" ? "connection refused (is it running?)" : err.message));
  });
}

/** Human description of the path the load takes to the server. */
export function describeNetworkPath(url: string, limits: ContainerLimits | null, proxyPid: number | null): string {
  const { host } = new URL(url);
  if (limits === null) return `${host} → a process on the host (no container found: no server CPU or memory figures)`;
  if (limits.networkMode === "host") return `${host} → container on the host network (no proxy, no NAT)`;
  if (proxyPid !== null) return `${host} → docker-proxy (userland, pid ${proxyPid}) → container bridge`;
  return `${host} → iptables DNAT → container bridge`;
}

/**
 * Compares a declared budget with the limits the engine enforces; `usableCpus` is the quota capped
 * by the cores the cpuset leaves (what per-CPU figures then divide by).
 */
export function budgetWarnings(target: Pick<Target, "cpus" | "memoryMb">, limits: ContainerLimits, usableCpus: number): string[] {
  const warnings: string[] = [];
  const close = (a: number, b: number) => Math.abs(a - b) <= 0.01 * Math.max(a, b);
  if (target.cpus !== null && !close(target.cpus, usableCpus)) {
    const quota = limits.cpus === null ? "no CPU quota" : `a quota of ${limits.cpus} CPUs`;
    const cpuset = limits.cpuset === "" ? "" : ` on cores ${limits.cpuset}`;
    warnings.push(`declared ${target.cpus} CPUs but the engine enforces ${quota}${cpuset}: per-CPU figures use ${usableCpus}`);
  }
  if (target.memoryMb !== null && (limits.memoryMb === null || !close(target.memoryMb, limits.memoryMb))) {
    warnings.push(`declared ${target.memoryMb} MB but the container's limit is ${limits.memoryMb === null ? "none" : `${limits.memoryMb} MB`}`);
  }
  return warnings;
}

function emptyResult(target: Target, status: VariantResult["status"], detail: string | null): VariantResult {
  return {
    name: target.name,
    url: target.url,
    status,
    detail,
    runtime: target.runtime,
    budget: { cpus: target.cpus, memoryMb: target.memoryMb, source: target.budgetSource },
    declared: { cpus: target.cpus, memoryMb: target.memoryMb },
    enforced: null,
    generator: null,
    notMeasurable: null,
    container: null,
    statsSource: null,
    provenance: { isolation: null, accel: null, guest: null },
    boot: null,
    memoryFloor: target.memoryFloor ?? null,
    networkPath: null,
    warnings: [],
    runs: [],
  };
}

export async function prepareVariant(target: Target, docker: DockerEngine | null, hostCores: number): Promise<PreparedVariant> {
  const none = (status: VariantResult["status"], detail: string): PreparedVariant => ({
    result: emptyResult(target, status, detail),
    counters: null,
    proxyPid: null,
    container: null,
    qemu: null,
    load: null,
    stopped: async () => null,
  });
  if (target.skipped !== null || target.url === null) return none("skipped", target.skipped ?? "no URL");
  const refusal = loopbackRefusal(target.url);
  if (refusal !== null) return none("refused", refusal);
  // Before any probe: a missing or stale pid file stops the session with the fix, not a failed variant.
  const qemuPid = target.qemu === undefined ? null : locateQemu(target.name, target.qemu);
  const unreachable = await probe(target.url);
  if (unreachable !== null) return none("unreachable", `${target.url}: ${unreachable}`);
  if (target.qemu !== undefined && qemuPid !== null) return prepareQemu(target, target.url, target.qemu, qemuPid);

  const result = emptyResult(target, "measured", null);
  const port = Number(new URL(target.url).port || 80);
  const proxyPid = dockerProxyPid(port);
  let container: InspectedContainer | null = null;
  if (docker !== null) {
    try {
      const ref = target.container ?? (await docker.findByHostPort(port))?.id ?? null;
      container = ref === null ? null : await docker.inspect(ref);
    } catch (err) {
      result.warnings.push(`no container stats: ${(err as Error).message}`);
    }
  } else {
    result.warnings.push("no local Docker engine socket: no server CPU or memory figures");
  }
  let counters: ServerCounters | null = null;
  if (container !== null && docker !== null) {
    const files = container.pid === null ? null : locateCgroup(container.pid);
    counters = files === null ? engineCounters(docker, container.id) : cgroupCounters(files);
    result.statsSource = counters.source;
    result.provenance = { isolation: "container", accel: null, guest: null };
    result.boot = containerBoot(container.boot);
    result.container = { name: container.name, id: container.id };
    const usableCpus = enforcedCpus(container.limits.cpus, container.limits.cpuset, hostCores);
    result.warnings.push(...budgetWarnings(target, container.limits, usableCpus));
    result.enforced = { cpus: container.limits.cpus, memoryMb: container.limits.memoryMb, cpuset: container.limits.cpuset };
    // Per-CPU and per-GB figures divide by what the engine enforces, not by what was declared.
    result.budget = { cpus: usableCpus, memoryMb: container.limits.memoryMb ?? target.memoryMb, source: "container" };
  }
  result.networkPath = describeNetworkPath(target.url, container?.limits ?? null, proxyPid);
  if (container === null) result.boot = NO_RECORD;
  const id = container?.id ?? null;
  const stopped = async () => (id === null || docker === null ? null : docker.stopped(id));
  return { result, counters, proxyPid, container, qemu: null, load: null, stopped };
}

/** QEMU's user-mode networking: its own slirp stack, inside the QEMU process, forwards the host port. */
export function describeQemuPath(url: string, pid: number): string {
  return `${new URL(url).host} → qemu user-net forward (slirp inside QEMU, pid ${pid}) → the guest`;
}

/** The boot of a server that is neither a container nor a QEMU guest: nothing recorded its start. */
const NO_RECORD: BootTime = { afterMs: null, byMs: null, source: null, detail: "no container or QEMU process found: nothing recorded when it started" };

/**
 * A QEMU-run variant: sampled from its process (utime + stime, VmRSS); the per-GB budget is the
 * guest's memory, the only limit the guest lives within (QEMU's own overhead comes on top of it).
 * Its boot and, when the stack did not say, its acceleration come from the runner's boot.json.
 */
function prepareQemu(target: Target, url: string, qemu: QemuTarget, pid: number): PreparedVariant {
  const result = emptyResult(target, "measured", null);
  const counters = processCounters(pid);
  const booted = readGuestBoot(qemu.pidFile);
  const accel = qemu.accel ?? booted.accel;
  result.statsSource = counters.source;
  result.provenance = { isolation: "qemu", accel, guest: qemu.guest };
  result.boot = booted.boot;
  result.networkPath = describeQemuPath(url, pid);
  if (accel === null) result.warnings.push("QEMU's acceleration is not known (no accel in the stack outputs, --target or boot.json): the figures are not marked emulated; give accel=tcg if QEMU runs without KVM");
  if (qemu.accel !== null && booted.accel !== null && qemu.accel !== booted.accel) result.warnings.push(`the stack says accel ${qemu.accel} but the runner's boot.json says ${booted.accel}: the figures follow the stack's`);
  if (qemu.guest === null) result.warnings.push("which guest QEMU runs is not known (no isolation in the stack outputs or --target): the ladder cannot place it; give isolation=microvm or isolation=unikernel");
  return { result, counters, proxyPid: null, container: null, qemu: { pid, cpuset: qemuCpuset(pid) }, load: null, stopped: async () => qemuStopped(pid) };
}
