# hlsmark container image (see docs/DOCKER.md).
#
#   docker build --network host -t hlsmark .
#   docker run -p 8080:8080 -v hlsmark-data:/data hlsmark
#
# Build stage: a minimal FFmpeg 5.1 (Debian's source package, configured by
# scripts/build-ffmpeg with only what hlsmark uses) and hlsmark linked against
# it with cgo. Runtime stage: debian slim + those few .so files + libx264.
#
# Works with both the classic builder and BuildKit (no RUN --mount, no
# heredocs, no # syntax= line, so nothing has to be pulled besides the bases).

ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------
FROM ${GO_IMAGE} AS build
ARG DEBIAN_FRONTEND=noninteractive

# FFmpeg build dependencies (dpkg-dev unpacks the Debian source package;
# libc6-dev brings linux-libc-dev, whose linux/videodev2.h the v4l2 input
# needs)
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates dpkg-dev gcc libc6-dev make nasm pkg-config \
      libx264-dev libgnutls28-dev libsrt-gnutls-dev \
 && rm -rf /var/lib/apt/lists/*

# Only the script is copied here, so this (slow) layer stays cached until the
# script itself changes.
COPY scripts/build-ffmpeg /usr/local/bin/build-ffmpeg
ARG JOBS
RUN JOBS="${JOBS}" build-ffmpeg /opt/ffmpeg

# Node/npm for `make web` (npm ci + copying hls.js into web/ for go:embed)
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*

ENV PKG_CONFIG_PATH=/opt/ffmpeg/lib/pkgconfig \
    CGO_ENABLED=1
# optional proxies/mirrors for Go modules and npm (unset = the defaults)
ARG GOPROXY
ARG GOFLAGS
ARG npm_config_registry

WORKDIR /src
COPY go.mod go.sum ./
# Download the modules and pre-compile them (cgo go-astiav is the slow part)
# with the flags of the real build, so a source change only recompiles
# hlsmark's own packages. Best effort: a module whose root is not a
# buildable package is skipped.
RUN go mod download \
 && for m in $(go list -m -f '{{if not .Main}}{{.Path}}{{end}}' all); do \
      go build -trimpath "$m" 2>/dev/null || true; \
    done

COPY . .
RUN make web
RUN go build -trimpath -ldflags='-s -w' -o /out/hlsmark ./cmd/hlsmark \
 && mkdir -p /out/lib \
 && cp -a /opt/ffmpeg/lib/lib*.so.* /out/lib/ \
 && cat /usr/share/ca-certificates/mozilla/*.crt > /out/ca-certificates.crt

# ---------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive

# The FFmpeg libs' runtime libraries: libx264 and libsrt (srt://). GnuTLS
# (https, rtsps) is in the slim image already (apt uses it); naming it here
# would add a second copy when the mirror has a newer one. Then the
# unprivileged user that owns /data.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libx264-164 libsrt1.5-gnutls \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt/* /var/log/dpkg.log \
 && groupadd --system --gid 10001 hlsmark \
 && useradd --system --uid 10001 --gid hlsmark --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin hlsmark \
 && mkdir -p /data \
 && chown hlsmark:hlsmark /data

COPY --from=build /out/lib/ /opt/ffmpeg/lib/
# The public CAs (Debian's Mozilla bundle; not the build machine's own, see
# docs/DOCKER.md) where GnuTLS looks for the system's trust, for libav's TLS
# (tls_verify). ca-certificates itself would pull in openssl.
COPY --from=build /out/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN echo /opt/ffmpeg/lib > /etc/ld.so.conf.d/hlsmark-ffmpeg.conf && ldconfig

COPY --from=build /out/hlsmark /usr/local/bin/hlsmark
# fail the build, not the container start, when a library is missing
RUN if ldd /usr/local/bin/hlsmark | grep 'not found'; then exit 1; fi

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/hlsmark","healthcheck","--addr","127.0.0.1:8080"]
ENTRYPOINT ["/usr/local/bin/hlsmark","serve"]
CMD ["--addr","0.0.0.0:8080","--data","/data"]
