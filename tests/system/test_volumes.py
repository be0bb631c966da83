"""test_volumes.py: volumes as a person uses them: `fresco volume create`,
`fresco run -v FILE:/PATH[:ro]`, what the guest writes judged by e2fsck
and read back by debugfs, durability across SIGKILL, volumes made on the
host, read-only volumes, and the errors a person can make.

The reference for every tree is the same guest program run natively on
the host (tests/guest/volume.c): Linux's answer is the expected one."""
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import FRESCO, fresco, guest_program, need_kvm, qemu

BIG_MIB = 110  # "a file over 100 MiB"


def tool(name):
    for d in ("/usr/sbin", "/sbin", "/usr/bin", "/bin"):
        if os.access(f"{d}/{name}", os.X_OK):
            return f"{d}/{name}"
    pytest.fail(f"{name} is missing: run make deps (package e2fsprogs)")


def make_volume(path, size="512M"):
    r = fresco("volume", "create", path, "--size", size)
    assert r.status == 0, r.stderr
    return path


def volume_from(src, img, size):
    """(img): an ext2 volume of (size) that mke2fs filled with the tree
    (src)."""
    subprocess.run([tool("mke2fs"), "-q", "-F", "-t", "ext2", "-d", src,
                    img, size], check=True)
    return img


def hello_volume(tmp_path, name):
    """An 8 MiB volume (name) made on the host, holding hello: abc."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "hello").write_text("abc")
    return volume_from(src, tmp_path / name, "8M")


def e2fsck(path, fix=False):
    p = subprocess.run([tool("e2fsck"), "-f", "-y" if fix else "-n",
                        str(path)], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def debugfs(path, request):
    p = subprocess.run([tool("debugfs"), "-R", request, str(path)],
                       capture_output=True, text=True)
    return p.stdout + p.stderr


def rdump(path, names, dest):
    dest.mkdir()
    for n in names:
        subprocess.run([tool("debugfs"), "-R", f"rdump {n} {dest}",
                        str(path)], capture_output=True, check=True)
    return dest


def native(*args, cwd=None):
    p = subprocess.run([str(guest_program("glibc", "volume")), *args],
                       capture_output=True, text=True, cwd=cwd)
    return p.returncode, p.stdout


def listing(tree):
    status, out = native("list", str(tree))
    assert status == 0, out
    return sorted(out.splitlines()[:-1])  # without the GUEST PASS line


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tree as Linux itself writes it."""
    root = tmp_path_factory.mktemp("reference")
    status, out = native("write", str(root), str(BIG_MIB))
    assert status == 0 and out.endswith("GUEST PASS write\n"), out
    return root


PARTS = ["/big", "/many", "/links", "/sub", "/a.txt", "/sym", "/longsym",
         "/renamed.txt", "/trunc", "/mixed"]


def check_volume_against(img, reference, tmp_path, mib):
    status, report = e2fsck(img)
    assert status == 0, f"e2fsck -fn is not clean:\n{report}"
    got = rdump(img, PARTS, tmp_path / "dumped")
    want = tmp_path / "want"
    want.mkdir()
    for name in PARTS:
        src = reference / name[1:]
        if name == "/big" and mib != BIG_MIB:
            continue
        if src.is_dir() and not src.is_symlink():
            shutil.copytree(src, want / name[1:], symlinks=True)
        elif src.is_symlink():
            os.symlink(os.readlink(src), want / name[1:])
        else:
            shutil.copy2(src, want / name[1:])
    if mib == BIG_MIB:
        assert sha256(got / "big") == sha256(reference / "big")
    else:
        (got / "big").unlink()
    # files by checksum, links by target, directories by mode
    mine, linux = listing(got), listing(want)
    assert len(mine) > 5000 and mine == linux
    # what a dump cannot show: links, holes, names
    assert "Links: 2" in debugfs(img, "stat /a.txt")
    ino = debugfs(img, "stat /a.txt").split()[1]
    assert debugfs(img, "stat /links/a.hard").split()[1] == ino
    sparse = debugfs(img, "stat /sparse")
    assert "Size: 1073745920" in sparse
    blocks = int(sparse.split("Blockcount: ")[1].split()[0])
    assert blocks <= 8 * 8, f"a sparse file took {blocks} sectors"
    for gone in ("/tmpname", "/olddir"):
        assert "File not found" in debugfs(img, f"stat {gone}")
    assert "File not found" in debugfs(img, "stat /ghost")
    many = [line for line in debugfs(img, "ls -p /many").splitlines()
            if line.startswith("/") and "/f0" in line]
    assert len(many) == 5000


