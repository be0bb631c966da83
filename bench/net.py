#!/usr/bin/env python3
"""net.py: the same small static HTTP server (tests/guest/httpd.c, epoll)
measured with wrk in one run: (a) in Fresco over TAP, (b) the same guest
kernel and program in QEMU over TAP, (c) natively on the host over
loopback; and bulk TCP throughput each way between host and guest (TAP)
against the same program natively over loopback. Prints the ratios and
writes bench/results/net.txt. Needs root (a TAP device)."""
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from boot import FRESCO, KERNEL, ROOT, machine  # noqa: E402

GUEST = ROOT / "build/tests/guest/musl"
RESULT = ROOT / "bench/results/net.txt"
TAP = "fbench0"
HOST_IP, GUEST_IP = "10.0.98.1", "10.0.98.2"
WRK = ["wrk", "-t", "2", "-d", "10s", "--latency"]
CONNS, MANY = 64, 1000  # wrk's connections: a few, and many
TAP_QLEN = 4000
WRK_RUNS = 5  # the median of these
BULK_MIB = 512
BULK_RUNS = 3  # the median of these
QEMU_MMIO = 0xfeb00000 + 23 * 512


def wrk(servers, conns):
    """For each of (servers), {name: (start, url, settle)}: the median of
    WRK_RUNS runs of wrk -c (conns), each figure on its own, the servers
    taken in turn (a host whose speed drifts weighs on all alike: runs
    of one server after another made the same two differ by 10% either
    way), each brought up afresh, so that runs do not inherit each
    other's connections; socket errors of any run are reported."""
    runs = {name: [] for name in servers}
    for _ in range(WRK_RUNS):
        for name, (start, url, settle) in servers.items():
            say(f"wrk -c {conns} against {name}")
            p = start()
            wait_for("serving", p)
            time.sleep(settle)
            runs[name].append(wrk_once(url, conns))
            stop(p)
    res = {}
    for name, rs in runs.items():
        errors = [r[3] for r in rs if r[3] != "none"]
        res[name] = (*(statistics.median(r[k] for r in rs)
                       for k in range(3)),
                     "; ".join(errors) if errors else "none")
    return res


