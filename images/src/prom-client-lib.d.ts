// prom-client's index loads everything (push gateway over https, OpenTelemetry for exemplars, the
// default-metrics collectors): ~200 ms of start-up on a busy core. The app needs only the registry
// and the cluster aggregator, so it loads those two files; these declarations give them the
// package's own types.
declare module "prom-client/lib/registry" {
  import { Registry } from "prom-client";
  export = Registry;
}

declare module "prom-client/lib/cluster" {
  import { AggregatorRegistry } from "prom-client";
  export = AggregatorRegistry;
}
