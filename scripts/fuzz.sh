#!/usr/bin/env bash
# Fuzz the decoders with cargo-fuzz (libFuzzer) on the stable toolchain.
# See FUZZING.md.
#
#   scripts/fuzz.sh list                  targets and their fuzz directories
#   scripts/fuzz.sh install               cargo install cargo-fuzz --locked
#   scripts/fuzz.sh build [TARGET...]     build (all by default)
#   scripts/fuzz.sh run TARGET SECONDS    fuzz one target on its committed corpus
#   scripts/fuzz.sh all SECONDS           every target in turn, SECONDS each
#   scripts/fuzz.sh seed                  add fuzz/seeds.py's inputs to the corpora
#   scripts/fuzz.sh cmin [TARGET...]      minimize the committed corpora
#   scripts/fuzz.sh repro TARGET FILE     run one input (a crash) through TARGET
#   scripts/fuzz.sh table                 seconds/execs/crashes per target so far
#
# Stable rustc accepts cargo-fuzz's -Z flags with RUSTC_BOOTSTRAP=1. Runs are
# niced (NICE, default 19) and build with debug assertions and overflow
# checks. SANITIZER=address turns on ASan (default none: safe Rust, and
# twice the speed). New corpus entries land in <fuzz dir>/corpus/TARGET,
# crashes in <fuzz dir>/artifacts/TARGET; each run appends
# "target seconds execs crashes" to target/fuzz-logs/stats.tsv and keeps its
# log in target/fuzz-logs/TARGET.log. FUZZ_NO_BUILD=1 runs an already built
# target binary directly (no cargo, so no wait on another build's lock).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export RUSTC_BOOTSTRAP=1
NICE="${NICE:-19}"
SANITIZER="${SANITIZER:-none}"
TARGET_DIR="${FUZZ_TARGET_DIR:-$ROOT/target/fuzz}"
LOGS="$ROOT/target/fuzz-logs"
FUZZ_DIRS=(fuzz crates/vrrp/fuzz crates/ipvs/fuzz crates/check/fuzz crates/config/fuzz crates/bfd/fuzz)

# "target fuzz_dir" lines, from each fuzz Cargo.toml's [[bin]] names.
targets() {
    local d
    for d in "${FUZZ_DIRS[@]}"; do
        awk -v d="$d" '/^\[/ { bin = ($0 == "[[bin]]") }
            bin && /^name *=/ { gsub(/.*= *"|".*/, ""); print $0, d }' "$d/Cargo.toml"
    done
}

dir_of() {
    local t="$1" d
    d="$(targets | awk -v t="$t" '$1 == t { print $2 }')"
    [ -n "$d" ] || { echo "unknown fuzz target: $t (see: $0 list)" >&2; exit 2; }
    echo "$d"
}

need_cargo_fuzz() {
    cargo fuzz --version >/dev/null 2>&1 || {
        echo "cargo-fuzz missing: $0 install" >&2
        exit 2
    }
}

# cargo fuzz runs from the crate that holds the fuzz/ directory.
cfuzz() {
    local dir="$1"
    shift
    (cd "$(dirname "$dir")" && nice -n "$NICE" cargo fuzz "$@")
}

build_one() {
    local t="$1" d
    d="$(dir_of "$t")"
    cfuzz "$d" build -s "$SANITIZER" --target-dir "$TARGET_DIR" "$t"
}

