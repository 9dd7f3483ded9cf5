#!/bin/sh
# Builds what goes into the genlock container image, one phase per Dockerfile RUN step. The Dockerfile calls this
# script and nothing else, and test/deploy/image.test.ts replays the Dockerfile's COPY and RUN steps (so this very
# script) in a temporary folder, then starts the daemon from the result: a broken step fails CI without Docker.
#
#   sh deploy/image-contents.sh dev-deps     build stage: all dependencies, exactly as locked
#   sh deploy/image-contents.sh build        build stage: compile, then lay out image/app and image/config
#   sh deploy/image-contents.sh production   runtime stage, in /app: production dependencies only
#
# Every phase works on the current folder and takes no absolute paths, so the test can run it anywhere.
set -eu

npm_quiet="--no-audit --no-fund --loglevel=warn"

case "${1:-}" in
  dev-deps)
    # shellcheck disable=SC2086
    npm ci $npm_quiet
    ;;
  build)
    npm run build
    rm -rf image
    mkdir -p image/app/bin image/app/deploy image/config
    cp package.json package-lock.json image/app/
    cp -R dist image/app/dist
    # The image runs the daemon; type declarations and source maps are for library users.
    find image/app/dist \( -name '*.d.ts' -o -name '*.d.ts.map' -o -name '*.js.map' \) -delete
    chmod 0755 image/app/dist/cli/index.js
    ln -s ../dist/cli/index.js image/app/bin/genlock
    cp deploy/image-contents.sh image/app/deploy/
    # The volume's first contents: a config that runs as is, with the example devices and automations.
    cp deploy/docker/config.yaml image/config/config.yaml
    cp -R devices image/config/devices
    cp -R automations image/config/automations
    # What the first line of each of those files points editors at (# yaml-language-server: $schema=...).
    cp -R schemas image/config/schemas
    ;;
  production)
    # No production dependency has an install script; refusing them all keeps the build reproducible.
    # shellcheck disable=SC2086
    npm ci --omit=dev --ignore-scripts $npm_quiet
    rm -rf deploy
    ;;
  *)
    echo "usage: sh deploy/image-contents.sh dev-deps|build|production" >&2
    exit 64
    ;;
esac
