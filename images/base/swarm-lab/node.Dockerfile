# A Docker-in-Docker swarm node for `npm run swarm:lab`: the local Debian base plus Debian's docker.io.
ARG BASE_IMAGE=optivolt/node:22-bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io iptables iproute2 procps >/dev/null \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
COPY node-entrypoint.sh /usr/local/bin/swarm-lab-node
# The engine listens on 2375 (plain TCP; the lab script publishes it on loopback only).
EXPOSE 2375
VOLUME /var/lib/docker
ENTRYPOINT ["/usr/local/bin/swarm-lab-node"]
