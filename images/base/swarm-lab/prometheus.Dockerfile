# Prometheus for the swarm lab's tests, where no public image can be pulled: Debian's prometheus
# binary with the two libraries it links (libc, the loader), nothing else (~50 MB, not 650).
ARG BASE_IMAGE=optivolt/node:22-bookworm
FROM ${BASE_IMAGE} AS debian
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
 && mkdir -p /out/prometheus /out/etc/prometheus /out/tmp \
 && for lib in $(ldd /usr/bin/prometheus | grep -oE '/[^ ]+'); do mkdir -p "/out$(dirname "$lib")" && cp -L "$lib" "/out$lib"; done \
 && cp /usr/bin/prometheus /prometheus-bin && chmod 1777 /out/tmp \
 && printf "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" >/out/etc/passwd \
 && printf "root:x:0:\nnogroup:x:65534:\n" >/out/etc/group

FROM scratch
COPY --from=debian /out/ /
COPY --from=debian /prometheus-bin /bin/prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
