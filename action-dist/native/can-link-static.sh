#!/bin/sh
# Prints 1 when the C compiler links a static position-independent program (-static-pie: the C
# library's static archive is installed, libc6-dev on Debian, glibc-static on Fedora, musl-dev
# on Alpine), else 0. binding.gyp asks, so that the runner is static wherever it can be (no
# dynamic loading on every RUN; PIE keeps its address space randomized), and builds anyway.
dir=$(mktemp -d 2>/dev/null) || { echo 0; exit 0; }
printf 'int main(void) { return 0; }\n' > "$dir/t.c"
if ${CC:-cc} -fPIE -static-pie -o "$dir/t" "$dir/t.c" >/dev/null 2>&1 && "$dir/t"; then echo 1; else echo 0; fi
rm -rf "$dir"
