#!/usr/bin/env python3
"""boot.py: how fast and how small `fresco run` is, against its baseline
run side by side on the same machine in the same run.

Measures (medians of RUNS runs each):
  - wall time from starting `fresco run hello` to its exit, and the same
    kernel and program booted by `qemu-system-x86_64 -M microvm -accel kvm`
    through PVH; the ratio
  - peak RSS of the fresco process (its own memory plus guest pages
    touched), read by GNU time: ru_maxrss of a child of this Python would
    carry the forked interpreter's high-water mark across exec
  - the kernel file's size
  - the smallest --memory (MiB) that still runs hello
  - a getpid round trip inside the guest, against the same static program
    (bench/syscalls.c) run natively on the host; the ratio
Writes the report to stdout and to bench/results/boot.txt.
"""
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRESCO = ROOT / "build/bin/fresco"
KERNEL = ROOT / "build/lib/fresco/fresco-kernel"
HELLO = ROOT / "build/tests/guest/musl/hello"
SYSCALLS = ROOT / "build/bench/syscalls"
RESULT = ROOT / "bench/results/boot.txt"
RUNS = 21


def machine():
    model = "unknown CPU"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    kvm = "kvm_pvm" if Path("/sys/module/kvm_pvm").exists() else "kvm"
    return (f"{model}, {os.cpu_count()} CPUs, Linux {platform.release()}, "
            f"/dev/kvm from {kvm}")


def timed(cmd):
    """Wall seconds of one run of (cmd), to its exit (not its output's
    end: fresco's VM teardown finishes after the command has returned)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status = os.waitpid(p.pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"bench: {cmd[0]} failed with status {status}")
    return elapsed


def peak_rss_kib(cmd):
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd],
                       capture_output=True, text=True, check=True)
    return int(p.stderr.strip().splitlines()[-1])


def qemu_cmd(cpio):
    return ["qemu-system-x86_64", "-M", "microvm,x-option-roms=off,rtc=off",
            "-accel", "kvm", "-m", "64M", "-nodefaults",
            "-no-user-config", "-display", "none", "-no-reboot",
            "-kernel", str(KERNEL), "-initrd", str(cpio),
            "-append", "init=/hello -- bench", "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0x501,iosize=2"]


def smallest_memory():
    lo, hi = 1, 64  # MiB: lo fails (below the minimum), hi works
    while hi - lo > 1:
        mid = (lo + hi) // 2
        ok = subprocess.run([str(FRESCO), "run", "-m", f"{mid}M",
                             str(HELLO)], capture_output=True).returncode == 0
        lo, hi = (lo, mid) if ok else (mid, hi)
    return hi


def getpid_ns(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True,
                         check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("getpid "))
    return float(line.split()[1])


def main():
    for f in (FRESCO, KERNEL, HELLO, SYSCALLS):
        if not f.exists():
            sys.exit(f"bench: {f} is missing; run make bench")
    work = Path(tempfile.mkdtemp())
    root = work / "root"
    root.mkdir()
    shutil.copy(HELLO, root / "hello")
    cpio = work / "root.cpio"
    with open(cpio, "wb") as out:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                       input=b"hello\n", stdout=out, check=True)

    fresco, qemu = [], []
    for _ in range(RUNS):  # interleaved, so both see the same machine
        fresco.append(timed([str(FRESCO), "run", str(HELLO), "bench"]))
        qemu.append(timed(qemu_cmd(cpio)))
    rss = [peak_rss_kib([str(FRESCO), "run", str(HELLO)])
           for _ in range(5)]
    rss_cli = peak_rss_kib([str(FRESCO), "version"])
    f_ms = statistics.median(fresco) * 1e3
    q_ms = statistics.median(qemu) * 1e3
    guest = getpid_ns([str(FRESCO), "run", str(SYSCALLS)])
    native = getpid_ns([str(SYSCALLS)])
    shutil.rmtree(work)

    lines = [
        f"# Fresco boot benchmark, {time.strftime('%Y-%m-%d')}",
        f"# machine: {machine()}",
        "# how: make bench (bench/boot.py); medians of "
        f"{RUNS} interleaved runs",
        "# wall time is until the command exits: fresco leaves its VM's "
        "teardown (~10 ms here) to a child that finishes after it; QEMU's is "
        "inside its time",
        f"fresco run hello, wall ms:          {f_ms:8.2f}",
        f"qemu microvm -accel kvm, wall ms:   {q_ms:8.2f}",
        f"ratio qemu / fresco:                {q_ms / f_ms:8.1f}x "
        "(target >= 10x)",
        f"fresco run hello peak RSS, MiB:     "
        f"{statistics.median(rss) / 1024:8.2f} (target monitor overhead "
        "< 5 MiB)",
        f"  of which fresco version alone:    {rss_cli / 1024:8.2f}",
        f"kernel file (stripped), KiB:        "
        f"{KERNEL.stat().st_size / 1024:8.1f} (target < 512 KiB)",
        f"smallest --memory for hello, MiB:   {smallest_memory():8d} "
        "(target 4)",
        f"getpid in guest, ns:                {guest:8.1f}",
        f"getpid native, ns:                  {native:8.1f}",
        f"ratio guest / native:               {guest / native:8.2f}x",
    ]
    report = "\n".join(lines) + "\n"
    sys.stdout.write(report)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(report)


if __name__ == "__main__":
    main()
