#!/usr/bin/env python3
"""seeds.py: write starting inputs for the fuzz targets into a directory:
`seeds.py DIR` for fuzz_virtio_blk, `seeds.py --ext2 DIR` for fuzz_ext2
(small volumes made by mke2fs, with every kind of entry), `seeds.py --net
DIR` for fuzz_virtio_net, `seeds.py --rtnl DIR` for fuzz_rtnl.

Each seed is what a well-behaved driver does (negotiate, set up queue 0,
queue requests, notify), so the fuzzer starts from deep inside the
request parser rather than at the magic register. Layout of an input:
GUEST_MEM bytes of guest RAM, one flags byte, then 5-byte register ops
(opcode = index into the fuzz target's register table, value u32)."""
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

GUEST_MEM = 16384
DESC, AVAIL, USED, HDRS, DATA = 0x0, 0x400, 0x800, 0x1000, 0x2000
QSIZE = 16
REG = {  # offset -> index in the target's table
    0x010: 3, 0x014: 4, 0x020: 5, 0x024: 6, 0x030: 7, 0x038: 9,
    0x044: 10, 0x050: 11, 0x064: 13, 0x070: 14, 0x080: 15, 0x084: 16,
    0x090: 17, 0x094: 18, 0x0a0: 19, 0x0a4: 20,
}
READ, WRITE, NEXT = 0, 2, 1


def op(reg, value):
    return struct.pack("<BI", REG[reg], value)


def setup(event_idx):
    p = op(0x070, 0) + op(0x070, 1) + op(0x070, 3)
    p += op(0x024, 0) + op(0x020, (1 << 29) if event_idx else 0)
    p += op(0x024, 1) + op(0x020, 1)  # VERSION_1
    p += op(0x070, 11) + op(0x030, 0) + op(0x038, QSIZE)
    p += op(0x080, DESC) + op(0x084, 0) + op(0x090, AVAIL) + op(0x094, 0)
    p += op(0x0a0, USED) + op(0x0a4, 0) + op(0x044, 1) + op(0x070, 15)
    return p


def seed(requests, event_idx=True, broken=None):
    ram = bytearray(GUEST_MEM)
    d = 0
    heads = []
    for n, (rtype, sector, datalen) in enumerate(requests):
        hdr = HDRS + 32 * n
        struct.pack_into("<IIQ", ram, hdr, rtype, 0, sector)
        heads.append(d)
        chain = [(hdr, 16, 0)]
        if datalen:
            chain.append((DATA + 1024 * n, datalen,
                          WRITE if rtype in (0, 8) else 0))
        chain.append((hdr + 16, 1, WRITE))
        for i, (addr, length, flags) in enumerate(chain):
            last = i == len(chain) - 1
            struct.pack_into("<QIHH", ram, DESC + 16 * d, addr, length,
                             flags | (0 if last else NEXT),
                             0 if last else d + 1)
            d += 1
    if broken == "loop":  # the last descriptor points back to the first
        struct.pack_into("<QIHH", ram, DESC + 16 * (d - 1), HDRS + 16, 1,
                         WRITE | NEXT, 0)
    for i, h in enumerate(heads):
        struct.pack_into("<H", ram, AVAIL + 4 + 2 * i, h)
    struct.pack_into("<H", ram, AVAIL + 2, len(heads))
    return bytes(ram) + b"\0" + setup(event_idx) + op(0x050, 0) + \
        op(0x064, 3) + op(0x070, 0)


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = {
        "read": seed([(0, 0, 512)]),
        "write-read": seed([(1, 8, 1024), (0, 8, 1024)]),
        "flush-getid": seed([(4, 0, 0), (8, 0, 20)], event_idx=False),
        "discard": seed([(11, 0, 16)]),
        "past-the-end": seed([(0, 2047, 1024)]),
        "loop": seed([(0, 0, 512)], broken="loop"),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)


def mke2fs():
    for d in ("/usr/sbin", "/sbin"):
        if os.access(f"{d}/mke2fs", os.X_OK):
            return f"{d}/mke2fs"
    sys.exit("seeds: mke2fs is missing; run make deps")