def test_tree_written_in_the_guest_is_clean_and_reads_back(
        tmp_path, reference):
    need_kvm()
    img = make_volume(tmp_path / "data.img", "2G")
    r = fresco("run", "-v", f"{img}:/data",
               guest_program("musl", "volume"), "write", "/data",
               str(BIG_MIB))
    assert r.status == 0 and r.stdout.endswith("GUEST PASS write\n"), \
        r.stdout + r.stderr
    check_volume_against(img, reference, tmp_path, BIG_MIB)
    # a second VM, the other C library, sees the same tree
    r = fresco("run", "-v", f"{img}:/data",
               guest_program("glibc", "volume"), "verify", "/data",
               str(BIG_MIB))
    assert r.status == 0 and r.stdout.endswith("GUEST PASS verify\n"), \
        r.stdout
    assert e2fsck(img)[0] == 0


def test_tree_on_qemus_virtio_blk(tmp_path, reference):
    """The driver against a device model written elsewhere."""
    img = make_volume(tmp_path / "data.img", "2G")
    r = qemu(guest_program("musl", "volume"), ["write", "/data", "8"],
             tmp_path=tmp_path, volumes=[(img, "/data", False)])
    assert r.status == 0 and r.stdout.endswith("GUEST PASS write\n"), \
        r.stdout + "\n".join(r.log)
    check_volume_against(img, reference, tmp_path, 8)
    # QEMU's read-only device, with a volume made on the host
    ro = hello_volume(tmp_path, "ro.img")
    r = qemu(guest_program("glibc", "volume"), ["readonly", "/data"],
             tmp_path=tmp_path, volumes=[(ro, "/data", True)])
    assert r.status == 0 and r.stdout.endswith("GUEST PASS readonly\n"), \
        r.stdout


def host_tree(root):
    (root / "d" / "e" / "f").mkdir(parents=True)
    (root / "hello").write_text("abc")
    (root / "d" / "name with spaces").write_text("spaces\n")
    (root / "d" / "e" / "f" / "deep").write_text("deep\n")
    (root / "random").write_bytes(random.Random(5).randbytes(3 << 20))
    (root / "empty").write_bytes(b"")
    (root / "link").symlink_to("d/e/f/deep")
    os.chmod(root / "d" / "e", 0o750)
    (root / "wide").mkdir()
    for i in range(300):
        (root / "wide" / f"entry-{i:03d}").write_text(str(i))
    return root


def test_volume_made_on_the_host_reads_in_the_guest(tmp_path):
    need_kvm()
    src = host_tree(tmp_path / "src")
    img = volume_from(src, tmp_path / "host.img", "32M")
    before = sha256(img)
    r = fresco("run", "-v", f"{img}:/data:ro",
               guest_program("musl", "volume"), "list", "/data")
    assert r.status == 0, r.stdout + r.stderr
    assert sorted(r.stdout.splitlines()[:-1]) == listing(src)
    # and the read-only checks against the same volume
    r = fresco("run", "-v", f"{img}:/data:ro",
               guest_program("glibc", "volume"), "readonly", "/data")
    assert r.status == 0 and r.stdout.endswith("GUEST PASS readonly\n"), \
        r.stdout
    assert sha256(img) == before, "a read-only volume changed"


def read_acks(p, upto):
    last = -1
    while last < upto:
        line = p.stdout.readline()
        if not line:
            break
        if line.startswith(b"ack "):
            last = int(line.split()[1])
    return last


