import * as docker from "@pulumi/docker";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { describe, withDefaults } from "../config";
import { unpinnedReason } from "../imageRef";
import { containerSpecOf } from "../service";
import { known, UNKNOWN } from "../values";

export interface PinnedImagesConfig {
  /** Tags that move under you and so do not pin anything. */
  forbiddenTags: string[];
}
export const PINNED_IMAGES_DEFAULTS: PinnedImagesConfig = { forbiddenTags: ["latest"] };

const FIX = "pin it to a version tag (grafana/grafana:11.2.2) or a digest (name@sha256:...) in the stack config";

/** A floating image makes two runs of the lab compare different software. */
export const pinnedImages: ResourceValidationPolicy = {
  name: "images-pinned",
  description: "Every pulled image, and every base image a build names in a `*_IMAGE` build argument, is pinned to a version tag or a digest, never `latest` or untagged.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      forbiddenTags: { type: "array", items: { type: "string" }, default: PINNED_IMAGES_DEFAULTS.forbiddenTags, description: "Tags that do not pin an image." },
    },
  },
  validateResource: [
    validateResourceOfType(docker.RemoteImage, (image, args, reportViolation) => {
      const { forbiddenTags } = withDefaults(args.getConfig, PINNED_IMAGES_DEFAULTS);
      const reason = unpinnedReason(image.name, forbiddenTags);
      if (reason) reportViolation(`${describe("docker.RemoteImage", args.name)} pulls ${reason}; ${FIX}.`);
    }),
    validateResourceOfType(docker.Image, (image, args, reportViolation) => {
      // The Dockerfile's FROM lines read these (NODE_IMAGE, BUN_IMAGE, ...): a floating base is a floating image.
      const buildArgs = known(() => image.build?.args as Record<string, string> | undefined);
      if (buildArgs === UNKNOWN || buildArgs === undefined) return;
      const { forbiddenTags } = withDefaults(args.getConfig, PINNED_IMAGES_DEFAULTS);
      for (const [name, ref] of Object.entries(buildArgs)) {
        if (!name.endsWith("_IMAGE") || typeof ref !== "string") continue;
        const reason = unpinnedReason(ref, forbiddenTags);
        if (reason) reportViolation(`${describe("docker.Image", args.name)} builds on ${reason} (build argument ${name}); ${FIX}.`);
      }
    }),
    validateResourceOfType(docker.Container, (container, args, reportViolation) => {
      // An image computed by a RemoteImage or Image resource is checked there (or is a content ID).
      const ref = known(() => container.image);
      if (ref === UNKNOWN) return;
      const { forbiddenTags } = withDefaults(args.getConfig, PINNED_IMAGES_DEFAULTS);
      const reason = unpinnedReason(ref, forbiddenTags);
      if (reason) reportViolation(`${describe("docker.Container", args.name)} runs ${reason}; ${FIX}.`);
    }),
    validateResourceOfType(docker.Service, (service, args, reportViolation) => {
      // The variants run the registry digest their Image resource pushed: unknown until then.
      const ref = known(() => containerSpecOf(service)?.image);
      if (ref === UNKNOWN || ref === undefined) return;
      const { forbiddenTags } = withDefaults(args.getConfig, PINNED_IMAGES_DEFAULTS);
      const reason = unpinnedReason(ref, forbiddenTags);
      if (reason) reportViolation(`${describe("docker.Service", args.name)} runs ${reason}; ${FIX}.`);
    }),
  ],
};
