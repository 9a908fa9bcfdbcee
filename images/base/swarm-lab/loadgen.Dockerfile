# The bench's load generator for swarm runs (a one-shot task on the loadgen node): Debian's wrk
# with the libraries it links (LuaJIT, OpenSSL, libc), nothing else (~10 MB to copy to a node).
ARG BASE_IMAGE=optivolt/node:22-bookworm
FROM ${BASE_IMAGE} AS debian
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null \
 && mkdir -p /out/usr/bin /out/tmp && chmod 1777 /out/tmp \
 && for lib in $(ldd /usr/bin/wrk | grep -oE '/[^ ]+'); do mkdir -p "/out$(dirname "$lib")" && cp -L "$lib" "/out$lib"; done \
 && cp /usr/bin/wrk /out/usr/bin/wrk

FROM scratch
COPY --from=debian /out/ /
ENTRYPOINT ["/usr/bin/wrk"]
