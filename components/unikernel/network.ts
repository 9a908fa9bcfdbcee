/**
 * How the source-built unikernel is reached. QEMU's user networking forwards host ports to the
 * guest: one on the bind address for users and the bench, and one on the lab network's gateway for
 * Prometheus. The gateway is the host's own address on the lab's Docker bridge: the host and the
 * containers on that bridge reach it, nothing beyond the host does, so nothing is published.
 */

/** An IPAM entry of a Docker network, as the provider reports it. */
export interface IpamConfig {
  subnet?: string;
  gateway?: string;
}

const IPV4 = /^(\d{1,3})(\.\d{1,3}){3}$/;

/**
 * The lab network's IPv4 gateway, from the network's IPAM config (Docker fills it in when the
 * network is created without one, which is how the lab creates it: no subnet of ours can collide
 * with another network's). Throws when there is none, since Prometheus then cannot reach QEMU.
 */
export function labNetworkGateway(ipamConfigs: readonly IpamConfig[] | undefined, networkName: string): string {
  const gateway = (ipamConfigs ?? []).map((entry) => entry.gateway).find((address) => address !== undefined && IPV4.test(address));
  if (gateway === undefined) {
    throw new Error(
      `the Docker network ${networkName} reports no IPv4 gateway (IPAM config ${JSON.stringify(ipamConfigs ?? [])}), so Prometheus cannot reach the unikernel: ` +
        "recreate the network as an IPv4 bridge (`pulumi up --replace` on it), or set optivolt:unikernel.enabled to false",
    );
  }
  return gateway;
}

/**
 * `address:port` pairs QEMU forwards to the guest, the bind address first (where /health is
 * awaited). A bind address of 0.0.0.0 already covers the gateway, and binding both would fail.
 */
export function sourceForwards(bindAddress: string, hostPort: number, gateway?: string): string[] {
  const forwards = [`${bindAddress}:${hostPort}`];
  if (gateway !== undefined && bindAddress !== "0.0.0.0" && gateway !== bindAddress) forwards.push(`${gateway}:${hostPort}`);
  return forwards;
}
