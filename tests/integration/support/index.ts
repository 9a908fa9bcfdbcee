/** Shared helpers for integration suites that run the web API on a real Docker engine. */
export { containerCpuSeconds, containerPeakMemoryBytes, containerWorkingSetBytes, sampleWorkingSet } from "./docker";
export {
  ContainerInspect,
  docker,
  DockerCommandError,
  DockerResult,
  imageExists,
  inspectContainer,
  removeContainer,
  requireDockerEngine,
} from "../../../tooling/docker";
export { getJson, HttpAnswer, httpRequest } from "./http";
export { parsePrometheusText, Sample, SampleLabels, sumSamples } from "./prometheusText";
export {
  buildWebApiImage,
  freeLoopbackPort,
  ensureWebApiImages,
  IMAGES_DIR,
  localBaseBuildArgs,
  RunningVariant,
  runVariantContainer,
  testImageTag,
  VariantContainerOptions,
  waitForHealth,
} from "./webapi";
export { ApiServerStarter, compileWebApi, containerStarter, ContainerStarterOptions, localProcessStarter, StartedApiServer } from "./apiServers";
export { until } from "./wait";
