#!/bin/sh
# Regenerate the build system (configure, Makefile.in) from configure.ac and Makefile.am.
set -eu
cd "$(dirname "$0")"
mkdir -p build-aux m4
autoreconf -fi
# automake's TAP driver is not installed by --add-missing; take the system's copy.
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh
