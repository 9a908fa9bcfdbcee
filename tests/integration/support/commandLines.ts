// Runs the program's command lines as its command resources do, and finds the QEMU they leave.
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";

export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command line as a command resource does (`/bin/sh -c`, in `cwd`); never rejects. */
export function sh(command: string, cwd: string, timeoutMs = 600_000): Promise<ShellResult> {
  return new Promise((resolve) => {
    execFile("/bin/sh", ["-c", command], { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as NodeJS.ErrnoException).code ?? 1) || 1 : 0, stdout, stderr });
    });
  });
}

export async function shOk(command: string, cwd: string, timeoutMs?: number): Promise<ShellResult> {
  const result = await sh(command, cwd, timeoutMs);
  assert.strictEqual(result.code, 0, `${command}\nexited ${result.code}:\n${result.stderr}\n${result.stdout}`);
  return result;
}

/** QEMU processes whose command line names `runDir`. */
export function qemuProcessesFor(runDir: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(runDir) && fs.readFileSync(`/proc/${pid}/comm`, "utf8").includes("qemu");
      } catch {
        return false;
      }
    })
    .map(Number);
}
