import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { STACK_LABEL } from "../model/labels";
import { webApiImageName } from "../model/naming";

/** Runs the docker CLI against the engine the lab deploys to. */
function dockerEnvironment(dockerHost: string | undefined): Record<string, string> {
  return dockerHost === undefined ? {} : { DOCKER_HOST: dockerHost };
}

/**
 * `docker.Image` leaves its tag behind on destroy. This command does nothing on create; when it is
 * deleted it removes the stack's tag of one target, then every untagged image the stack's builds
 * left (they carry the `optivolt.stack` label). Images depend on it, so Pulumi deletes it after the
 * containers and images, and `pulumi destroy` leaves no web API image of the stack behind. One per
 * target: variants that share a target share the tag.
 */
export function webApiImageCleanup(target: string, stackName: string, dockerHost: string | undefined, opts?: pulumi.CustomResourceOptions): command.local.Command {
  const tag = webApiImageName(target, stackName);
  return new command.local.Command(
    `image-cleanup-${target}`,
    {
      // Best effort: a tag already gone, or still used by another container, must not fail the destroy.
      delete: `docker image rm ${tag} >/dev/null 2>&1 || true; docker image prune --force --filter label=${STACK_LABEL}=${stackName} >/dev/null || true`,
      environment: dockerEnvironment(dockerHost),
    },
    opts,
  );
}

/**
 * Removes a build once it is superseded. Each build of `imageId` replaces this command (its
 * trigger); the replaced one is deleted at the end of the update, after the containers that ran the
 * old build (which depend on it) are gone, and its delete removes the image its create recorded
 * (`PULUMI_COMMAND_STDOUT`). On destroy it removes the current build the same way. One per image.
 */
export function supersededImageCleanup(
  dockerfileTarget: string,
  imageId: pulumi.Output<string>,
  dockerHost: string | undefined,
  opts?: pulumi.CustomResourceOptions,
): command.local.Command {
  return new command.local.Command(
    `image-superseded-${dockerfileTarget}`,
    {
      create: 'printf %s "$IMAGE_ID"',
      // Best effort: an image still used elsewhere (or already gone) must not fail the update.
      delete: 'docker image rm "$PULUMI_COMMAND_STDOUT" >/dev/null 2>&1 || true',
      environment: imageId.apply((id) => ({ IMAGE_ID: id, ...dockerEnvironment(dockerHost) })),
      triggers: [imageId],
    },
    opts,
  );
}
