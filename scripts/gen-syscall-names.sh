#!/bin/sh
# gen-syscall-names.sh: "[N] = \"name\"," for every call in Linux's x86_64
# unistd header, for the kernel's table of names.
set -e
sed -n 's/^#define __NR_\([a-z0-9_]*\)[ \t]\+\([0-9]\+\)$/[\2] = "\1",/p' "$1"
