# The lab's image registry: Debian's docker-registry (Docker Distribution 2.x) on the local Debian base.
ARG BASE_IMAGE=optivolt/node:22-bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >/dev/null \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
# Debian's own /etc/docker/registry/config.yml turns on htpasswd auth from a file that does not exist.
COPY registry-config.yml /etc/optivolt/registry.yml
EXPOSE 5000
VOLUME /var/lib/docker-registry
CMD ["/usr/bin/docker-registry", "serve", "/etc/optivolt/registry.yml"]
