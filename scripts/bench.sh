#!/bin/sh
# The benchmark of design.md §8 (not part of CI): discovery and apply of a generated world of
# >= 2,000 resources against the emulator over loopback HTTP. Prints a table and writes
# target/bench.json. Arguments go to the benchmark, e.g.:
#   scripts/bench.sh --resources 5000 --seed 2 --scale 20 --parallelism default,10,1
set -eu
cd "$(dirname "$0")/.."
exec cargo run --release --example bench -- "$@"
