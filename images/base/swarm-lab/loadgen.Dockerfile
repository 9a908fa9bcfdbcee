# The bench's load generator for swarm runs (a one-shot task on the loadgen node): Debian's wrk.
ARG BASE_IMAGE=optivolt/node:22-bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
ENTRYPOINT ["wrk"]