def expected_record(i):
    rec = f"rec {i:08d} sum {(i * 2654435761) & 0xffffffff:08x}".encode()
    return rec + b"." * (63 - len(rec)) + b"\n"


@pytest.mark.parametrize("kill_after", [0, 9, 57, "random"])
def test_acknowledged_records_survive_sigkill(tmp_path, kill_after):
    need_kvm()
    if kill_after == "random":
        seed = random.randrange(1 << 30)
        kill_after = random.Random(seed).randrange(1, 200)
        print(f"killing after record {kill_after} (seed {seed})")
    img = make_volume(tmp_path / "journal.img", "64M")
    p = subprocess.Popen([str(FRESCO), "run", "-v", f"{img}:/data",
                          guest_program("musl", "volume"), "journal",
                          "/data", "100000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    acked = read_acks(p, kill_after)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert acked == kill_after, p.stderr.read().decode()
    status, report = e2fsck(img, fix=True)
    assert status in (0, 1), f"e2fsck -fy could not repair:\n{report}"
    assert e2fsck(img)[0] == 0
    out = tmp_path / "journal"
    subprocess.run([tool("debugfs"), "-R", f"dump /journal {out}", img],
                   capture_output=True, check=True)
    data = out.read_bytes()
    want = b"".join(expected_record(i) for i in range(acked + 1))
    assert data[:len(want)] == want, \
        f"an acknowledged record is damaged or missing ({len(data)} bytes)"


def test_volume_outlives_a_clean_exit_and_the_next_vm_appends(tmp_path):
    need_kvm()
    img = make_volume(tmp_path / "j.img", "16M")
    for _ in range(2):
        r = fresco("run", "-v", f"{img}:/data",
                   guest_program("musl", "volume"), "journal", "/data",
                   "3")
        assert r.status == 0, r.stderr
    assert e2fsck(img)[0] == 0, "an exited VM left the volume unclean"
    assert "clean" in subprocess.run(
        [tool("dumpe2fs"), "-h", img], capture_output=True,
        text=True).stdout.split("Filesystem state:")[1].split("\n")[0]
    out = tmp_path / "j"
    subprocess.run([tool("debugfs"), "-R", f"dump /journal {out}", img],
                   capture_output=True, check=True)
    want = b"".join(expected_record(i) for i in range(3))
    assert out.read_bytes() == want + want


# ---- what a person can get wrong ----

def test_missing_volume_file(tmp_path):
    r = fresco("run", "-v", f"{tmp_path}/nope.img:/data",
               guest_program("musl", "hello"))
    assert r.status == 125
    assert r.log == [f"volume {tmp_path}/nope.img: No such file or "
                     "directory; make one with `fresco volume create "
                     "FILE --size SIZE`"] or \
        r.stderr.startswith(f"fresco run: volume {tmp_path}/nope.img: "
                            "No such file or directory; make one with "
                            "`fresco volume create FILE --size SIZE`")


@pytest.mark.parametrize("spec, message", [
    ("data.img", "--volume data.img: give FILE:/PATH[:ro], like "
                 "data.img:/data"),
    ("data.img:data", "--volume data.img:data: give FILE:/PATH[:ro], like "
                      "data.img:/data"),
    ("data.img:/data:rx", "--volume data.img:/data:rx: unknown option "
                          "'rx'; use ro or rw"),
    ("data.img:/", "--volume data.img:/: the guest path must be an "
                   "absolute directory other than /, without spaces, '.' "
                   "or '..'"),
    ("data.img:/a/../b", "--volume data.img:/a/../b: the guest path must "
                         "be an absolute directory other than /, without "
                         "spaces, '.' or '..'"),
])
def test_malformed_volume_flags(tmp_path, spec, message):
    make_volume(tmp_path / "data.img", "8M")
    p = subprocess.run([str(FRESCO), "run", "-v", spec,
                        str(guest_program("musl", "hello"))],
                       cwd=tmp_path, capture_output=True, text=True)
    assert (p.returncode, p.stderr) == (125, f"fresco run: {message}\n")


def test_two_volumes_at_one_path(tmp_path):
    a = make_volume(tmp_path / "a.img", "8M")
    b = make_volume(tmp_path / "b.img", "8M")
    r = fresco("run", "-v", f"{a}:/data", "-v", f"{b}:/data",
               guest_program("musl", "hello"))
    assert (r.status, r.stderr) == (125, "fresco run: two volumes at /data\n")


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(bytes(1 << 20)),
     "not an ext2 file system (make one with `fresco volume create`, or "
     "mke2fs -t ext2)"),
    (lambda p: subprocess.run([tool("mke2fs"), "-q", "-F", "-t", "ext4",
                               p, "8M"], check=True),
     "it uses ext3/ext4 features this kernel does not read (journal "
     "recovery, extents, 64bit, flex_bg, ...); make it with mke2fs -t ext2"),
])
def test_volume_that_is_not_ext2(tmp_path, make, message):
    need_kvm()
    img = tmp_path / "bad.img"
    make(img)
    r = fresco("run", "-v", f"{img}:/data", guest_program("musl", "hello"))
    assert r.status == 125
    assert r.log == [f"volume vda at /data: {message}"]
    assert r.stdout == ""


