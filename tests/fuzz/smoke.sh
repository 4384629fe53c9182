#!/bin/sh
# tests/fuzz/smoke.sh FUZZER SEEDS [-extra=FILE] [libFuzzer options...]:
# run FUZZER over a scratch copy of the seed directory (libFuzzer adds the
# inputs it finds to its first corpus directory) for 4000 inputs, at most
# 20 s. Exit status: libFuzzer's (nonzero on a crash, leak, sanitizer
# report or timeout).
F=$1
S=$2
shift 2
[ -x "$F" ] || { echo "no fuzzer at $F"; exit 1; }
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
cp "$S"/* "$d"/
opts=""
for a in "$@"; do
    case $a in
    -extra=*) f=${a#-extra=}; [ -f "$f" ] && cp "$f" "$d"/ ;;
    *) opts="$opts $a" ;;
    esac
done
# shellcheck disable=SC2086
"$F" -runs=4000 -max_total_time=20 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
     -artifact_prefix="$d/" $opts "$d" 2>"$d/log"
rc=$?
grep -E "stat::number_of_executed_units|cov:|ERROR|SUMMARY" "$d/log" | tail -4
[ $rc -ne 0 ] && tail -40 "$d/log"
exit $rc
