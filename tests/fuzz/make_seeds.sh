#!/usr/bin/env bash
# Builds seed corpora for the fuzz targets from the project's fixtures, the
# synthetic scenarios and ../shared/corpus when present:
#   tests/fuzz/make_seeds.sh OUT_DIR [BUILD_DIR]
# Each target gets OUT_DIR/<target>/ (target = fuzz_<target>.c).
set -euo pipefail
out=${1:?usage: make_seeds.sh OUT_DIR [BUILD_DIR]}
build=${2:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
shared="$root/../shared/corpus"
mkdir -p "$out"/{minidump,gzip,unwind,pe,dwarf,pdb,sym,demangle,undecorate,rules}

for f in "$root"/fixtures/dumps/*.mini.dmp.gz; do
  zcat "$f" > "$out/minidump/$(basename "$f" .gz)"
done
if [ -d "$shared" ]; then
  find "$shared" -name '*.dmp' -size -2M -exec cp {} "$out/minidump/" \;
  find "$shared" -name '*.pdb' -exec cp {} "$out/pdb/" \;
  find "$shared" \( -name '*.sym' -o -name '*.pdb.sym' \) -size -5M -exec cp {} "$out/sym/" \;
fi
for f in "$out"/minidump/*; do
  gzip -c "$f" | tail -c +3 > "$out/gzip/$(basename "$f").gz"   # the target adds the magic
done
if [ -x "$build/tests/dt-synth" ]; then
  synth=$(mktemp -d)
  "$build/tests/dt-synth" --out "$synth" > /dev/null
  for d in "$synth"/*/; do
    name=$(basename "$d")
    [ -f "$d/full.dmp" ] && cp "$d/full.dmp" "$out/unwind/$name.dmp"
    [ -f "$d/mini.dmp" ] && cp "$d/mini.dmp" "$out/minidump/$name.dmp"
    find "$d/symbols" -name '*.sym' -exec cp {} "$out/sym/" \; 2>/dev/null || true
  done
  rm -rf "$synth"
fi
cp "$root"/fixtures/bin/* "$out/pe/"
cp "$root"/fixtures/bin/*.exe "$out/dwarf/"
cp "$root"/fixtures/wine-dlls/ntdll.dll "$out/pe/"
if command -v x86_64-w64-mingw32-nm > /dev/null; then
  # awk reads all of nm's output (head would close the pipe early: SIGPIPE
  # under pipefail).
  x86_64-w64-mingw32-nm "$root/fixtures/bin/cpp_exception.exe" |
    awk '$3 ~ /^_Z/ && n++ < 200 {print $3}' | split -l 1 - "$out/demangle/name-"
fi
printf '%s' '?Cleanup@UL_APP_POOL@@QEAAXXZ' > "$out/undecorate/cleanup"
printf '%s' '??1CRecoverableError@@UAE@XZ' > "$out/undecorate/destructor"
printf '%s' '?Enter@AwareLock@@QEAAXXZ' > "$out/undecorate/aware-lock"
[ -d "$root/src/rules/builtin" ] && cp "$root"/src/rules/builtin/*.yaml "$out/rules/" 2>/dev/null || true
for d in "$out"/*/; do
  [ -d "$root/tests/fuzz/regressions/$(basename "$d")" ] &&
    cp "$root/tests/fuzz/regressions/$(basename "$d")"/* "$d" 2>/dev/null || true
done
echo "seed corpora in $out: $(find "$out" -type f | wc -l) files"
