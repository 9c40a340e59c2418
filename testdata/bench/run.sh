#!/usr/bin/env bash
# Benchmarks of issue #2: spawn time, end-to-end latency with the real claude
# CLI against the fakeapi stand-in (direct vs through the bridge), the stream
# path alone, and the bridge's peak RSS. Prints a table of figures, targets
# and whether each was met; a missed target does not fail the run.
#
#   make bench                      (builds bin/ and installs the pinned claude CLI first)
#   testdata/bench/run.sh [FLAGS]   (see: testdata/bench/run.sh -h)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
exec go run ./testdata/bench "$@"
