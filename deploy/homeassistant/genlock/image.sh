#!/bin/sh
# Builds what goes into the add-on image; the Dockerfile's RUN steps call this script and nothing else, so
# test/deploy/addon.test.ts can replay them without Docker. Works on the current folder, takes no absolute paths.
#
#   sh image.sh install    the genlock package with its production dependencies, into ./node_modules
#
# GENLOCK_PACKAGE (any npm install spec: name@version, a tarball path or URL) overrides the default,
# genlock@<BUILD_VERSION without its add-on revision>.
set -eu

case "${1:-}" in
  install)
    version="${BUILD_VERSION:-}"
    package="${GENLOCK_PACKAGE:-genlock@${version%-*}}"
    echo "installing ${package}"
    # No production dependency of genlock has an install script; refusing them all keeps the build reproducible.
    npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=warn "${package}"
    ;;
  *)
    echo "usage: sh image.sh install" >&2
    exit 64
    ;;
esac
