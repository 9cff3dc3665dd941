#!/usr/bin/env bash
# Redraw book/assets/13-flamegraph.svg from examples/hot.rs, as the chapter shows it.
#
# Needs `perf` (Debian: apt-get install linux-perf) with /proc/sys/kernel/perf_event_paranoid
# at 2 or less, which samples your own processes without root, and inferno
# (`cargo install inferno`). The build uses its own target directory: frame pointers
# change RUSTFLAGS, which would otherwise rebuild the whole workspace's target/.
set -euo pipefail
cd "$(dirname "$0")/../../.."

for tool in perf inferno-collapse-perf inferno-flamegraph; do
    command -v "$tool" >/dev/null || {
        echo "flamegraph.sh: \`$tool\` is not on PATH (perf: apt-get install linux-perf; inferno: cargo install inferno)" >&2
        exit 1
    }
done

target=target/flamegraph
RUSTFLAGS="-C force-frame-pointers=yes" CARGO_TARGET_DIR=$target \
    cargo build --release -p lesson-13 --features solution --example hot
# DWARF unwinding also walks through glibc's malloc, which has no frame pointers.
perf record -F 997 --call-graph dwarf -o "$target/hot.data" -- "$target/release/examples/hot"
perf script -i "$target/hot.data" 2>/dev/null \
    | inferno-collapse-perf >"$target/hot.folded"
inferno-flamegraph --title "examples/hot.rs: before (fresh buffers, one Mutex counter) and after (pool, sharded counter)" \
    <"$target/hot.folded" >book/assets/13-flamegraph.svg
echo "wrote book/assets/13-flamegraph.svg from $(wc -l <"$target/hot.folded") distinct stacks"
