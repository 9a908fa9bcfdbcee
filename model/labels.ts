// The Docker labels the lab puts on what it creates, and the policy exemption labels the policy pack
// reads: one definition the components and the policies share. No imports, so the pack can read it.

/** Label every built image, container, volume and service of a stack carries. */
export const STACK_LABEL = "optivolt.stack";

/** Label naming the monitoring service (prometheus, cadvisor, grafana) a container or service runs. */
export const MONITORING_LABEL = "optivolt.monitoring";

/** Label the policy pack accepts as the reason a container or service may reach the host (privileged, the Docker socket). */
export const PRIVILEGED_EXEMPTION_LABEL = "optivolt.policy/privileged-exemption";

/** Label a service publishing ports carries; its value says why the nodes' addresses may carry them. */
export const PUBLISHED_PORTS_EXEMPTION_LABEL = "optivolt.policy/published-ports-exemption";
