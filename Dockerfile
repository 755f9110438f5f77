# Parley's container image: the parley binary alone, with the web client
# embedded, on an empty base.
#
#   docker build --build-arg VERSION=v1.2.3 -t parley .     (or: make image)
#   docker run -p 8080:8080 -v parley-data:/data parley
#
# Stages: web (Node builds the client into web/dist), build (Go builds a
# static binary that embeds it), frontend (compose.yaml's nginx, built only
# when asked for), and the final, unnamed stage, which takes the binary
# from the stage that BINARY_FROM names. By default that is build. make
# image-test sets BINARY_FROM=prebuilt, which takes a binary built on the
# host (bin/image/, laid out as the build stage's /rootfs), so that the
# very stage shipped is the one tested, on machines that cannot pull the
# Node and Go images.

# podman (4.3) decides which stages to build before it reads this default:
# with podman, pass --build-arg BINARY_FROM=build (make image does).
ARG BINARY_FROM=build

FROM node:22-bookworm-slim AS web
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM golang:1.26.8-bookworm AS build
ARG VERSION=devel
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/web/dist/ ./web/dist/
# Static (the SQLite driver is pure Go), with the time zone database inside
# (timetzdata: scratch has no /usr/share/zoneinfo), and the CA certificates
# that PostgreSQL's sslmode=verify-full and rediss:// check servers against.
# /rootfs/data is empty: it becomes the volume's mount point.
RUN mkdir -p /rootfs/data /rootfs/etc/ssl/certs \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
 && CGO_ENABLED=0 go build -trimpath -tags timetzdata \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /rootfs/parley ./cmd/parley

# A binary built on the host with the same command, laid out as /rootfs is
# above (make image-test does it).
FROM scratch AS prebuilt
COPY bin/image/ /rootfs/

# The stage the final one copies from. (WORKDIR gives it an instruction of
# its own: podman 4.3 fails to clean up after a stage that is a mere alias.)
FROM ${BINARY_FROM} AS binary
WORKDIR /rootfs

# The frontend of compose.yaml: nginx serving the built client, and passing
# /api and /ws to the backends (deploy/frontend.conf). Built only when asked
# for (--target frontend).
FROM nginx:1.28-alpine AS frontend
COPY deploy/frontend.conf /etc/nginx/conf.d/default.conf
COPY --from=web /src/web/dist/ /usr/share/nginx/html/

FROM scratch
ARG VERSION=devel
LABEL org.opencontainers.image.title="Parley" \
      org.opencontainers.image.description="Self-hosted real-time chat server" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=binary /rootfs/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=binary /rootfs/parley /parley
# The empty base has no shell to mkdir and chown with: the mount points
# are copied in, owned by the user that runs the server. SQLite writes its
# database beside itself in /data, and its temporary files in /tmp.
COPY --from=binary --chown=65532:65532 /rootfs/data /data
COPY --from=binary --chown=65532:65532 /rootfs/data /tmp
# A numeric user, so that Kubernetes' runAsNonRoot can check it.
USER 65532:65532
# The same volume keeps the data from one container to the next.
VOLUME /data
# The server drains on SIGTERM within PARLEY_SHUTDOWN_TIMEOUT: 8 s here, so
# that it ends before `docker stop` kills it (after 10 s by default).
ENV PARLEY_ADDR=:8080 \
    PARLEY_DATABASE=/data/parley.db \
    PARLEY_SHUTDOWN_TIMEOUT=8s
EXPOSE 8080
STOPSIGNAL SIGTERM
# The image has no shell or curl: the binary asks its own /api/health.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/parley", "health"]
ENTRYPOINT ["/parley"]
CMD ["serve"]