def ext2_seeds(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        (src / "d" / "e").mkdir(parents=True)
        (src / "a").write_text("hi\n")
        (src / "d" / "m").write_bytes(bytes(range(256)) * 80)
        (src / "l").symlink_to("a")
        (src / "longl").symlink_to("x" * 100)
        for i in range(40):
            (src / "d" / "e" / f"f{i}").write_text(str(i))
        with open(src / "sparse", "wb") as f:
            f.truncate(300 << 10)
        for name, opts, size in (("1k", ["-b", "1024"], "160K"),
                                 ("4k", ["-b", "4096"], "256K")):
            img = Path(tmp) / name
            subprocess.run([mke2fs(), "-q", "-F", "-t", "ext2", *opts,
                            "-N", "64", "-I", "128", "-O", "^resize_inode",
                            "-d", str(src), str(img), size], check=True,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            (out / name).write_bytes(img.read_bytes())


def tcp_frame(payload, flags=0x18):
    """An Ethernet frame holding a TCP/IPv4 segment of (payload)."""
    tcp = struct.pack(">HHIIBBHHH", 8080, 80, 1000, 1, 5 << 4, flags,
                      1024, 0, 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000,
                     64, 6, 0, bytes([10, 0, 2, 15]), bytes([10, 0, 2, 2]))
    return b"\xff" * 6 + b"\x52\x54\0\x12\x34\x56\x08\x00" + ip + tcp


def vnet_hdr(gso_size=0, csum=True):
    """virtio_net_hdr_v1: NEEDS_CSUM at the TCP checksum, TCPV4 if cut."""
    return struct.pack("<BBHHHHH", 1 if csum else 0, 1 if gso_size else 0,
                       54 if gso_size else 0, gso_size, 34 if csum else 0,
                       16 if csum else 0, 0)


def net_seed(features, frames, vnet):
    """A driver that negotiates (features), posts eight 1 KiB receive
    buffers and sends a 3000-byte frame to be cut, then the backend
    hands it (frames): (opcode, bytes) placed in the RAM image."""
    q = [(0x0, 0x100, 0x200), (0x400, 0x500, 0x600)]
    ram = bytearray(GUEST_MEM)
    for i in range(8):  # receive buffers
        struct.pack_into("<QIHH", ram, q[0][0] + 16 * i, 0x1000 + 1024 * i,
                         1024, WRITE, 0)
        struct.pack_into("<H", ram, q[0][1] + 4 + 2 * i, i)
    struct.pack_into("<H", ram, q[0][1] + 2, 8)
    tx = vnet_hdr(1000) + tcp_frame(bytes(range(256)) * 11)
    ram[0x3000:0x3000 + len(tx)] = tx
    struct.pack_into("<QIHH", ram, q[1][0], 0x3000, len(tx), 0, 0)
    struct.pack_into("<HH", ram, q[1][1] + 2, 1, 0)
    ops = b""
    at = 0x3c00
    for code, frame in frames:
        ram[at:at + len(frame)] = frame
        ops += struct.pack("<BI", code, at << 16 | len(frame))
        at += len(frame)
    p = op(0x070, 0) + op(0x070, 1) + op(0x070, 3)
    p += op(0x024, 0) + op(0x020, features & 0xffffffff)
    p += op(0x024, 1) + op(0x020, 1) + op(0x070, 11)
    for i, (desc, avail, used) in enumerate(q):
        p += op(0x030, i) + op(0x038, 16) + op(0x080, desc)
        p += op(0x084, 0) + op(0x090, avail) + op(0x094, 0)
        p += op(0x0a0, used) + op(0x0a4, 0) + op(0x044, 1)
    p += op(0x070, 15) + op(0x050, 0) + op(0x050, 1)
    return bytes(ram) + bytes([vnet]) + p + ops + op(0x070, 0)


def net_seeds(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    every = (1 << 0) | (1 << 1) | (1 << 7) | (1 << 11) | (1 << 15) | \
        (1 << 29)
    small = vnet_hdr(csum=False) + tcp_frame(b"hello")
    big = vnet_hdr(700) + tcp_frame(bytes(range(200)) * 5)
    seeds = {
        "offloads": net_seed(every, [(0x70, big), (0x71, big),
                                     (0x70, small), (0x72, big[12:])],
                             0),
        "offloads-tap": net_seed(every, [(0x71, small), (0x71, big)], 1),
        "plain": net_seed(1 << 29, [(0x70, big), (0x71, small)], 0),
        "wide": net_seed(every | (1 << 3), [(0x70, small)], 2),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)


def nlmsg(kind, flags, body, attrs=b""):
    """A NETLINK_ROUTE request: header, fixed part, attributes."""
    pad = (-len(body)) % 4
    length = 16 + len(body) + pad + len(attrs)
    return struct.pack("<IHHII", length, kind, flags, 7, 0) + body + \
        b"\0" * pad + attrs


def rtnl_seeds(out):
    """fuzz_rtnl: an options byte (every option, all datagrams taken),
    then requests as getifaddrs and ip(8) send them."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    request, ack, dump = 1, 4, 0x300
    dst = struct.pack("<HH", 8, 1) + bytes([8, 8, 8, 8])  # RTA_DST
    name = struct.pack("<HH", 8, 3) + b"lo\0\0"  # IFLA_IFNAME
    seeds = {
        "dumps": nlmsg(18, request | dump, b"\x11") +
        nlmsg(22, request | dump, b"\0") + nlmsg(26, request | dump, b"\2"),
        "get": nlmsg(18, request | ack, bytes(16), name) +
        nlmsg(26, request, bytes([2, 32]) + bytes(10), dst),
        "refused": nlmsg(20, request | ack, bytes([2, 24]) + bytes(6)),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(b"\xf7" + data)


if __name__ == "__main__":
    if sys.argv[1] == "--rtnl":
        rtnl_seeds(sys.argv[2])
    elif sys.argv[1] == "--ext2":
        ext2_seeds(sys.argv[2])
    elif sys.argv[1] == "--net":
        net_seeds(sys.argv[2])
    else:
        main(sys.argv[1])
