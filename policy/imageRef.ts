/** How a Docker image reference pins what runs. */
export type ImagePin =
  | { kind: "digest" }
  | { kind: "image-id" }
  | { kind: "tag"; tag: string }
  | { kind: "untagged" };

/**
 * Classifies `[registry[:port]/]path[:tag][@digest]` or a content-addressed image ID
 * (`sha256:<64 hex>`, what `RemoteImage.imageId` and `Image.imageName@digest` resolve to).
 */
export function imagePin(ref: string): ImagePin {
  if (/^sha256:[0-9a-f]{64}$/i.test(ref) || /^[0-9a-f]{64}$/i.test(ref)) return { kind: "image-id" };
  if (/@sha256:[0-9a-f]{64}$/i.test(ref)) return { kind: "digest" };
  const lastPart = ref.slice(ref.lastIndexOf("/") + 1);
  const colon = lastPart.lastIndexOf(":");
  if (colon < 0) return { kind: "untagged" };
  return { kind: "tag", tag: lastPart.slice(colon + 1) };
}

/** A reason the reference is not pinned, or undefined when it is. */
export function unpinnedReason(ref: string, forbiddenTags: readonly string[]): string | undefined {
  const pin = imagePin(ref);
  if (pin.kind === "untagged") return `"${ref}", which has no tag, so Docker pulls \`latest\``;
  if (pin.kind === "tag" && (pin.tag === "" || forbiddenTags.includes(pin.tag))) return `"${ref}", whose tag \`${pin.tag}\` floats`;
  return undefined;
}
