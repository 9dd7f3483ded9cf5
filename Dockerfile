# syntax=docker/dockerfile:1
# genlock: smart-bulb automations under priority locks, for a Raspberry Pi with a 64-bit OS (arm64) or any amd64
# machine. Not linux/arm/v7: Node 26 has no official 32-bit ARM build, so neither has its image (deploy/README.md).
#
#   docker buildx build --platform linux/arm64,linux/amd64 -t genlock:latest .
#   docker run -d --name genlock -p 1883:1883 -v genlock-config:/config genlock:latest
#
# Every RUN step calls deploy/image-contents.sh and nothing else: test/deploy/image.test.ts replays this file's
# WORKDIR, COPY, ENV and RUN steps in a temporary folder and starts the daemon from the result.

# Node 26, the Active LTS (security fixes until April 2029); the image exists for linux/amd64 and linux/arm64.
ARG NODE_IMAGE=node:26-bookworm-slim

# Build stage: with dev dependencies. It runs on the build machine's own platform (no emulation): its output is
# plain JavaScript, the same for every target.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
COPY deploy/image-contents.sh deploy/
RUN --mount=type=cache,target=/root/.npm sh deploy/image-contents.sh dev-deps
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY deploy/docker/config.yaml deploy/docker/
COPY devices devices
COPY automations automations
COPY schemas schemas
RUN sh deploy/image-contents.sh build

# Runtime stage: the target platform's Node 26 with production dependencies only, run as the unprivileged `node`
# user (uid 1000, the Pi's first user too, so a bind-mounted config folder just works).
FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="genlock" \
      org.opencontainers.image.description="Smart-bulb automations as generator transactions under priority locks" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/node:26-bookworm-slim"
ENV NODE_ENV=production \
    PATH=/app/bin:$PATH
WORKDIR /app
COPY --from=build /build/image/app ./
RUN --mount=type=cache,target=/root/.npm sh deploy/image-contents.sh production
COPY --from=build --chown=node:node /build/image/config /config
USER node
WORKDIR /config
# config.yaml, devices/, automations/ and anything genlock keeps. A new named volume starts with the example setup.
VOLUME /config
# The embedded MQTT broker of the default config.
EXPOSE 1883
# The daemon ends its transactions, publishes `offline` and exits 0 within 5 s of SIGTERM.
STOPSIGNAL SIGTERM
# Exit codes of `genlock health` are 0 healthy, 1/2/4/5 for what failed; Docker reserves 2, so any failure is 1.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD genlock health --config /config/config.yaml --timeout 5000 || exit 1
# --max-semi-space-size=1: V8 keeps its young generation small, 7–12 MB less RSS once ready with 50 bulbs
# (bench/RESULTS.md, footprint). The daemon itself tells V8 to favour memory over speed once it is ready
# (src/cli/favour-memory.ts: --optimize-for-size here made every start ~45 ms slower). --managed-zone-memory: the
# optimizing compilers' scratch memory comes from V8's own pages, which it gives back, instead of malloc arenas of its
# worker threads, which kept ~5 MB after a burst of triggers. V8 refuses these in NODE_OPTIONS, so they are given
# here, as in deploy/genlock.service.
ENTRYPOINT ["node", "--max-semi-space-size=1", "--managed-zone-memory", "/app/dist/cli/index.js"]
CMD ["run", "--config", "/config/config.yaml"]
