#!/usr/bin/env python3
"""syscalls.py: common system calls inside a Fresco VM against the same
static program run natively on the host, in one run; prints each ratio.
Writes bench/results/syscalls.txt."""
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from boot import FRESCO, ROOT, machine  # noqa: E402

PROGRAM = ROOT / "build/bench/syscalls"
RESULT = ROOT / "bench/results/syscalls.txt"


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True,
                         check=True).stdout
    return {k: float(v) for k, v in (line.split() for line in
                                     out.splitlines())}


def main():
    if not PROGRAM.exists():
        sys.exit(f"bench: {PROGRAM} is missing; run make bench")
    guest = run([str(FRESCO), "run", str(PROGRAM)])
    native = run([str(PROGRAM)])
    lines = [f"# Fresco system call benchmark, {time.strftime('%Y-%m-%d')}",
             f"# machine: {machine()}",
             "# how: make bench (bench/syscalls.py, bench/syscalls.c); "
             "ns per operation, median of 15 rounds",
             f"{'operation':28} {'guest ns':>10} {'native ns':>10} "
             f"{'guest/native':>12}"]
    for op in guest:
        lines.append(f"{op:28} {guest[op]:10.1f} {native[op]:10.1f} "
                     f"{guest[op] / native[op]:11.2f}x")
    report = "\n".join(lines) + "\n"
    sys.stdout.write(report)
    RESULT.write_text(report)


if __name__ == "__main__":
    main()
