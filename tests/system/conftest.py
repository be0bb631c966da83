"""conftest.py: running the fresco command and QEMU for the system tests.

Every guest program runs two ways: under fresco's monitor on this
machine's KVM (the kernel's ring-3 mode under kvm_pvm) and under QEMU's
microvm with TCG (ordinary ring-0 semantics), booted through PVH.
"""
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
FRESCO = BUILD / "bin" / "fresco"
KERNEL = BUILD / "lib" / "fresco" / "fresco-kernel"
GUEST = BUILD / "tests" / "guest"
TIMEOUT = 120


@dataclass
class Result:
    status: int
    stdout: str
    log: list = field(default_factory=list)  # fresco's or the kernel's lines
    stderr: str = ""


def kvm_usable():
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


def need_kvm():
    """Skip without KVM, unless FRESCO_REQUIRE_KVM=1 makes that a failure."""
    if kvm_usable():
        return
    why = "/dev/kvm is missing or not accessible"
    if os.environ.get("FRESCO_REQUIRE_KVM") == "1":
        pytest.fail(why + " and FRESCO_REQUIRE_KVM=1")
    pytest.skip(why)


def guest_program(libc, name):
    path = GUEST / libc / name
    assert path.exists(), f"{path} is not built; run make guest"
    return path


def fresco(*args, stdin=subprocess.DEVNULL, env=None, timeout=TIMEOUT):
    """Run the fresco command; returns a Result."""
    e = dict(os.environ)
    e.pop("FRESCO_KERNEL", None)
    if env:
        e.update(env)
    p = subprocess.run([str(FRESCO), *map(str, args)], stdin=stdin,
                       capture_output=True, timeout=timeout, env=e)
    err = p.stderr.decode(errors="replace")
    log = [line[len("fresco: "):] for line in err.splitlines()
           if line.startswith("fresco: ")]
    return Result(p.returncode, p.stdout.decode(errors="replace"), log, err)


def cmdline_quote(word):
    """The kernel command line's quoting (kernel/lib/cmdline.c)."""
    if word and not re.search(r'[ \t\n"\\]', word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


# QEMU's microvm puts the first virtio device on its last transport
QEMU_MMIO_TOP = 0xfeb00000 + 23 * 512
# QEMU's software x86. Two vCPUs, though the kernel runs on one: before
# QEMU 8.1 (Debian 12 has 7.2) TCG left out a lone vCPU's memory
# barriers ("tcg: Do not elide memory barriers for !CF_PARALLEL in system
# mode"), so the driver's store of an avail index could pass its load of
# the device's event index, and now and then a notification was lost
# (the TCP echo test hung about one run in eight). With two, TCG keeps
# them (40 runs of 40).
QEMU_TCG = ["-accel", "tcg", "-smp", "2", "-cpu", "max"]


def qemu(program, args=(), env=(), tmp_path=None, memory="64M",
         kernel_args=(), machine="microvm,x-option-roms=off,rtc=on",
         timeout=TIMEOUT, volumes=(), net=False):
    """Boot the kernel under QEMU microvm (TCG) with (program) as the only
    file of a cpio made by GNU cpio; returns a Result whose status comes
    from the kernel's "exit=N" line on the debug console. (volumes) are
    (file, guest path, read-only) triples, attached as QEMU's own
    virtio-blk-device (virtio 1.x over virtio-mmio version 2). (net) True
    adds a network device on QEMU's user networking, a name one on that
    TAP device."""
    name = Path(program).name
    work = Path(tmp_path)
    root = work / "root"
    root.mkdir(exist_ok=True)
    shutil.copy(program, root / name)
    cpio = work / "root.cpio"
    with open(cpio, "wb") as out:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                       input=name.encode() + b"\n", stdout=out, check=True)
    words = []
    drives = []
    for i, (vfile, vpath, ro) in enumerate(volumes):
        words.append(f"virtio_mmio.device=512@{QEMU_MMIO_TOP - i * 512:#x}"
                     f":{16 + i}")
        words.append(f"fresco.mount=vd{chr(97 + i)}:{vpath}"
                     + (":ro" if ro else ""))
        drives += ["-drive", f"file={vfile},if=none,id=d{i},format=raw"
                   + (",readonly=on" if ro else ""),
                   "-device", f"virtio-blk-device,drive=d{i}"]
    if net:
        # QEMU's own user networking (its libslirp), or (net) a TAP
        # device's name with the guest at 10.0.99.2, and its virtio-net
        slot = len(volumes)
        words += [f"virtio_mmio.device=512@{QEMU_MMIO_TOP - slot * 512:#x}"
                  f":{16 + slot}"]
        if net is True:
            words += ["fresco.ip=10.0.2.15/24", "fresco.gw=10.0.2.2",
                      "fresco.dns=10.0.2.3"]
            drives += ["-netdev", "user,id=n0"]
        else:
            words += ["fresco.ip=10.0.99.2/24", "fresco.gw=10.0.99.1",
                      "fresco.link=up"]
            drives += ["-netdev", f"tap,id=n0,ifname={net},script=no,"
                       "downscript=no"]
        drives += ["-device", "virtio-net-device,netdev=n0"]
    if volumes or net:
        drives += ["-global", "virtio-mmio.force-legacy=false"]
    words += [f"init=/{name}"]
    words += ["fresco.env=" + cmdline_quote(e) for e in env]
    words += list(kernel_args)
    words += ["--"] + [cmdline_quote(a) for a in args]
    debugcon = work / "debugcon.txt"
    cmd = ["qemu-system-x86_64", "-M", machine,
           *QEMU_TCG, "-m", memory, "-nodefaults",
           "-no-user-config", "-display", "none", "-no-reboot",
           "-kernel", str(KERNEL), "-initrd", str(cpio),
           "-append", " ".join(words), "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0x501,iosize=2",
           "-chardev", f"file,id=dbg,path={debugcon}",
           "-device", "isa-debugcon,iobase=0xe9,chardev=dbg", *drives]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    lines = debugcon.read_text(errors="replace").splitlines()
    exits = [int(line[5:]) for line in lines if line.startswith("exit=")]
    assert exits, (f"the kernel reported no exit status (QEMU status "
                   f"{p.returncode}): {p.stderr.decode(errors='replace')}")
    # isa-debug-exit makes QEMU itself exit with (status << 1) | 1
    assert p.returncode == ((exits[-1] << 1) | 1) & 0xff
    log = [line for line in lines if not line.startswith("exit=")]
    return Result(exits[-1], p.stdout.decode(errors="replace"), log,
                  p.stderr.decode(errors="replace"))


@pytest.fixture(params=["fresco", "qemu"])
def run_guest(request, tmp_path):
    """run_guest(program, args, env) under fresco or QEMU."""
    if request.param == "fresco":
        need_kvm()

        def run(program, args=(), env=()):
            flags = []
            for e in env:
                flags += ["-e", e]
            return fresco("run", *flags, program, *args)
    else:
        def run(program, args=(), env=()):
            return qemu(program, args, env, tmp_path)
    run.runner = request.param
    return run