run_one() {
    local t="$1" secs="$2" d log rc execs crashes
    d="$(dir_of "$t")"
    mkdir -p "$LOGS" "$d/corpus/$t" "$d/artifacts/$t"
    log="$LOGS/$t.log"
    echo "== fuzzing $t for ${secs}s (log: $log)"
    local bin="$TARGET_DIR/$(rustc -vV | awk '/^host:/ { print $2 }')/release/$t"
    # libFuzzer times inputs in wall-clock time: a niced run on a busy
    # machine is starved for seconds at a time (a 0.09 s parse_config input
    # once "timed out" at 10 s under load 14), so the default is generous.
    local opts=(-max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-60}" -rss_limit_mb=2048 -print_final_stats=1)
    set +e
    if [ "${FUZZ_NO_BUILD:-0}" = 1 ] && [ -x "$bin" ]; then
        # Already built (scripts/fuzz.sh build): skip cargo, and its lock on
        # the shared target directory while another build holds it.
        nice -n "$NICE" "$bin" -artifact_prefix="$ROOT/$d/artifacts/$t/" "${opts[@]}" \
            "$ROOT/$d/corpus/$t" >"$log" 2>&1
    else
        cfuzz "$d" run -s "$SANITIZER" --target-dir "$TARGET_DIR" "$t" -- "${opts[@]}" >"$log" 2>&1
    fi
    rc=$?
    set -e
    execs="$(awk '/stat::number_of_executed_units/ { n = $2 } END { print n + 0 }' "$log")"
    crashes="$(find "$d/artifacts/$t" -type f | wc -l)"
    printf '%s\t%s\t%s\t%s\n' "$t" "$secs" "$execs" "$crashes" >>"$LOGS/stats.tsv"
    grep -E '^(Done|#[0-9]+ *DONE)|stat::number_of_executed_units|SUMMARY|panicked' "$log" | tail -5 || true
    if [ "$rc" -ne 0 ]; then
        echo "!! $t exited $rc: crash inputs in $d/artifacts/$t (see $log)" >&2
        return 1
    fi
}

cmin_one() {
    local t="$1" d bin tmp
    d="$(dir_of "$t")"
    bin="$TARGET_DIR/$(rustc -vV | awk '/^host:/ { print $2 }')/release/$t"
    if [ "${FUZZ_NO_BUILD:-0}" = 1 ] && [ -x "$bin" ]; then
        # What `cargo fuzz cmin` does: merge into an empty directory.
        tmp="$(mktemp -d)"
        nice -n "$NICE" "$bin" -merge=1 -timeout=10 "$tmp" "$ROOT/$d/corpus/$t" >/dev/null 2>&1
        rm -rf "${ROOT:?}/$d/corpus/$t"
        mv "$tmp" "$ROOT/$d/corpus/$t"
        chmod 755 "$ROOT/$d/corpus/$t"
    else
        cfuzz "$d" cmin -s "$SANITIZER" --target-dir "$TARGET_DIR" "$t" -- -timeout=10
    fi
}

cmd="${1:-help}"
shift || true
case "$cmd" in
list)
    targets
    ;;
install)
    cargo install cargo-fuzz --locked
    ;;
build)
    need_cargo_fuzz
    if [ $# -eq 0 ]; then set -- $(targets | awk '{ print $1 }'); fi
    for t in "$@"; do build_one "$t"; done
    ;;
run)
    need_cargo_fuzz
    [ $# -eq 2 ] || { echo "usage: $0 run TARGET SECONDS" >&2; exit 2; }
    run_one "$1" "$2"
    ;;
all)
    need_cargo_fuzz
    secs="${1:-3600}"
    failed=0
    for t in $(targets | awk '{ print $1 }'); do
        run_one "$t" "$secs" || failed=1
    done
    exit "$failed"
    ;;
seed)
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    python3 fuzz/seeds.py "$tmp"
    for group in "$tmp"/*; do
        for tdir in "$group"/*; do
            t="$(basename "$tdir")"
            d="$(dir_of "$t")"
            mkdir -p "$d/corpus/$t"
            cp -n "$tdir"/* "$d/corpus/$t/"
        done
    done
    ;;
cmin)
    need_cargo_fuzz
    if [ $# -eq 0 ]; then set -- $(targets | awk '{ print $1 }'); fi
    for t in "$@"; do cmin_one "$t"; done
    ;;
table)
    # Totals per target from the runs logged in target/fuzz-logs/stats.tsv.
    awk -F'\t' '{ s[$1] += $2; e[$1] += $3; c[$1] = $4 }
        END { for (t in s) printf "| %s | %d | %d | %d |\n", t, s[t], e[t], c[t] }' \
        "$LOGS/stats.tsv" | sort
    ;;
repro)
    need_cargo_fuzz
    [ $# -eq 2 ] || { echo "usage: $0 repro TARGET FILE" >&2; exit 2; }
    d="$(dir_of "$1")"
    file="$(realpath "$2")"
    cfuzz "$d" run -s "$SANITIZER" --target-dir "$TARGET_DIR" "$1" "$file"
    ;;
*)
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
    [ "$cmd" = help ] || exit 2
    ;;
esac
