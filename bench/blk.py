#!/usr/bin/env python3
"""blk.py: volume I/O inside a Fresco VM, against the same guest kernel and
program under QEMU (microvm, -accel kvm, virtio-blk with aio=threads and
ioeventfd) and against the host reading the backing file directly, in one
run; prints the ratios. Writes bench/results/blk.txt.

Each phase runs in a fresh VM (so the guest's block cache starts cold);
the host's page cache is warm for all three, as the volume was just
written. Medians of ROUNDS runs."""
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from boot import FRESCO, KERNEL, ROOT, machine  # noqa: E402

PROGRAM = ROOT / "build/bench/blkbench"
RESULT = ROOT / "bench/results/blk.txt"
MIB = 256
RANDOM_READS = 20000
ROUNDS = 3
MEMORY = "256M"
QEMU_MMIO = 0xfeb00000 + 23 * 512  # microvm's first virtio transport


def value(out):
    return float(out.split()[-1])


def in_fresco(img, *args):
    out = subprocess.run([str(FRESCO), "run", "-m", MEMORY, "-v",
                          f"{img}:/data", str(PROGRAM), *args],
                         capture_output=True, text=True, check=True).stdout
    return value(out)


def in_qemu(img, cpio, *args):
    words = [f"virtio_mmio.device=512@{QEMU_MMIO:#x}:16",
             "fresco.mount=vda:/data", "init=/blkbench", "--", *args]
    cmd = ["qemu-system-x86_64", "-M", "microvm,x-option-roms=off,rtc=on",
           "-accel", "kvm", "-m", MEMORY, "-nodefaults",
           "-no-user-config", "-display", "none", "-no-reboot",
           "-kernel", str(KERNEL), "-initrd", str(cpio),
           "-append", " ".join(words), "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0x501,iosize=2",
           "-global", "virtio-mmio.force-legacy=false",
           "-global", "virtio-mmio.ioeventfd=on",
           "-drive", f"file={img},if=none,id=d0,format=raw,aio=threads,"
                     "cache=writeback",
           "-device", "virtio-blk-device,drive=d0"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    lines = [line for line in out.splitlines() if "_" in line]
    if not lines:
        sys.exit(f"bench: QEMU gave no result for {args[0]}: {out!r}")
    return value(lines[-1])


def on_host(*args):
    out = subprocess.run([str(PROGRAM), *args], capture_output=True,
                         text=True, check=True).stdout
    return value(out)


def median(fn):
    return statistics.median(fn() for _ in range(ROUNDS))


def main():
    if not PROGRAM.exists():
        sys.exit(f"bench: {PROGRAM} is missing; run make bench")
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        tmp = Path(tmp)
        cpio = tmp / "root.cpio"
        subprocess.run(f"cd {PROGRAM.parent} && echo blkbench | "
                       f"cpio -o -H newc --quiet > {cpio}", shell=True,
                       check=True)
        vols = {}
        for who in ("fresco", "qemu"):
            vols[who] = tmp / f"{who}.img"
            subprocess.run([str(FRESCO), "volume", "create", vols[who],
                            "--size", "1G"], check=True)
        runs = {
            "fresco": lambda *a: in_fresco(vols["fresco"], *a),
            "qemu": lambda *a: in_qemu(vols["qemu"], cpio, *a),
        }
        rand = [str(MIB), str(RANDOM_READS)]
        res = {}
        for who, run in runs.items():
            res[who] = {
                "seqwrite_mib_s": median(
                    lambda: run("seqwrite", "/data/bench", str(MIB))),
                "seqread_mib_s": median(
                    lambda: run("seqread", "/data/bench", str(MIB))),
                "randread_iops": median(
                    lambda: run("randread", "/data/bench", *rand)),
            }
        host_file = tmp / "host.bin"
        res["host"] = {
            "seqwrite_mib_s": median(
                lambda: on_host("seqwrite", str(host_file), str(MIB))),
            "seqread_mib_s": median(
                lambda: on_host("seqread", str(vols["fresco"]), str(MIB))),
            "randread_iops": median(
                lambda: on_host("randread", str(vols["fresco"]), *rand)),
        }
    lines = [f"# Fresco volume I/O benchmark, {time.strftime('%Y-%m-%d')}",
             f"# machine: {machine()}",
             "# how: make bench (bench/blk.py, bench/blkbench.c); a 256 MiB "
             "file on an ext2 volume, 1 MiB sequential writes (then fsync) "
             "and reads, 4 KiB random reads; each in a fresh VM with "
             f"{MEMORY}; median of {ROUNDS}",
             "# qemu: the same kernel and program, QEMU microvm -accel kvm, "
             "virtio-blk-device aio=threads cache=writeback ioeventfd=on",
             "# host: the same program natively: writes to a file beside "
             "the volume, reads the volume's backing file directly",
             f"{'operation':16} {'fresco':>10} {'qemu':>10} {'host':>10} "
             f"{'fresco/qemu':>12} {'fresco/host':>12}"]
    for op in res["fresco"]:
        f, q, h = res["fresco"][op], res["qemu"][op], res["host"][op]
        lines.append(f"{op:16} {f:10.1f} {q:10.1f} {h:10.1f} "
                     f"{f / q:11.2f}x {f / h:11.2f}x")
    report = "\n".join(lines) + "\n"
    sys.stdout.write(report)
    RESULT.write_text(report)


if __name__ == "__main__":
    main()