@contextmanager
def vm_holding(volume):
    """A VM that sleeps with (volume) (a -v argument) attached, until the
    block ends."""
    p = subprocess.Popen([str(FRESCO), "run", "-v", volume,
                          guest_program("musl", "sleeper")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"sleeping\n"
        yield p
    finally:
        p.kill()
        p.wait()


def test_a_volume_in_use_is_refused(tmp_path):
    need_kvm()
    img = make_volume(tmp_path / "busy.img", "8M")
    with vm_holding(f"{img}:/data"):
        r = fresco("run", "-v", f"{img}:/data:ro",
                   guest_program("musl", "hello"))
        assert r.status == 125
        assert r.log == [f"volume {img} is in use by another VM; stop that "
                         "VM first, or attach the volume read-only (:ro) "
                         "in every VM"]
    # once it is gone the volume is free again
    r = fresco("run", "-v", f"{img}:/data", guest_program("musl", "hello"))
    assert r.status == 0, r.stderr


def test_read_only_volumes_can_be_shared(tmp_path):
    need_kvm()
    img = hello_volume(tmp_path, "shared.img")
    with vm_holding(f"{img}:/data:ro"):
        r = fresco("run", "-v", f"{img}:/data:ro",
                   guest_program("musl", "volume"), "readonly", "/data")
        assert r.status == 0, r.stdout + r.stderr


def test_volume_create(tmp_path):
    img = tmp_path / "v.img"
    r = fresco("volume", "create", img, "--size", "100M")
    assert (r.status, r.stdout, r.stderr) == (0, "", "")
    assert img.stat().st_size == 100 << 20
    assert img.stat().st_blocks * 512 < 8 << 20, "not sparse"
    assert e2fsck(img)[0] == 0
    assert "Block size:               4096" in subprocess.run(
        [tool("dumpe2fs"), "-h", img], capture_output=True,
        text=True).stdout
    # never over an existing file without --force
    img.write_text("precious")
    r = fresco("volume", "create", img, "--size", "8M")
    assert (r.status, r.stderr) == (
        125, f"fresco volume create: {img} already exists; remove it or "
        "give --force to overwrite it\n")
    assert img.read_text() == "precious"
    assert fresco("volume", "create", "--force", img, "--size",
                  "8M").status == 0
    assert e2fsck(img)[0] == 0
    assert sorted(os.listdir(tmp_path)) == ["v.img"], "a temporary was left"


@pytest.mark.parametrize("args, message", [
    (["create", "x.img"], "fresco volume create: give its size, like "
                          "--size 1G"),
    (["create", "x.img", "--size", "lots"], "fresco volume create: --size "
                                            "lots: give a size from 1M to "
                                            "16T, like 1G"),
    (["create", "x.img", "--size", "512K"], "fresco volume create: --size "
                                            "512K: give a size from 1M to "
                                            "16T, like 1G"),
    (["create", "--size", "1G"], "fresco volume create: give one FILE; see "
                                 "'fresco volume --help'"),
    (["make", "x.img"], "fresco volume: unknown subcommand 'make'; see "
                        "'fresco volume --help'"),
])
def test_volume_create_errors(tmp_path, args, message):
    p = subprocess.run([str(FRESCO), "volume", *args], cwd=tmp_path,
                       capture_output=True, text=True)
    assert (p.returncode, p.stderr) == (125, message + "\n")
    assert not (tmp_path / "x.img").exists()


def test_image_declared_volume_gets_a_fresh_one(tmp_path, monkeypatch):
    need_kvm()
    monkeypatch.setenv("FRESCO_STORE", str(tmp_path / "store"))
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    shutil.copy(guest_program("musl", "volume"), ctx / "volume")
    (ctx / "Frescofile").write_text(
        "program: volume\nargs: [journal, /srv/data, '2']\n"
        "volumes: [/srv/data]\n")
    assert fresco("build", "-t", "vol", ctx).status == 0
    r = fresco("run", "vol")
    assert (r.status, r.stdout) == (0, "ack 0\nack 1\nGUEST PASS journal\n"), \
        r.stderr
    # and -v gives that path a volume of one's own instead
    img = make_volume(tmp_path / "mine.img", "8M")
    assert fresco("run", "-v", f"{img}:/srv/data", "vol").status == 0
    assert "Size: 128" in debugfs(img, "stat /journal")


def test_inspect_shows_the_mounts(tmp_path, monkeypatch):
    need_kvm()
    monkeypatch.setenv("FRESCO_RUNTIME", str(tmp_path / "run"))
    monkeypatch.setenv("FRESCO_STORE", str(tmp_path / "store"))
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    shutil.copy(guest_program("musl", "sleeper"), ctx / "sleeper")
    (ctx / "Frescofile").write_text("program: sleeper\n"
                                    "volumes: [/scratch]\n")
    assert fresco("build", "-t", "sleepy", ctx).status == 0
    img = make_volume(tmp_path / "data.img", "8M")
    r = fresco("run", "-d", "-v", f"{img}:/data:ro", "sleepy")
    assert r.status == 0, r.stderr
    vm = r.stdout.strip()
    try:
        info = json.loads(fresco("inspect", vm).stdout)
        assert info["Mounts"] == [
            {"Source": str(img), "Destination": "/data", "ReadOnly": True},
            {"Source": "(anonymous)", "Destination": "/scratch",
             "ReadOnly": False}]
    finally:
        fresco("rm", "-f", vm)


def test_a_directory_cycle_on_a_corrupt_volume_is_refused(tmp_path):
    """A second name for a directory (only corruption makes one) would
    make the tree a cycle: the kernel skips it and says so."""
    need_kvm()
    src = tmp_path / "src"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / "f").write_text("x\n")
    img = volume_from(src, tmp_path / "cycle.img", "8M")
    subprocess.run([tool("debugfs"), "-w", "-R", "link /a /a/b/loop", img],
                   check=True, capture_output=True)
    r = fresco("run", "-v", f"{img}:/data:ro",
               guest_program("musl", "volume"), "list", "/data")
    assert r.status == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[:3] == ["d /a 755", "d /a/b 755",
                                         "f /a/b/f 2 08f0de07b58d2b17"]
    b = debugfs(img, "stat /a/b").split()[1]
    assert r.log == [f"vda: corrupt file system structure at inode {b}; "
                     "check the volume with e2fsck"]


def test_a_full_volume_says_enospc_and_recovers(tmp_path):
    need_kvm()
    img = make_volume(tmp_path / "small.img", "16M")
    r = fresco("run", "-v", f"{img}:/data", guest_program("musl", "volume"),
               "fill", "/data")
    assert r.status == 0 and r.stdout.endswith("GUEST PASS fill\n"), r.stdout
    assert e2fsck(img)[0] == 0
    assert "room again" in debugfs(img, "cat /after")
