#!/bin/sh
# Prints 1 when the C compiler links a static position-independent program with libseccomp
# (-static-pie: the static archives of the C library and of libseccomp are installed: libc6-dev
# and libseccomp-dev on Debian, glibc-static and libseccomp-static on Fedora, musl-dev and
# libseccomp-static on Alpine), else 0. binding.gyp asks, so that the runner is static wherever
# it can be (no dynamic loading on every RUN; PIE keeps its address space randomized), and
# builds anyway (then with libseccomp2 loaded at run time).
dir=$(mktemp -d 2>/dev/null) || { echo 0; exit 0; }
printf '#include <seccomp.h>\nint main(void) { return seccomp_version() == 0; }\n' > "$dir/t.c"
if ${CC:-cc} -fPIE -static-pie -o "$dir/t" "$dir/t.c" -lseccomp >/dev/null 2>&1 && "$dir/t"; then echo 1; else echo 0; fi
rm -rf "$dir"
