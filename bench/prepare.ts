/** Turns a target into a variant ready to measure: reachability, container, budget, network path. */
import * as http from "http";
import { locateCgroup } from "./cgroup";
import { ContainerLimits, DockerEngine } from "./docker";
import { dockerProxyPid } from "./proc";
import { cgroupCounters, ContainerCounters, engineCounters } from "./sampler";
import { VariantResult } from "./schema";
import { loopbackRefusal, Target } from "./targets";

export interface PreparedVariant {
  result: VariantResult;
  /** Null when no container serves the target: no server CPU or memory figures. */
  counters: ContainerCounters | null;
  proxyPid: number | null;
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

/** Compares a declared budget with the limits the engine enforces. */
export function budgetWarnings(target: Pick<Target, "cpus" | "memoryMb">, limits: ContainerLimits): string[] {
  const warnings: string[] = [];
  const close = (a: number, b: number) => Math.abs(a - b) <= 0.01 * Math.max(a, b);
  if (target.cpus !== null && (limits.cpus === null || !close(target.cpus, limits.cpus))) {
    warnings.push(`declared ${target.cpus} CPUs but the container's limit is ${limits.cpus ?? "none"}`);
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
    budget: { cpus: target.cpus, memoryMb: target.memoryMb, source: target.budgetSource },
    container: null,
    statsSource: null,
    networkPath: null,
    warnings: [],
    runs: [],
  };
}

export async function prepareVariant(target: Target, docker: DockerEngine | null): Promise<PreparedVariant> {
  const none = (status: VariantResult["status"], detail: string) => ({ result: emptyResult(target, status, detail), counters: null, proxyPid: null });
  if (target.skipped !== null || target.url === null) return none("skipped", target.skipped ?? "no URL");
  const refusal = loopbackRefusal(target.url);
  if (refusal !== null) return none("refused", refusal);
  const unreachable = await probe(target.url);
  if (unreachable !== null) return none("unreachable", `${target.url}: ${unreachable}`);

  const result = emptyResult(target, "measured", null);
  const port = Number(new URL(target.url).port || 80);
  const proxyPid = dockerProxyPid(port);
  let container: Awaited<ReturnType<DockerEngine["inspect"]>> | null = null;
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
  let counters: ContainerCounters | null = null;
  if (container !== null && docker !== null) {
    const files = container.pid === null ? null : locateCgroup(container.pid);
    counters = files === null ? engineCounters(docker, container.id) : cgroupCounters(files);
    result.statsSource = counters.source;
    result.container = { name: container.name, id: container.id };
    result.warnings.push(...budgetWarnings(target, container.limits));
    if (target.budgetSource === "none") {
      result.budget = { cpus: container.limits.cpus, memoryMb: container.limits.memoryMb, source: "container" };
    }
  }
  result.networkPath = describeNetworkPath(target.url, container?.limits ?? null, proxyPid);
  return { result, counters, proxyPid };
}
