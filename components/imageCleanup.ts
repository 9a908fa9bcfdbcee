import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { webApiImageName } from "./naming";

/**
 * `docker.Image` leaves its tag behind on destroy. This command does nothing on create and
 * removes the tag when it is deleted; images depend on it, so Pulumi deletes it after the
 * containers and images, and `pulumi destroy` leaves no web API image behind. One per target:
 * variants that share a target share the tag.
 */
export function webApiImageCleanup(target: string, stackName: string, dockerHost: string | undefined, opts?: pulumi.CustomResourceOptions): command.local.Command {
  const tag = webApiImageName(target, stackName);
  return new command.local.Command(
    `image-cleanup-${target}`,
    {
      // Best effort: a tag already gone, or still used by another stack's container, must not fail the destroy.
      delete: `docker image rm ${tag} || true`,
      environment: dockerHost === undefined ? {} : { DOCKER_HOST: dockerHost },
    },
    opts,
  );
}
