/** Shared helpers for integration suites that run the web API on a real Docker engine. */
export { docker, DockerCommandError, DockerResult, imageExists, removeContainer, requireDockerEngine } from "./docker";
export {
  buildWebApiImage,
  ensureWebApiImages,
  IMAGES_DIR,
  localBaseBuildArgs,
  RunningVariant,
  runVariantContainer,
  VariantContainerOptions,
  waitForHealth,
} from "./webapi";
