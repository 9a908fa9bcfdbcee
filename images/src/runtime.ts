/** Which JavaScript runtime runs the API: Bun sets `process.versions.bun`, Node does not. */
export const RUNTIME: { name: "node" | "bun"; version: string } =
  process.versions.bun !== undefined ? { name: "bun", version: process.versions.bun } : { name: "node", version: process.versions.node };
