import * as fs from "fs";
import * as path from "path";
import { POLICY_PACK_NAME } from "../policies";

/** `optivolt-lab@v0.1.0`: how the SDK names the pack in its messages (version from policy/package.json). */
export function packLabel(): string {
  const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { version: string };
  return `${POLICY_PACK_NAME}@v${version}`;
}