def wrk_once(url, conns):
    out = subprocess.run([*WRK, "-c", str(conns), url], capture_output=True,
                         text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
        return float(m.group(1)) * scale

    errors = re.search(r"Socket errors: (.*)", out)
    return rps, pct(50), pct(99), errors.group(1) if errors else "none"


def wait_for(line_of, proc):
    line = proc.stdout.readline()
    if not line.startswith(line_of):
        sys.exit(f"bench: server did not start: {line!r}")


def fresco_httpd():
    return subprocess.Popen([str(FRESCO), "run", "--net", f"tap:{TAP}",
                             "--ip", f"{GUEST_IP}/24", "--gateway", HOST_IP,
                             str(GUEST / "httpd"), "80", "/"],
                            stdout=subprocess.PIPE, text=True)


def qemu_httpd(cpio):
    words = [f"virtio_mmio.device=512@{QEMU_MMIO:#x}:16",
             f"fresco.ip={GUEST_IP}/24", f"fresco.gw={HOST_IP}",
             "fresco.link=up", "init=/httpd", "--", "80", "/"]
    return subprocess.Popen(
        ["qemu-system-x86_64", "-M", "microvm,x-option-roms=off,rtc=on",
         "-accel", "kvm", "-m", "128M", "-nodefaults", "-no-user-config",
         "-display", "none", "-no-reboot", "-kernel", str(KERNEL),
         "-initrd", str(cpio), "-append", " ".join(words), "-serial",
         "stdio", "-global", "virtio-mmio.force-legacy=false",
         "-global", "virtio-mmio.ioeventfd=on",
         "-netdev", f"tap,id=n0,ifname={TAP},script=no,downscript=no",
         "-device", "virtio-net-device,netdev=n0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def stop(p):
    p.kill()
    p.wait()


def host_cc():
    return Path("/proc/sys/net/ipv4/tcp_congestion_control").read_text(
    ).strip()


def bulk(run_guest, address, mode, cc):
    """MiB/s of one bulk transfer; the host end is a plain socket using
    congestion control (cc) from its first segment."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    srv.bind((address, 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    box = {}

    def host_end():
        c, _ = srv.accept()
        t0 = time.perf_counter()
        n = 0
        if mode == "send":  # the guest sends: drain
            while True:
                d = c.recv(1 << 20)
                if not d:
                    break
                n += len(d)
        else:
            chunk = b"y" * (1 << 20)
            for _ in range(BULK_MIB):
                c.sendall(chunk)
                n += len(chunk)
            c.shutdown(socket.SHUT_WR)
            c.recv(1)
        box["rate"] = n / (1 << 20) / (time.perf_counter() - t0)
        c.close()

    t = threading.Thread(target=host_end, daemon=True)
    t.start()
    try:
        run_guest(mode, port)
    except subprocess.TimeoutExpired:
        pass
    t.join(timeout=5)
    srv.close()
    return box.get("rate", 0.0)  # 0: it stalled (see the issue notes)


def main():
    if os.geteuid() != 0:
        sys.exit("bench: net.py needs root for its TAP device")
    for p in ("httpd", "tcp"):
        if not (GUEST / p).exists():
            sys.exit(f"bench: {GUEST / p} is missing; run make bench")
    subprocess.run(["ip", "tuntap", "add", "dev", TAP, "mode", "tap"],
                   check=True)
    try:
        subprocess.run(["ip", "addr", "add", f"{HOST_IP}/24", "dev", TAP],
                       check=True)
        # room for a burst of frames for the guest while the monitor is
        # busy: at Linux's 1000, wrk -c 1000 lost 1% of them
        subprocess.run(["ip", "link", "set", TAP, "txqueuelen",
                        str(TAP_QLEN), "up"], check=True)
        res = run_all()
    finally:
        subprocess.run(["ip", "link", "del", TAP], capture_output=True)
    report(res)


def say(what):
    print(f"bench: {what}", file=sys.stderr, flush=True)


def run_all():
    res = {}
    # wrk's MANY connections, and the native server's, are descriptors
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(f"cd {GUEST} && echo httpd | cpio -o -H newc "
                       f"--quiet > {tmp}/root.cpio", shell=True, check=True)
        servers = {
            "fresco": (fresco_httpd, f"http://{GUEST_IP}/", 0.0),
            "qemu": (lambda: qemu_httpd(Path(tmp) / "root.cpio"),
                     f"http://{GUEST_IP}/", 0.5),
            "native": (lambda: subprocess.Popen(
                [str(GUEST / "httpd"), str(port), "/"],
                stdout=subprocess.PIPE, text=True),
                f"http://127.0.0.1:{port}/", 0.0)}
        for conns, tag in ((CONNS, ""), (MANY, "_many")):
            for name, r in wrk(servers, conns).items():
                res[name + tag] = r

    def in_fresco(mode, port):
        subprocess.run([str(FRESCO), "run", "--net", f"tap:{TAP}",
                        "--ip", f"{GUEST_IP}/24", "--gateway", HOST_IP,
                        str(GUEST / "tcp"), mode, HOST_IP, str(port), "-",
                        str(BULK_MIB)], capture_output=True, timeout=90)

    def through_slirp(mode, port):
        subprocess.run([str(FRESCO), "run", str(GUEST / "tcp"), mode,
                        "10.0.2.2", str(port), "-", str(BULK_MIB)],
                       capture_output=True, timeout=90)

    def natively(mode, port):
        subprocess.run([str(GUEST / "tcp"), mode, "127.0.0.1", str(port),
                        "-", str(BULK_MIB)], capture_output=True,
                       check=True)

    # the host's congestion control matters when it sends: its own
    # setting, and Linux's default if that is another
    runs = [("send", host_cc()), ("recv", host_cc())]
    if host_cc() != "cubic":
        runs.append(("recv", "cubic"))
    for mode, cc in runs:
        say(f"bulk {mode} ({cc})")
        res[f"bulk_{mode}_{cc}"] = medians(
            lambda: bulk(in_fresco, HOST_IP, mode, cc),
            lambda: bulk(natively, "127.0.0.1", mode, cc))
    # the default network: libslirp, to the host's loopback
    for mode in ("send", "recv"):
        say(f"bulk {mode} through user networking")
        res[f"user_{mode}"] = medians(
            lambda: bulk(through_slirp, "127.0.0.1", mode, "cubic"),
            lambda: bulk(natively, "127.0.0.1", mode, "cubic"))
    return res


def medians(ours, theirs):
    """The medians of BULK_RUNS runs of (ours) and of (theirs), taken in
    turn, so that a host whose speed drifts during the run (this one's
    native figures differ by a third from one minute to the next)
    weighs on both alike."""
    pairs = [(ours(), theirs()) for _ in range(BULK_RUNS)]
    return tuple(statistics.median(p[k] for p in pairs) for k in (0, 1))


def report(res):
    lines = [f"# Fresco network benchmark, {time.strftime('%Y-%m-%d')}",
             f"# machine: {machine()}",
             f"# how: make bench (bench/net.py, needs root): wrk -c {CONNS} "
             f"and -c {MANY}, -t 2 "
             "-d 10s against tests/guest/httpd.c (epoll, keep-alive, 23-byte "
             f"body), median of {WRK_RUNS} runs (each figure) taken in turn "
             "with the other servers', each against a server started "
             "afresh; bulk: "
             "tests/guest/tcp.c send/recv 512 MiB with a Python socket on "
             "the host, median of "
             f"{BULK_RUNS} runs taken in turn with the native ones; when the host sends, with its own "
             f"congestion control ({host_cc()}) and with Linux's default "
             "(cubic): bbr paces what it sends; 'user net': fresco's "
             "default network (libslirp) to the host's loopback, cubic",
             "# (a) fresco --net tap; (b) QEMU microvm -accel kvm, same "
             "kernel and program, virtio-net-device on -netdev tap (this "
             "host has no /dev/vhost-net, so no vhost); (c) the program "
             f"natively on loopback; the TAP's txqueuelen is {TAP_QLEN}"]
    for conns, tag in ((CONNS, ""), (MANY, "_many")):
        f, q, n = res["fresco" + tag], res["qemu" + tag], res["native" + tag]
        lines.append(f"{'wrk -c ' + str(conns):26} {'req/s':>10} "
                     f"{'p50 ms':>8} {'p99 ms':>8}  socket errors")
        for name, r in (("(a) fresco over TAP", f), ("(b) QEMU over TAP", q),
                        ("(c) native loopback", n)):
            lines.append(f"{name:26} {r[0]:10.0f} {r[1]:8.2f} {r[2]:8.2f}  "
                         f"{r[3]}")
        lines.append(f"fresco / QEMU: requests {f[0] / q[0]:.2f}x, p99 "
                     f"{q[2] / f[2]:.2f}x better; fresco / native: requests "
                     f"{f[0] / n[0]:.2f}x")
    for key in (k for k in res if k.startswith(("bulk_", "user_"))):
        g, nat = res[key]
        kind, mode, cc = (key + "_cubic").split("_")[:3]
        what = ("guest -> host" if mode == "send"
                else f"host -> guest, {cc}")
        if kind == "user":
            what = what.split(",")[0] + ", user net"
        lines.append(f"bulk TCP {what:24} MiB/s: fresco {g:6.0f}  native "
                     f"loopback {nat:6.0f}  ratio {g / nat:.2f}x"
                     + ("  (stalled: did not finish in 90 s)" if not g
                        else ""))
    report = "\n".join(lines) + "\n"
    sys.stdout.write(report)
    RESULT.write_text(report)


if __name__ == "__main__":
    main()
