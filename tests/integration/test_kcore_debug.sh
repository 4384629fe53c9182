#!/bin/sh
# tests/integration/test_kcore_debug.sh SRC BUILD OBJCOPY - KCore's debug
# twins (hyp/CMakeLists.txt: <name>.debug.elf, built with -g):
#  1. each describes exactly the code that runs: its loaded image (objcopy
#     -O binary) equals that of <name>.elf, for KCore and every mutant;
#  2. KCore builds stay bit-reproducible with -g: a second build tree at
#     another path gives the same SHA-256 for kcore.elf and kcore.debug.elf,
#     and the debug ELF names no absolute path of the tree or the build.
set -u
S=$(cd "$1" && pwd)
B=$(cd "$2" && pwd)
OBJCOPY=$3
T=$(mktemp -d /tmp/hypsim-kdbg.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

n=0
for dbg in "$B"/hyp/kcore*.debug.elf; do
    [ -f "$dbg" ] || fail "no debug ELF in $B/hyp"
    elf=${dbg%.debug.elf}.elf
    [ -f "$elf" ] || fail "$dbg has no runtime twin $elf"
    "$OBJCOPY" -O binary "$elf" "$T/a.bin" && "$OBJCOPY" -O binary "$dbg" "$T/b.bin" ||
        fail "objcopy failed on $elf or $dbg"
    cmp -s "$T/a.bin" "$T/b.bin" || fail "$dbg: loaded image differs from $elf (-g changed the code)"
    grep -q -F -e "$S" -e "$B" "$dbg" && fail "$dbg names an absolute path of the tree or the build"
    n=$((n + 1))
done
[ $n -ge 2 ] || fail "expected KCore and its mutants, found $n debug ELFs"
echo "$n debug ELFs load the same image as their runtime ELFs"

# A second, independent build of the default KCore, elsewhere.
O=$T/elsewhere/build
mkdir -p "$O"
cmake -S "$S" -B "$O" -DCMAKE_BUILD_TYPE=Release >"$T/cfg.log" 2>&1 || { tail -5 "$T/cfg.log"; fail "configure of $O"; }
cmake --build "$O" --target kcore >"$T/build.log" 2>&1 || { tail -5 "$T/build.log"; fail "build of kcore in $O"; }
for f in kcore.elf kcore.debug.elf; do
    a=$(sha256sum <"$B/hyp/$f" | cut -d' ' -f1)
    b=$(sha256sum <"$O/hyp/$f" | cut -d' ' -f1)
    [ "$a" = "$b" ] || fail "$f is not reproducible: $a in $B, $b in $O"
    echo "$f: SHA-256 $a in both build trees"
done
echo "ok"
