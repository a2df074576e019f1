# syntax=docker/dockerfile:1
ARG BASE=busybox:test

FROM ${BASE} AS build
WORKDIR /src
COPY --chmod=0644 <<EOF greeting.txt
hello from tsbuild
EOF
RUN --mount=type=cache,target=/cache <<-SCRIPT
	set -e
	cp greeting.txt /cache/ && wc -c greeting.txt > size.txt
	SCRIPT

FROM ${BASE}
LABEL org.opencontainers.image.title="example" \
      org.opencontainers.image.description="a two-stage example"
COPY --from=build /src/greeting.txt /src/size.txt /srv/
EXPOSE 8080/tcp
USER 1000:1000
HEALTHCHECK --interval=30s --timeout=3s CMD ["cat", "/srv/greeting.txt"]
CMD ["cat", "/srv/greeting.txt"]
