import * as fs from "fs";
import * as path from "path";

/** What the program asks of the machine it runs on; injectable so tests never depend on the test machine. */
export interface HostProbes {
  /** True when `name` is an executable file in one of PATH's folders. */
  commandOnPath(name: string): boolean;
  /** True when /dev/kvm can be opened for reading and writing (hardware acceleration). */
  kvmUsable(): boolean;
  /** True when `file` (absolute) exists: the source builder's local archives. */
  fileExists(file: string): boolean;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** True when `name` is an executable file in one of the folders of `pathValue` (a PATH string). */
export function commandOnPath(name: string, pathValue = process.env.PATH): boolean {
  return (pathValue ?? "").split(path.delimiter).some((dir) => dir !== "" && isExecutable(path.join(dir, name)));
}

/** The real machine: PATH of this process, /dev/kvm, its file system. */
export const hostProbes: HostProbes = {
  commandOnPath: (name) => commandOnPath(name),
  kvmUsable: () => {
    try {
      fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
  fileExists: (file) => fs.existsSync(file),
};
