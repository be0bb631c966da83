"""test_net.py: networking as a person uses it: the guest reaches servers
on the host through user-mode networking (libslirp), published ports
reach the guest, the same guest under QEMU's virtio-net and user network,
and the errors a person can make with --net and --publish.

The guest program tests/guest/udp.c runs natively too, against the same
echo server: Linux's answers are the expected ones."""
import errno
import hashlib
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import (BUILD, FRESCO, KERNEL, QEMU_MMIO_TOP, QEMU_TCG,
                      fresco, guest_program, need_kvm, qemu)


@contextmanager
def serving(s, serve_one):
    """Call serve_one() on a thread again and again (a socket timeout
    just means nothing came) until the block ends, then close (s);
    yields its port."""
    s.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                serve_one()
            except socket.timeout:
                continue

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield s.getsockname()[1]
    finally:
        stop.set()
        t.join()
        s.close()


def udp_echo_server():
    """A UDP echo server on the host's loopback; yields its port."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))

    def echo():
        data, peer = s.recvfrom(65536)
        s.sendto(data, peer)

    return serving(s, echo)


def passed(r, name):
    assert r.stdout.endswith(f"GUEST PASS {name}\n"), \
        r.stdout + r.stderr + "\n".join(r.log)
    assert r.status == 0


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_udp_natively(libc):
    with udp_echo_server() as port:
        p = subprocess.run([str(guest_program(libc, "udp")), "127.0.0.1",
                            str(port)], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.endswith("GUEST PASS udp\n"), \
        p.stdout


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_udp_through_user_networking(libc):
    """10.0.2.2 is the host, as in QEMU's user network, whose 64 KiB
    wide link carries a 16000-byte datagram whole each way."""
    need_kvm()
    with udp_echo_server() as port:
        r = fresco("run", guest_program(libc, "udp"), "10.0.2.2", port,
                   "wide")
    passed(r, "udp")


def test_udp_under_qemu_virtio_net(tmp_path):
    with udp_echo_server() as port:
        r = qemu(guest_program("musl", "udp"), ["10.0.2.2", str(port)],
                 tmp_path=tmp_path, net=True)
    passed(r, "udp")


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_netlink_shows_the_device_under_fresco_and_qemu(libc, tmp_path):
    """getifaddrs, if_nameindex and the raw NETLINK_ROUTE checks of
    tests/guest/netlink.c with a network device: eth0 is there with its
    address, under both monitors."""
    need_kvm()
    passed(fresco("run", guest_program(libc, "netlink"), "eth0"), "netlink")
    passed(qemu(guest_program(libc, "netlink"), ["eth0"], tmp_path=tmp_path,
                net=True), "netlink")


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_the_gateway_answers_pings_under_fresco_and_qemu(libc, tmp_path):
    """tests/guest/icmp.c's raw and ping sockets, and a raw ping to the
    user network's gateway (libslirp answers it)."""
    need_kvm()
    passed(fresco("run", guest_program(libc, "icmp"), "10.0.2.2"), "icmp")
    passed(qemu(guest_program(libc, "icmp"), ["10.0.2.2"], tmp_path=tmp_path,
                net=True), "icmp")


def test_loopback_without_a_network():
    need_kvm()
    r = fresco("run", "--net", "none", guest_program("musl", "udp"))
    passed(r, "udp")
    with udp_echo_server() as port:
        r = fresco("run", "--net", "none", guest_program("musl", "udp"),
                   "10.0.2.2", port)
    assert r.status == 1
    assert "not ok - 20 datagrams echoed by 10.0.2.2" in r.stdout


def free_port(kind=socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_a_published_udp_port_reaches_the_guest():
    need_kvm()
    port = free_port()
    p = subprocess.Popen([str(FRESCO), "run", "-p",
                          f"127.0.0.1:{port}:5000/udp",
                          guest_program("musl", "udp"), "serve", "5000",
                          "3"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"serving 5000\n"
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.settimeout(5)
        for i in range(3):
            msg = f"to the guest {i}".encode()
            c.sendto(msg, ("127.0.0.1", port))
            assert c.recvfrom(2048)[0] == msg
        assert p.wait(timeout=10) == 0
    finally:
        p.kill()
        p.wait()


def busybox_root(tmp_path):
    """A cpio of tmp_path/root with /bin/busybox (and whatever else the
    test put there)."""
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "/bin/busybox", root / "bin" / "busybox"],
                   check=True)
    cpio = tmp_path / "root.cpio"
    with open(cpio, "wb") as out:
        subprocess.run("find . | cpio -o -H newc --quiet", shell=True,
                       cwd=root, stdout=out, check=True)
    return cpio


def test_the_guest_is_told_its_dns_server(tmp_path):
    """/etc/resolv.conf and /etc/hosts come from the network's
    configuration."""
    need_kvm()
    cpio = busybox_root(tmp_path)
    r = fresco("run", cpio, "/bin/busybox", "cat", "/etc/resolv.conf",
               "/etc/hosts")
    assert (r.status, r.stdout) == (0, "nameserver 10.0.2.3\n127.0.0.1\t"
                                       "localhost\n::1\tlocalhost\n"
                                       "10.0.2.15\tfresco\n")
    r = fresco("run", "--net", "none", cpio, "/bin/busybox", "cat",
               "/etc/resolv.conf")
    assert r.status == 1


def test_dhcp_through_user_networking(tmp_path):
    """--ip dhcp takes the address from libslirp's DHCP server; the guest
    then reaches the host."""
    need_kvm()
    with tcp_echo_server_on("127.0.0.1") as port:
        r = fresco("run", "--ip", "dhcp", guest_program("musl", "tcp"),
                   "client", "10.0.2.2", port, "1")
    passed(r, "tcp")


def test_dhcp_under_qemu_gets_the_address_its_server_gives(tmp_path):
    """QEMU's user network hands out 10.9.8.77 from 10.9.8.0/24: the
    guest's /etc/hosts and /etc/resolv.conf say what DHCP gave."""
    cpio = busybox_root(tmp_path)
    debugcon = tmp_path / "debugcon.txt"
    p = subprocess.run(
        ["qemu-system-x86_64", "-M", "microvm,x-option-roms=off,rtc=on",
         *QEMU_TCG, "-m", "64M", "-nodefaults",
         "-no-user-config", "-display", "none", "-no-reboot",
         "-kernel", str(KERNEL), "-initrd", str(cpio),
         "-append", f"virtio_mmio.device=512@{QEMU_MMIO_TOP:#x}:16 "
         "fresco.ip=dhcp init=/bin/busybox -- cat /etc/hosts "
         "/etc/resolv.conf",
         "-serial", "stdio", "-device", "isa-debug-exit,iobase=0x501,"
         "iosize=2", "-chardev", f"file,id=dbg,path={debugcon}",
         "-device", "isa-debugcon,iobase=0xe9,chardev=dbg",
         "-netdev", "user,id=n0,net=10.9.8.0/24,dhcpstart=10.9.8.77",
         "-device", "virtio-net-device,netdev=n0",
         "-global", "virtio-mmio.force-legacy=false"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    assert "10.9.8.77\tfresco\n" in p.stdout.decode(), \
        debugcon.read_text(errors="replace")
    assert "nameserver 10.9.8.3\n" in p.stdout.decode()


@pytest.mark.parametrize("args, message", [
    (["--net", "wifi"], "fresco run: --net wifi: use user, tap:NAME or "
                        "none"),
    (["--net", "tap:"], "fresco run: --net tap:: use user, tap:NAME or "
                        "none"),
    (["-p", "80"], "fresco run: --publish 80: give "
                   "[IP:]HOSTPORT:GUESTPORT[/udp], like 8080:80 or "
                   "127.0.0.1:5353:53/udp"),
    (["-p", "8080:80/sctp"], "fresco run: --publish 8080:80/sctp: give "
                             "[IP:]HOSTPORT:GUESTPORT[/udp], like 8080:80 "
                             "or 127.0.0.1:5353:53/udp"),
    (["-p", "70000:80"], "fresco run: --publish 70000:80: give "
                         "[IP:]HOSTPORT:GUESTPORT[/udp], like 8080:80 or "
                         "127.0.0.1:5353:53/udp"),
    (["--ip", "10.0.3.2"], "fresco run: --ip 10.0.3.2: give an IPv4 "
                           "address with a prefix (or dhcp), like "
                           "10.0.3.2/24"),
    (["--ip", "10.0.3.2/33"], "fresco run: --ip 10.0.3.2/33: give an IPv4 "
                              "address with a prefix (or dhcp), like "
                              "10.0.3.2/24"),
    (["--ip", "dhcp", "--dns", "10.0.3.1"], "fresco run: with --ip dhcp the "
                                            "gateway and DNS server come "
                                            "from DHCP; drop --gateway and "
                                            "--dns"),
    (["--gateway", "gw"], "fresco run: --gateway gw: give an IPv4 address, "
                          "like 10.0.3.1"),
    (["--net", "none", "--gateway", "10.0.3.1"], "fresco run: --gateway and "
                                                 "--dns need --ip"),
    (["--net", "none", "-p", "8080:80"], "fresco run: --publish needs "
                                          "--net user; with a TAP device "
                                          "the guest's address is "
                                          "reachable directly"),
])
def test_network_flag_errors(args, message):
    r = fresco("run", *args, guest_program("musl", "hello"))
    assert (r.status, r.stderr) == (125, message + "\n")


@pytest.mark.parametrize("name, message", [
    ("nosuchtap0", "no such network device; create it first (ip tuntap "
                   "add dev nosuchtap0 mode tap user $USER)"),
    ("lo", "not a TAP device; give one made with ip tuntap add dev NAME "
           "mode tap"),
])
def test_a_tap_that_is_not_there_is_refused(name, message):
    """The monitor opens the TAP (after KVM): a name that is no device
    (root would otherwise create an unconfigured TAP and the guest wait
    for DHCP) and a device that is not a TAP each get their own line."""
    need_kvm()
    r = fresco("run", "--net", f"tap:{name}", guest_program("musl", "hello"))
    assert (r.status, r.stdout, r.stderr) == (
        125, "", f"fresco: --net tap:{name}: {message}\n")


def test_a_port_in_use_on_the_host_is_refused():
    need_kvm()
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        r = fresco("run", "-p", f"127.0.0.1:{port}:80",
                   guest_program("musl", "hello"))
    finally:
        taken.close()
    assert r.status == 125
    assert r.log == [f"--publish {port}:80/tcp: the host's port {port} "
                     "cannot be used (in use, or needs root); choose "
                     "another"]


def tcp_echo_server():
    """A TCP echo server on the host's loopback, a thread per client."""
    return tcp_echo_server_on("127.0.0.1")


def tcp_echo_server_on(address):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, 0))
    s.listen(8)

    def echo(c):
        with c:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                c.sendall(data)

    def accept():
        c, _ = s.accept()
        c.settimeout(30)
        threading.Thread(target=echo, args=(c,), daemon=True).start()

    return serving(s, accept)


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_tcp_natively(libc):
    prog = str(guest_program(libc, "tcp"))
    p = subprocess.run([prog], capture_output=True, text=True, timeout=60)
    assert p.stdout.endswith("GUEST PASS tcp\n"), p.stdout
    with tcp_echo_server() as port:
        p = subprocess.run([prog, "client", "127.0.0.1", str(port)],
                           capture_output=True, text=True, timeout=60)
    assert p.stdout.endswith("GUEST PASS tcp\n"), p.stdout


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_tcp_loopback_in_the_guest(libc):
    need_kvm()
    passed(fresco("run", guest_program(libc, "tcp")), "tcp")


def test_tcp_loopback_under_qemu(tmp_path):
    passed(qemu(guest_program("musl", "tcp"), tmp_path=tmp_path), "tcp")


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_tcp_client_through_user_networking(libc):
    need_kvm()
    with tcp_echo_server() as port:
        r = fresco("run", guest_program(libc, "tcp"), "client", "10.0.2.2",
                   port)
    passed(r, "tcp")


def test_tcp_client_under_qemu_virtio_net(tmp_path):
    with tcp_echo_server() as port:
        r = qemu(guest_program("musl", "tcp"),
                 ["client", "10.0.2.2", str(port)], tmp_path=tmp_path,
                 net=True)
    passed(r, "tcp")


def test_a_published_tcp_port_reaches_the_guest():
    """Host clients, one after the other, through -p to a guest server:
    3 MiB each way, checked byte for byte."""
    need_kvm()
    port = free_port(socket.SOCK_STREAM)
    p = subprocess.Popen([str(FRESCO), "run", "-p", f"127.0.0.1:{port}:7000",
                          guest_program("musl", "tcp"), "serve", "7000",
                          "3"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"serving 7000\n"
        for k in range(3):
            data = random.Random(k).randbytes(3 << 20)
            c = socket.create_connection(("127.0.0.1", port), timeout=20)
            got = bytearray()

            def read():
                while True:
                    chunk = c.recv(1 << 20)
                    if not chunk:
                        return
                    got.extend(chunk)

            t = threading.Thread(target=read)
            t.start()
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            t.join(timeout=30)
            c.close()
            assert bytes(got) == data, f"connection {k}: {len(got)} bytes"
        assert p.wait(timeout=10) == 0
    finally:
        p.kill()
        p.wait()


BUSYBOX = "/bin/busybox"


@pytest.fixture(scope="module")
def busybox_cpio(tmp_path_factory):
    root = tmp_path_factory.mktemp("bb") / "root"
    (root / "bin").mkdir(parents=True)
    subprocess.run(["cp", BUSYBOX, root / "bin" / "busybox"], check=True)
    cpio = root.parent / "root.cpio"
    with open(cpio, "wb") as out:
        subprocess.run("find . | cpio -o -H newc --quiet", shell=True,
                       cwd=root, stdout=out, check=True)
    return cpio


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """100 MiB of random bytes and their SHA-256."""
    d = tmp_path_factory.mktemp("web")
    data = random.Random(100).randbytes(100 << 20)
    (d / "big.bin").write_bytes(data)
    return d, hashlib.sha256(data).hexdigest()


@contextmanager
def host_http_server(directory):
    p = subprocess.Popen([sys.executable, "-m", "http.server", "0",
                          "--bind", "127.0.0.1"], cwd=directory,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    try:
        line = p.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N"
        yield int(line.split(" port ")[1].split()[0])
    finally:
        p.kill()
        p.wait()


def serving_volume(tmp_path, directory, mount, port, *command):
    """Start `fresco run COMMAND` with (directory)'s files on an ext2
    volume, read-only at (mount), and the guest's port 80 published on
    127.0.0.1:(port)."""
    img = tmp_path / "web.img"
    subprocess.run(["/sbin/mke2fs", "-q", "-F", "-t", "ext2", "-d", directory,
                    img, "200M"], check=True)
    return subprocess.Popen([str(FRESCO), "run", "-m", "128M", "-v",
                             f"{img}:{mount}:ro", "-p",
                             f"127.0.0.1:{port}:80", *map(str, command)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_published_port_takes_many_connections_at_once():
    """libslirp listens with a backlog of one; the monitor widens it, so
    that 64 clients connecting at once are all taken (the host's kernel
    would drop the SYNs beyond it, to be sent again a second later), and
    each gets its answer."""
    need_kvm()
    port = free_port(socket.SOCK_STREAM)
    with guest_httpd(["-p", f"127.0.0.1:{port}:80"]):
        listing = subprocess.run(["ss", "-Hltn", f"sport = :{port}"],
                                 capture_output=True, text=True).stdout
        assert int(listing.split()[2]) >= 128, listing  # the backlog
        answers = []

        def get():
            with socket.create_connection(("127.0.0.1", port),
                                          timeout=20) as c:
                c.sendall(b"GET / HTTP/1.0\r\n\r\n")
                answers.append(c.makefile("rb").read())

        clients = [threading.Thread(target=get) for _ in range(64)]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        assert len(answers) == 64
        assert all(a.startswith(b"HTTP/1.1 200") and
                   a.endswith(b"hello from a Fresco VM\n") for a in answers)


def cpu_seconds(pid):
    """User and system time of process (pid) and all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_guest_server_takes_no_cpu_once_its_clients_are_gone():
    """After a burst of requests, the device's thread looks for more for
    a moment without sleeping; then it sleeps, as the halted vCPU does:
    a server nobody talks to takes no CPU."""
    need_kvm()
    port = free_port(socket.SOCK_STREAM)
    with guest_httpd(["-p", f"127.0.0.1:{port}:80"]) as p:
        for _ in range(200):
            with socket.create_connection(("127.0.0.1", port),
                                          timeout=20) as c:
                c.sendall(b"GET / HTTP/1.0\r\n\r\n")
                assert c.makefile("rb").read().startswith(b"HTTP/1.1 200")
        time.sleep(0.5)
        before = cpu_seconds(p.pid)
        time.sleep(3)
        used = cpu_seconds(p.pid) - before
        assert used < 0.15, f"{used:.2f} s of CPU in 3 s of idling"


def test_curl_fetches_a_file_from_a_guest_server(tmp_path, big_file):
    """A guest HTTP server (epoll, keep-alive) serves a file from a volume
    through a published port; curl on the host gets it intact."""
    need_kvm()
    src, digest = big_file
    port = free_port(socket.SOCK_STREAM)
    p = serving_volume(tmp_path, src, "/srv", port,
                       guest_program("musl", "httpd"), "80", "/srv")
    try:
        assert p.stdout.readline() == b"serving /srv on 80\n"
        got = subprocess.run(["curl", "-sf", f"http://127.0.0.1:{port}/"
                              "big.bin"], capture_output=True, timeout=60)
        assert got.returncode == 0
        assert hashlib.sha256(got.stdout).hexdigest() == digest
        small = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                                "%{http_code}",
                                f"http://127.0.0.1:{port}/missing"],
                               capture_output=True, text=True, timeout=20)
        assert small.stdout == "404"
    finally:
        p.kill()
        p.wait()


def test_an_images_declared_ports_are_published(tmp_path, monkeypatch):
    """ports: in the manifest publishes them when the image runs, as -p
    would; a -p for the same guest port replaces the image's."""
    need_kvm()
    monkeypatch.setenv("FRESCO_STORE", str(tmp_path / "store"))
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    subprocess.run(["cp", guest_program("musl", "httpd"), ctx / "httpd"],
                   check=True)
    declared, given = (free_port(socket.SOCK_STREAM) for _ in range(2))
    (ctx / "Frescofile").write_text(
        f"program: httpd\nargs: ['80', '/']\n"
        f"ports: ['127.0.0.1:{declared}:80']\n")
    assert fresco("build", "-t", "web", ctx).status == 0
    for flags, port in (([], declared),
                        (["-p", f"127.0.0.1:{given}:80"], given)):
        p = subprocess.Popen([str(FRESCO), "run", *flags, "web"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert p.stdout.readline() == b"serving / on 80\n"
            r = subprocess.run(["curl", "-sf", f"http://127.0.0.1:{port}/"],
                               capture_output=True, text=True, timeout=20)
            assert r.stdout == "hello from a Fresco VM\n", (flags, r)
            if flags:
                other = subprocess.run(
                    ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                     f"http://127.0.0.1:{declared}/"],
                    capture_output=True, text=True, timeout=20)
                assert other.stdout == "000", "the image's port stays free"
        finally:
            p.kill()
            p.wait()


def test_busybox_wget_downloads_from_the_host(busybox_cpio, big_file):
    need_kvm()
    src, digest = big_file
    with host_http_server(src) as port:
        p = subprocess.run([str(FRESCO), "run", busybox_cpio, "/bin/busybox",
                            "wget", "-q", "-O", "-",
                            f"http://10.0.2.2:{port}/big.bin"],
                           capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert hashlib.sha256(p.stdout).hexdigest() == digest


def test_busybox_ifconfig_shows_both_interfaces(busybox_cpio):
    """busybox ifconfig lists the interfaces from /proc/net/dev and asks
    the SIOCGIF* ioctls about each."""
    need_kvm()
    p = subprocess.run([str(FRESCO), "run", busybox_cpio, "/bin/busybox",
                        "ifconfig"], capture_output=True, text=True,
                       timeout=60)
    assert (p.returncode, p.stderr) == (0, ""), p.stderr
    eth0, lo = p.stdout.split("\n\n")[:2]
    assert eth0.startswith("eth0") and "inet addr:10.0.2.15" in eth0
    assert "Mask:255.255.255.0" in eth0 and "RX packets:" in eth0
    assert lo.startswith("lo") and "inet addr:127.0.0.1" in lo


def test_busybox_ip_shows_addresses_and_routes(busybox_cpio):
    """busybox ip asks NETLINK_ROUTE for links, addresses and routes, and
    for the route to one address, as ip(8) does."""
    need_kvm()

    def ip(*args):
        p = subprocess.run([str(FRESCO), "run", busybox_cpio, "/bin/busybox",
                            "ip", *args], capture_output=True, text=True,
                           timeout=60)
        assert (p.returncode, p.stderr) == (0, ""), p.stderr
        return [line.split() for line in p.stdout.splitlines()]

    addr = ip("addr")
    assert addr[0][:3] == ["1:", "lo:", "<LOOPBACK,UP,LOWER_UP>"], addr
    assert ["inet", "127.0.0.1/8", "scope", "host", "lo"] in addr
    eth0 = next(line for line in addr if line[1:2] == ["eth0:"])
    assert eth0[0] == "2:" and "UP" in eth0[2], eth0
    assert ["inet", "10.0.2.15/24", "brd", "10.0.2.255", "scope", "global",
            "eth0"] in addr
    assert ip("route") == [
        ["default", "via", "10.0.2.2", "dev", "eth0"],
        ["10.0.2.0/24", "dev", "eth0", "scope", "link", "src", "10.0.2.15"]]
    assert ip("route", "get", "192.0.2.7") == [
        ["192.0.2.7", "via", "10.0.2.2", "dev", "eth0", "src", "10.0.2.15"]]
    assert ip("route", "get", "10.0.2.15")[0][:4] == [
        "local", "10.0.2.15", "dev", "lo"]


def test_busybox_ping(busybox_cpio):
    """busybox ping (a raw ICMP socket): the gateway and this host answer,
    an address nobody has does not."""
    need_kvm()

    def ping(host):
        return subprocess.run([str(FRESCO), "run", busybox_cpio,
                               "/bin/busybox", "ping", "-c", "2", "-i", "0.2",
                               "-W", "1", host], capture_output=True,
                              text=True, timeout=60)

    for host in ("10.0.2.2", "127.0.0.1", "10.0.2.15"):
        p = ping(host)
        assert p.returncode == 0, p.stdout + p.stderr
        assert f"64 bytes from {host}: seq=1" in p.stdout
        assert "2 packets received, 0% packet loss" in p.stdout
    p = ping("10.0.2.99")
    assert p.returncode == 1
    assert "0 packets received, 100% packet loss" in p.stdout


def test_busybox_route_arp_netstat_and_ip_neigh(busybox_cpio):
    """The tools that read /proc/net (route, arp, netstat) and ask for
    neighbours (ip neigh) see the routes, the gateway's ARP entry after a
    ping, and a listening nc."""
    need_kvm()
    script = ("/bin/busybox ping -c 1 10.0.2.2 >/dev/null; "
              "/bin/busybox nc -l -p 8080 & /bin/busybox sleep 0.2; "
              "for c in 'route -n' 'arp -n' 'netstat -tuln' 'ip neigh'; do "
              "echo \"== $c\"; /bin/busybox $c; done; kill %1")
    p = subprocess.run([str(FRESCO), "run", busybox_cpio, "/bin/busybox",
                        "sh", "-c", script], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and p.stderr == "", p.stdout + p.stderr
    out = {}
    for block in p.stdout.split("== ")[1:]:
        name, *lines = block.splitlines()
        out[name] = [line.split() for line in lines]
    assert out["route -n"][2:] == [
        ["0.0.0.0", "10.0.2.2", "0.0.0.0", "UG", "0", "0", "0", "eth0"],
        ["10.0.2.0", "0.0.0.0", "255.255.255.0", "U", "0", "0", "0", "eth0"]]
    assert out["arp -n"] == [["?", "(10.0.2.2)", "at", "52:55:0a:00:02:02",
                              "[ether]", "on", "eth0"]]
    assert ["tcp", "0", "0", "0.0.0.0:8080", "0.0.0.0:*", "LISTEN"] in \
        out["netstat -tuln"]
    assert out["ip neigh"][0][:5] == ["10.0.2.2", "dev", "eth0", "lladdr",
                                      "52:55:0a:00:02:02"]
    assert out["ip neigh"][0][-1] == "REACHABLE"


def test_busybox_wget_finds_the_host_by_name(tmp_path):
    """busybox (glibc, static) looks the name up with getaddrinfo, in the
    image's own /etc/hosts: glibc's lookup first sets itself up once
    (pthread_once, a futex wake), which aborted the program before."""
    need_kvm()
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "etc").mkdir()
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    (root / "etc" / "hosts").write_text("127.0.0.1 localhost\n"
                                        "10.0.2.2 hostbox\n")
    cpio = tmp_path / "root.cpio"
    with open(cpio, "wb") as out:
        subprocess.run("find . | cpio -o -H newc --quiet", shell=True,
                       cwd=root, stdout=out, check=True)
    www = tmp_path / "www"
    www.mkdir()
    (www / "note.txt").write_text("found by name\n")
    with host_http_server(www) as port:
        p = subprocess.run([str(FRESCO), "run", cpio, "/bin/busybox",
                            "wget", "-q", "-O", "-",
                            f"http://hostbox:{port}/note.txt"],
                           capture_output=True, timeout=60)
    assert (p.returncode, p.stdout) == (0, b"found by name\n"), p.stderr


def test_busybox_httpd_serves_a_published_port(tmp_path, busybox_cpio,
                                               big_file):
    """Debian's busybox httpd, which forks a child for every connection,
    serves a volume through a published port: curl gets 100 MiB intact,
    and eight clients at once all get their answer."""
    need_kvm()
    src, digest = big_file
    www = tmp_path / "www"
    www.mkdir()
    os.link(src / "big.bin", www / "big.bin")
    (www / "index.html").write_text("busybox in a Fresco VM\n")
    port = free_port(socket.SOCK_STREAM)
    p = serving_volume(tmp_path, www, "/www", port, busybox_cpio,
                       "/bin/busybox", "httpd", "-f", "-v", "-p", "80", "-h",
                       "/www")
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):  # no line says it listens: try until it does
            r = subprocess.run(["curl", "-sf", f"{url}/index.html"],
                               capture_output=True, timeout=20)
            if r.returncode == 0:
                break
            time.sleep(0.1)
        assert r.stdout == b"busybox in a Fresco VM\n"
        got = subprocess.run(["curl", "-sf", f"{url}/big.bin"],
                             capture_output=True, timeout=60)
        assert got.returncode == 0
        assert hashlib.sha256(got.stdout).hexdigest() == digest
        many = [subprocess.Popen(["curl", "-sf", f"{url}/index.html"],
                                 stdout=subprocess.PIPE) for _ in range(8)]
        assert [c.communicate(timeout=30)[0] for c in many] == \
            [b"busybox in a Fresco VM\n"] * 8
        missing = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                                  "%{http_code}", f"{url}/missing"],
                                 capture_output=True, text=True, timeout=20)
        assert missing.stdout == "404"
    finally:
        p.kill()
        _, err = p.communicate()
    # every request was answered by its own child process
    assert err.decode().count("response:200") >= 10, err


def test_busybox_nc_both_ways(busybox_cpio):
    need_kvm()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    s.settimeout(20)
    port = s.getsockname()[1]
    result = {}

    def serve():
        c, _ = s.accept()
        with c:
            c.settimeout(10)
            result["got"] = c.recv(100)
            c.sendall(b"echo:" + result["got"])

    t = threading.Thread(target=serve)
    t.start()
    p = subprocess.run([str(FRESCO), "run", busybox_cpio, "/bin/busybox",
                        "nc", "10.0.2.2", str(port)], input=b"hello nc\n",
                       capture_output=True, timeout=30)
    t.join()
    s.close()
    assert result["got"] == b"hello nc\n"
    assert (p.returncode, p.stdout) == (0, b"echo:hello nc\n")


@pytest.fixture
def tap():
    """A TAP device on 10.0.99.1/24 for the guest's 10.0.99.2 (needs root,
    as creating any network device does)."""
    if os.geteuid() != 0:
        pytest.skip("creating a TAP device needs root")
    name = f"ftap{os.getpid() % 100000}"
    subprocess.run(["ip", "tuntap", "add", "dev", name, "mode", "tap"],
                   check=True)
    try:
        subprocess.run(["ip", "addr", "add", "10.0.99.1/24", "dev", name],
                       check=True)
        subprocess.run(["ip", "link", "set", name, "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "link", "del", name], capture_output=True)


TAP_ARGS = ["--ip", "10.0.99.2/24", "--gateway", "10.0.99.1"]


@contextmanager
def guest_httpd(net_args, root="/"):
    p = subprocess.Popen([str(FRESCO), "run", *net_args,
                          guest_program("musl", "httpd"), "80", root],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline() == f"serving {root} on 80\n".encode()
        yield p
    finally:
        p.kill()
        p.wait()


def test_tap_ping_curl_and_wrk(tap):
    """The guest on a TAP device answers ping, serves curl, and takes
    wrk's 64 connections for 10 s without a socket error."""
    need_kvm()
    with guest_httpd(["--net", f"tap:{tap}", *TAP_ARGS]):
        p = subprocess.run(["ping", "-c", "3", "-W", "2", "10.0.99.2"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0 and " 0% packet loss" in p.stdout, p.stdout
        r = subprocess.run(["curl", "-sf", "http://10.0.99.2/"],
                           capture_output=True, text=True, timeout=20)
        assert r.stdout == "hello from a Fresco VM\n"
        w = subprocess.run(["wrk", "-c", "64", "-t", "2", "-d", "10s",
                            "http://10.0.99.2/"], capture_output=True,
                           text=True, timeout=60)
        assert w.returncode == 0, w.stderr
        assert "requests in" in w.stdout, w.stdout
        assert "Socket errors" not in w.stdout, w.stdout
        assert "Non-2xx" not in w.stdout, w.stdout


def test_tap_a_closed_udp_port_is_refused(tap):
    """A datagram to a port no guest socket has: the guest answers ICMP
    port unreachable, which the host's connected socket reports."""
    need_kvm()
    with guest_httpd(["--net", f"tap:{tap}", *TAP_ARGS]):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.connect(("10.0.99.2", 9))
        s.send(b"anyone?")
        with pytest.raises(ConnectionRefusedError):
            s.recv(64)
        s.close()


def inet_csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i:i + 2], "big")
            for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def test_tap_a_connect_icmp_calls_unreachable_fails_at_once(tap,
                                                            busybox_cpio):
    """The gateway answers the guest's SYN with ICMP host unreachable
    (crafted here, as a router would send it): busybox nc fails with
    "No route to host" at once, not after two minutes of SYNs."""
    need_kvm()
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                          socket.htons(0x0800))
    sniff.bind((tap, 0))
    sniff.settimeout(30)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    answered = []

    def router():
        while True:
            pkt = sniff.recv(65535)  # from the IPv4 header on
            hl = (pkt[0] & 15) * 4
            if (pkt[9] == 6 and pkt[16:20] == bytes([198, 51, 100, 7])
                    and pkt[hl + 13] & 0x02):
                icmp = bytearray([3, 1, 0, 0, 0, 0, 0, 0]) + pkt[:hl + 8]
                icmp[2:4] = inet_csum(bytes(icmp)).to_bytes(2, "big")
                raw.sendto(bytes(icmp), ("10.0.99.2", 0))
                answered.append(1)
                return

    t = threading.Thread(target=router, daemon=True)
    t.start()
    try:
        p = subprocess.run([str(FRESCO), "run", "--net", f"tap:{tap}",
                            *TAP_ARGS, busybox_cpio, "/bin/busybox", "nc",
                            "198.51.100.7", "80"], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
    finally:
        sniff.close()
        raw.close()
    assert answered
    assert p.returncode != 0
    assert b"No route to host" in p.stderr, p.stderr


def ip_packet(proto, payload, *, frag=0x4000, total=None, bad_sum=False):
    """An IPv4 packet from the host (10.0.99.1) to the guest (10.0.99.2)."""
    h = bytearray(20)
    h[0] = 0x45
    h[2:4] = (total if total is not None else 20 + len(payload)).to_bytes(
        2, "big")
    h[6:8] = frag.to_bytes(2, "big")
    h[8], h[9] = 64, proto
    h[12:16] = bytes([10, 0, 99, 1])
    h[16:20] = bytes([10, 0, 99, 2])
    h[10:12] = (inet_csum(bytes(h)) ^ (1 if bad_sum else 0)).to_bytes(
        2, "big")
    return bytes(h) + payload


def with_sum(proto, segment, at, bad=False):
    """(segment) with its TCP or UDP checksum at (at) filled in, or
    wrong."""
    pseudo = bytes([10, 0, 99, 1, 10, 0, 99, 2, 0, proto]) + \
        len(segment).to_bytes(2, "big")
    seg = bytearray(segment)
    seg[at:at + 2] = b"\0\0"
    c = inet_csum(pseudo + bytes(seg)) ^ (1 if bad else 0)
    seg[at:at + 2] = c.to_bytes(2, "big")
    return bytes(seg)


def snmp_of(text):
    """/proc/net/snmp's text as {"Tcp": {"InErrs": 0, ...}, ...}."""
    lines = text.splitlines()
    out = {}
    for names, values in zip(lines[::2], lines[1::2]):
        proto, *fields = names.split()
        vproto, *nums = values.split()
        assert proto == vproto and len(fields) == len(nums), (names, values)
        out[proto.rstrip(":")] = dict(zip(fields, map(int, nums)))
    return out


def busybox_on_tap(tap, cpio, seconds, *then):
    """busybox in a guest on (tap), once it has said "ready": it waits
    (seconds), then runs the applets (then)."""
    script = "echo ready; " + \
        f"/bin/busybox sleep {seconds}" + \
        "".join(f"; /bin/busybox {c}" for c in then)
    p = subprocess.Popen([str(FRESCO), "run", "--net", f"tap:{tap}",
                          *TAP_ARGS, cpio, "/bin/busybox", "sh", "-c",
                          script], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if line != "ready\n":
        p.kill()
        _, err = p.communicate()
        pytest.fail(f"the guest did not start: {line!r} {err}")
    return p


def test_tap_malformed_packets_are_dropped_and_counted(tap, busybox_cpio):
    """Packets put on the link with bad IP, UDP, TCP and ICMP checksums,
    lengths past their packet, TCP option garbage and a fragment: the
    guest drops each, counts it in /proc/net/snmp under Linux's names,
    and still answers ping."""
    need_kvm()
    udp = with_sum(17, b"\x30\x39\x00\x09\x00\x0c\x00\x00data", 6)
    tcp = bytearray(20)
    tcp[0:4] = b"\x30\x39\x00\x50"  # to port 80
    tcp[12], tcp[13] = 5 << 4, 0x02  # a SYN
    garbage = bytearray(tcp + b"\x02\x00\x00\x00")  # MSS, length 0
    garbage[12] = 6 << 4
    short_off = bytearray(tcp)
    short_off[12] = 4 << 4  # a header shorter than TCP's
    echo = bytearray(b"\x08\x00\x00\x00\x12\x34\x00\x01ping")
    echo[2:4] = (inet_csum(bytes(echo)) ^ 1).to_bytes(2, "big")
    bad = [
        ip_packet(17, udp, bad_sum=True),           # Ip InHdrErrors
        ip_packet(17, udp, total=200),              # Ip InHdrErrors
        ip_packet(17, udp, frag=0x2000),            # Ip ReasmFails
        ip_packet(17, with_sum(17, udp, 6, bad=True)),  # Udp: checksum
        ip_packet(17, udp[:4] + b"\x00\x40" + udp[6:]),  # Udp: length
        ip_packet(6, with_sum(6, bytes(tcp), 16, bad=True)),  # Tcp: sum
        ip_packet(6, with_sum(6, bytes(garbage), 16)),  # Tcp: options
        ip_packet(6, with_sum(6, bytes(short_off), 16)),  # Tcp: offset
        ip_packet(1, bytes(echo)),                  # Icmp: checksum
    ]
    p = busybox_on_tap(tap, busybox_cpio, 2, "cat /proc/net/snmp")
    try:
        link = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        link.bind((tap, 0))
        mac = open(f"/sys/class/net/{tap}/address").read().strip()
        head = b"\xff" * 6 + bytes.fromhex(mac.replace(":", "")) + \
            b"\x08\x00"
        for pkt in bad:
            link.send(head + pkt)
        link.close()
        ping = subprocess.run(["ping", "-c", "1", "-W", "2", "10.0.99.2"],
                              capture_output=True, text=True, timeout=30)
        out, err = p.communicate(timeout=30)
    finally:
        p.kill()
        p.wait()
    assert ping.returncode == 0, ping.stdout
    assert p.returncode == 0, out + err
    m = snmp_of(out)
    assert m["Ip"]["InHdrErrors"] == 2 and m["Ip"]["ReasmFails"] == 1, m
    assert (m["Udp"]["InErrors"], m["Udp"]["InCsumErrors"]) == (2, 1), m
    assert (m["Tcp"]["InErrs"], m["Tcp"]["InCsumErrors"]) == (3, 1), m
    assert (m["Icmp"]["InErrors"], m["Icmp"]["InCsumErrors"]) == (1, 1), m
    assert m["Icmp"]["InEchos"] >= 1 and m["Icmp"]["OutEchoReps"] >= 1, m


def test_tap_jumbo_frames_echo_at_the_links_mtu(tap, busybox_cpio):
    """A TAP device with a 9000-byte MTU: the guest takes the link's MTU
    and answers a ping of 8000 bytes that may not be fragmented (it
    answered nothing over 1500 bytes before, counting each as bad)."""
    need_kvm()
    subprocess.run(["ip", "link", "set", tap, "mtu", "9000"], check=True)
    p = busybox_on_tap(tap, busybox_cpio, 3, "ip link show eth0",
                       "cat /proc/net/snmp")
    try:
        ping = subprocess.run(["ping", "-c", "2", "-i", "0.2", "-W", "2",
                               "-s", "8000", "-M", "do", "10.0.99.2"],
                              capture_output=True, text=True, timeout=30)
        out, err = p.communicate(timeout=30)
    finally:
        p.kill()
        p.wait()
    assert ping.returncode == 0 and "8008 bytes from 10.0.99.2" in \
        ping.stdout, ping.stdout
    assert "mtu 9000" in out, out
    m = snmp_of(out[out.index("Ip:"):])
    assert m["Icmp"]["InErrors"] == 0 and m["Icmp"]["OutEchoReps"] >= 2, m


def answers_ping(seconds, stop=None):
    """Whether 10.0.99.2 answers a ping within (seconds), asked every 0.2
    s (until (stop), an Event, is set)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (stop and stop.is_set()):
        if subprocess.run(["ping", "-c", "1", "-W", "1", "10.0.99.2"],
                          capture_output=True).returncode == 0:
            return True
        time.sleep(0.2)
    return False


def test_tap_a_guest_that_opens_no_socket_answers_ping(tap):
    """On a TAP link the host reaches the guest by its address, so the
    device comes up at boot: a program that never touches the network
    (it only sleeps) leaves a guest that answers ARP and ping. Before,
    the device waited for the program's first socket."""
    need_kvm()
    p = subprocess.Popen([str(FRESCO), "run", "--net", f"tap:{tap}",
                          *TAP_ARGS, guest_program("musl", "sleeper"), "",
                          "20"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "sleeping\n"
        assert answers_ping(10)
    finally:
        p.kill()
        p.wait()


def test_tap_a_vm_too_small_for_the_buffers_at_boot_still_runs(tap):
    """In 3 MiB the device's 1.3 MiB of buffers at boot would leave the
    program no room (the kernel could not even open the console): such a
    VM brings the device up at the first socket, as before."""
    need_kvm()
    r = fresco("run", "-m", "3M", "--net", f"tap:{tap}", *TAP_ARGS,
               guest_program("musl", "hello"))
    assert (r.status, r.stdout) == (0, "Hello!\n"), r.stderr


def test_tap_a_guest_that_opens_no_socket_answers_ping_under_qemu(
        tap, tmp_path):
    """The same under QEMU, given fresco.link=up as fresco run gives it
    for a TAP device."""
    answered, done = [], threading.Event()
    pinger = threading.Thread(target=lambda: answered.append(
        answers_ping(240, done)), daemon=True)
    pinger.start()
    try:
        r = qemu(guest_program("musl", "sleeper"), ["", "8"],
                 tmp_path=tmp_path, net=tap, timeout=240)
    finally:
        done.set()
        pinger.join(timeout=5)
    assert r.status == 0, (r.stdout, r.log)
    assert answered == [True]


def test_tap_a_device_another_vm_has_is_refused(tap):
    """A TAP device carries one VM: a second fresco run on it, detached
    or not, ends at once with a clear error, and the first goes on."""
    need_kvm()
    first = subprocess.Popen([str(FRESCO), "run", "--net", f"tap:{tap}",
                              *TAP_ARGS, guest_program("musl", "sleeper"),
                              "", "20"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline() == "sleeping\n"
        for detach in ([], ["-d"]):
            r = fresco("run", *detach, "--net", f"tap:{tap}", *TAP_ARGS,
                       guest_program("musl", "hello"))
            assert (r.status, r.stdout, r.stderr) == (
                125, "", f"fresco: --net tap:{tap}: in use by another "
                "program; another VM may have it; give each its own\n")
        assert first.poll() is None and answers_ping(10)
    finally:
        first.kill()
        first.wait()


def test_tap_a_connect_to_an_address_nobody_has_fails(tap, busybox_cpio):
    """Nothing on the link answers ARP for 10.0.99.77: as on Linux, the
    connect fails with "No route to host" once the guest gives up asking
    (3 s), not after two minutes of SYNs."""
    need_kvm()
    p = subprocess.run([str(FRESCO), "run", "--net", f"tap:{tap}",
                        *TAP_ARGS, busybox_cpio, "/bin/busybox", "nc",
                        "10.0.99.77", "80"], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=60)
    assert p.returncode != 0
    assert b"No route to host" in p.stderr, p.stderr


def test_tap_datagrams_carry_the_sockets_tos_and_ttl(tap):
    """udp.c's echo client sets IP_TOS 0x28 and IP_TTL 33: over TAP the
    host sees both in the IP headers of what it receives."""
    need_kvm()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
    s.setsockopt(socket.IPPROTO_IP, 12, 1)  # IP_RECVTTL: not in Python
    s.bind(("10.0.99.1", 0))
    marks = set()

    def echo():
        data, anc, _, peer = s.recvmsg(65536, 64)
        for level, kind, value in anc:
            if kind == socket.IP_TOS:
                marks.add(("tos", value[0]))
            elif kind == socket.IP_TTL:
                marks.add(("ttl", int.from_bytes(value[:4], "little")))
        s.sendto(data, peer)

    with serving(s, echo) as port:
        r = fresco("run", "--net", f"tap:{tap}", *TAP_ARGS,
                   guest_program("musl", "udp"), "10.0.99.1", port)
    passed(r, "udp")
    assert marks == {("tos", 0x28), ("ttl", 33)}, marks


def test_tap_takes_its_address_from_a_dhcp_server(tap, tmp_path,
                                                  monkeypatch):
    """With --net tap and no --ip, the guest asks the network: dnsmasq on
    the TAP hands out an address, a router and a DNS server, and the guest
    reaches the host from that address; busybox httpd served there answers
    ping and curl, and `fresco inspect` shows that address, which the
    monitor learned from the guest's ARP."""
    need_kvm()
    monkeypatch.setenv("FRESCO_RUNTIME", str(tmp_path / "run"))
    d = subprocess.Popen(
        ["dnsmasq", "--no-daemon", "--port=0", "--no-resolv",
         f"--interface={tap}", "--bind-interfaces",
         "--dhcp-range=10.0.99.50,10.0.99.59,255.255.255.0,1h",
         "--dhcp-option=option:router,10.0.99.1",
         "--dhcp-option=option:dns-server,10.0.99.1",
         f"--dhcp-leasefile={tmp_path}/leases",
         f"--pid-file={tmp_path}/pid"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        cpio = busybox_root(tmp_path)
        with tcp_echo_server_on("10.0.99.1") as port:
            r = fresco("run", "--net", f"tap:{tap}", cpio, "/bin/busybox",
                       "sh", "-c", "cat /etc/hosts /etc/resolv.conf; "
                       f"echo from-dhcp | nc 10.0.99.1 {port}", timeout=60)
        leases = (tmp_path / "leases").read_text().split()
        assert r.status == 0, r.stderr
        assert f"{leases[2]}\tfresco\n" in r.stdout, (r.stdout, leases)
        assert leases[2].startswith("10.0.99.5"), leases
        assert "nameserver 10.0.99.1\n" in r.stdout, r.stdout
        assert r.stdout.endswith("from-dhcp\n"), r.stdout

        # busybox httpd at that address: ping and curl reach it
        www = tmp_path / "root" / "www"
        www.mkdir()
        (www / "index.html").write_text("busybox over TAP\n")
        cpio = busybox_root(tmp_path)  # again, now with /www
        r = fresco("run", "-d", "--net", f"tap:{tap}", cpio,
                   "/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www")
        assert r.status == 0, r.stderr
        vm = r.stdout.strip()
        try:
            ip = None
            for _ in range(100):  # the second lease is this VM's
                lines = (tmp_path / "leases").read_text().splitlines()
                if len(lines) > 1:
                    ip = [ln.split()[2] for ln in lines
                          if ln.split()[2] != leases[2]][0]
                    r = subprocess.run(["curl", "-sf", "-m", "2",
                                        f"http://{ip}/index.html"],
                                       capture_output=True, text=True)
                    if r.returncode == 0:
                        break
                time.sleep(0.1)
            assert ip and r.stdout == "busybox over TAP\n", ip
            ping = subprocess.run(["ping", "-c", "3", "-W", "2", ip],
                                  capture_output=True, text=True,
                                  timeout=30)
            assert " 0% packet loss" in ping.stdout, ping.stdout
            net = json.loads(fresco("inspect", vm).stdout)["Network"]
            assert net["ip"] == ip, (net, ip)
        finally:
            fresco("rm", "-f", vm)
    finally:
        d.terminate()
        d.wait()


def test_tap_bulk_transfer_both_ways(tap):
    """50 MiB each way through a host echo server on the TAP's address."""
    need_kvm()
    with tcp_echo_server_on("10.0.99.1") as port:
        r = fresco("run", "--net", f"tap:{tap}", *TAP_ARGS,
                   guest_program("musl", "tcp"), "client", "10.0.99.1",
                   port, "50", timeout=120)
    passed(r, "tcp")


def test_tap_bulk_transfer_under_qemu(tap, tmp_path):
    """QEMU's virtio-net on a TAP device offers the same offloads: the
    guest's driver sends and takes 64 KiB frames from a device it was not
    written with, 20 MiB each way."""
    with tcp_echo_server_on("10.0.99.1") as port:
        r = qemu(guest_program("musl", "tcp"),
                 ["client", "10.0.99.1", str(port), "20"],
                 tmp_path=tmp_path, net=tap, timeout=240)
    passed(r, "tcp")


OFFLOADS = {"csum", "tso4", "guest_csum", "guest_tso4", "mrg_rxbuf"}


@contextmanager
def detached_file_server(tmp_path, big_file, *net_args):
    """The guest's HTTP server, detached, serving (big_file)'s directory
    from a volume; yields its VM id once it answers at (url)."""
    src, _ = big_file
    img = tmp_path / "web.img"
    subprocess.run(["/sbin/mke2fs", "-q", "-F", "-t", "ext2", "-d", src,
                    img, "200M"], check=True)
    r = fresco("run", "-d", "-m", "128M", "-v", f"{img}:/srv:ro",
               *net_args, guest_program("musl", "httpd"), "80", "/srv")
    assert r.status == 0, r.stderr
    vm = r.stdout.strip()
    try:
        yield vm
    finally:
        fresco("rm", "-f", vm)


def fetch_intact(url, digest):
    for _ in range(100):  # until the server listens
        got = subprocess.run(["curl", "-sf", url], capture_output=True,
                             timeout=60)
        if got.returncode != 7:  # 7: could not connect
            break
        time.sleep(0.1)
    assert got.returncode == 0
    assert hashlib.sha256(got.stdout).hexdigest() == digest


def test_tap_passes_whole_64k_frames_both_ways(tap, tmp_path, big_file,
                                               monkeypatch):
    """Over TAP the guest and the host's kernel hand each other TCP frames
    of up to 64 KiB with their checksums left open (virtio-net's
    offloads): 100 MiB from the guest's server arrive intact, 1 MiB goes
    in, and inspect shows the offloads taken, big frames both ways, the
    TAP, the guest's MAC and the address its ARP gave."""
    need_kvm()
    monkeypatch.setenv("FRESCO_RUNTIME", str(tmp_path / "run"))
    with detached_file_server(tmp_path, big_file, "--net", f"tap:{tap}",
                              *TAP_ARGS) as vm:
        fetch_intact("http://10.0.99.2/big.bin", big_file[1])
        with socket.create_connection(("10.0.99.2", 80), timeout=20) as c:
            try:  # a request too long: the server gives up on it
                c.sendall(b"GET /" + b"x" * (1 << 20))
            except OSError:
                pass
        net = json.loads(fresco("inspect", vm).stdout)["Network"]
        assert set(net["offloads"]) == OFFLOADS, net
        assert (net["mode"], net["ip"], net["ports"]) == (
            f"tap:{tap}", "10.0.99.2", []), net
        assert re.fullmatch(r"52:54:00(:[0-9a-f]{2}){3}", net["mac"]), net
        assert net["mtu"] == 1500, net
        assert net["tx_bytes"] > 100 << 20, net
        assert net["tx_big"] > 0 and net["rx_big"] > 0, net


def test_user_networking_is_a_64k_wide_link(tmp_path, big_file,
                                           monkeypatch):
    """libslirp ends the guest's connections itself, so its link is 64
    KiB wide (MTU 65520, as slirp4netns and passt): TCP segments of that
    size go each way, and curl through a published port gets the file
    intact."""
    need_kvm()
    monkeypatch.setenv("FRESCO_RUNTIME", str(tmp_path / "run"))
    port = free_port(socket.SOCK_STREAM)
    with detached_file_server(tmp_path, big_file, "-p",
                              f"127.0.0.1:{port}:80") as vm:
        fetch_intact(f"http://127.0.0.1:{port}/big.bin", big_file[1])
        # a request of 3 KiB in one send: libslirp reads it whole and
        # gives it to the guest as one segment
        with socket.create_connection(("127.0.0.1", port), timeout=20) as c:
            c.sendall(b"GET / HTTP/1.1\r\nX-Pad: " + b"p" * 3000 +
                      b"\r\nConnection: close\r\n\r\n")
            assert c.recv(64).startswith(b"HTTP/1.1 ")
        with socket.create_connection(("127.0.0.1", port), timeout=20) as c:
            try:  # a request too long: the server gives up on it
                c.sendall(b"GET /" + b"x" * (1 << 20))
            except OSError:
                pass
        net = json.loads(fresco("inspect", vm).stdout)["Network"]
        assert (net["mode"], net["ip"]) == ("user", "10.0.2.15"), net
        assert net["ports"] == [f"127.0.0.1:{port}->80/tcp"], net
        assert net["mtu"] == 65520, net
        assert net["tx_bytes"] > 100 << 20, net
        # far fewer frames than 1500-byte ones would take
        assert net["tx_frames"] < (100 << 20) / 8192, net
        assert net["tx_big"] > 0 and net["rx_big"] > 0, net


def test_tap_needs_a_device_it_may_use():
    r = fresco("run", "--net", "tap:" + "x" * 20,
               guest_program("musl", "hello"))
    assert r.status == 125
    assert r.log == ["--net tap:" + "x" * 20 + ": the name is longer than "
                     "15 characters"]


# ---- a lossy link: 5% loss, delay and reordering on the host side ----

NETIMPAIR = BUILD / "tests" / "netimpair"
PATTERN = bytes((k * 7 + (k >> 10)) & 0xff for k in range(65536))


@contextmanager
def impaired(tap, loss, delay_ms, reorder, mtu=None):
    """Every packet to and from (tap) through tests/tools/netimpair.c on
    a netfilter queue: what tc netem does, for a host kernel without
    sch_netem; with (mtu), a router whose link takes no more. Yields the
    impairer's counts once it stopped."""
    queue = str(1000 + os.getpid() % 30000)
    rules = [["INPUT", "-i", tap], ["OUTPUT", "-o", tap]]
    for r in rules:
        subprocess.run(["iptables", "-I", r[0], *r[1:], "-j", "NFQUEUE",
                        "--queue-num", queue], check=True)
    extra = [str(mtu)] if mtu else []
    p = subprocess.Popen([str(NETIMPAIR), queue, str(loss), str(delay_ms),
                          str(reorder), *extra], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    counts = {}
    try:
        assert p.stdout.readline() == "ready\n", p.stderr.read()
        yield counts
    finally:
        p.terminate()
        _, err = p.communicate(timeout=10)
        for r in rules:
            subprocess.run(["iptables", "-D", r[0], *r[1:], "-j", "NFQUEUE",
                            "--queue-num", queue], capture_output=True)
        words = err.split()
        counts.update(zip(words[0::2], map(int, words[1::2])))


def pattern_peer(mode, mib, address="10.0.99.1"):
    """A host end on (address) (the TAP's, by default) for the guest's
    put (we check what arrives) or get (we send the pattern)."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((address, 0))
    srv.listen(1)
    result = {}

    def serve():
        c, _ = srv.accept()
        if mode == "put":
            got, intact = 0, True
            while True:
                d = c.recv(1 << 16)
                if not d:
                    break
                off = got % 65536
                want = (PATTERN[off:] + PATTERN * 2)[:len(d)]
                intact &= d == want
                got += len(d)
            result.update(got=got, intact=intact)
        else:
            for _ in range(mib * 16):
                c.sendall(PATTERN)
            c.shutdown(socket.SHUT_WR)
            c.recv(1)
        c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return srv, t, result


def test_tap_transfers_survive_loss_delay_and_reordering(tap):
    """50 MiB each way over a link that drops 5% of the packets both
    ways, delays them 1 ms and holds 5% back three times as long, so
    that later ones overtake them: TCP's recovery (SACK, fast
    retransmit, probes, timeouts) delivers every byte, in order."""
    need_kvm()
    mib = 50
    with impaired(tap, 5, 1, 5) as counts:
        for mode in ("put", "get"):
            srv, t, result = pattern_peer(mode, mib)
            r = fresco("run", "--net", f"tap:{tap}", *TAP_ARGS,
                       guest_program("musl", "tcp"), mode, "10.0.99.1",
                       str(srv.getsockname()[1]), "-", str(mib),
                       timeout=240)
            t.join(timeout=30)
            srv.close()
            assert r.status == 0, (mode, r.stdout, r.log)
            lines = r.stdout.splitlines()
            assert lines[0] == f"{mib << 20} bytes", r.stdout
            # what the guest's TCP did (TCP_INFO): it resent what was
            # lost, and held what came out of order
            words = lines[1].split()
            assert words[0] == "tcp_info", r.stdout
            info = dict(zip(words[1::2], map(int, words[2::2])))
            if mode == "put":
                assert result == {"got": mib << 20, "intact": True}
                assert info["bytes_acked"] >= mib << 20, info
                assert info["bytes_retrans"] > 0, info
                assert info["total_retrans"] > 0, info
            else:
                assert info["bytes_received"] == mib << 20, info
                assert info["rcv_ooopack"] > 0, info
    # the link really was that bad
    assert counts["dropped"] > 0.04 * counts["seen"], counts
    assert counts["reordered"] > 0.04 * counts["seen"], counts


def test_tap_a_smaller_mtu_on_the_path_is_learnt_from_icmp(tap):
    """A router on the way takes 1000-byte packets and says so (ICMP
    fragmentation needed, RFC 1191) for each bigger one it drops: the
    guest's TCP cuts its segments and the upload arrives whole. Without
    path MTU discovery every full-sized segment would be dropped for
    ever; a UDP socket with IP_RECVERR hears EMSGSIZE with the MTU, and
    IP_MTU says it."""
    need_kvm()
    mib = 8
    with impaired(tap, 0, 0, 0, mtu=1000) as counts:
        srv, t, result = pattern_peer("put", mib)
        r = fresco("run", "--net", f"tap:{tap}", *TAP_ARGS,
                   guest_program("musl", "tcp"), "put", "10.0.99.1",
                   str(srv.getsockname()[1]), "-", str(mib), timeout=60)
        t.join(timeout=30)
        srv.close()
        assert r.status == 0, (r.stdout, r.log)
        assert result == {"got": mib << 20, "intact": True}
        words = r.stdout.splitlines()[1].split()
        info = dict(zip(words[1::2], map(int, words[2::2])))
        assert 0 < info["snd_mss"] <= 960, info
        r = fresco("run", "--net", f"tap:{tap}", *TAP_ARGS,
                   guest_program("musl", "udp"), "pmtu", "10.0.99.1", "9",
                   timeout=60)
        # EMSGSIZE with the router's MTU; IP_MTU says it; a datagram
        # too big for it is refused at once
        assert r.stdout == f"pmtu {errno.EMSGSIZE} 1000 1000 " \
                           f"{errno.EMSGSIZE}\n", r.stdout
    assert counts["toobig"] >= 2, counts


def test_tap_multicast_both_ways(tap):
    """A group over TAP: the guest joins it (IGMP tells the link) and
    hears a datagram the host sends to it; the host, a member on its TAP,
    hears the guest's."""
    need_kvm()
    group, port = "239.255.7.8", 47008
    host = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    host.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                    socket.inet_aton("10.0.99.1"))
    p = subprocess.Popen([str(FRESCO), "run", "--net", f"tap:{tap}",
                          *TAP_ARGS, guest_program("musl", "udp"),
                          "mcast-recv", group, str(port)],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "joined\n"
        for _ in range(50):
            host.sendto(b"from the host", (group, port))
            if p.poll() is not None:
                break
            time.sleep(0.1)
        out, _ = p.communicate(timeout=30)
    finally:
        p.kill()
        p.wait()
        host.close()
    assert p.returncode == 0 and out == "got from the host from 10.0.99.1\n", out
    member = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    member.bind(("0.0.0.0", port))
    member.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                      socket.inet_aton(group) + socket.inet_aton("10.0.99.1"))
    member.settimeout(10)
    try:
        r = fresco("run", "--net", f"tap:{tap}", *TAP_ARGS,
                   guest_program("musl", "udp"), "mcast-send", group,
                   str(port), timeout=60)
        assert r.status == 0, r.log
        data, sender = member.recvfrom(64)
    finally:
        member.close()
    assert (data, sender[0]) == (b"to the group", "10.0.99.2")


def test_user_networking_carries_a_download():
    """64 MiB from the host to the guest through libslirp, whose 64 KiB
    link and unscaled window let one segment nearly fill the window: the
    guest's program reading it must reopen the window at once (its ACK
    of a single segment would wait 40 ms), and every byte arrives."""
    need_kvm()
    mib = 64
    srv, t, _ = pattern_peer("get", mib, "127.0.0.1")
    r = fresco("run", guest_program("musl", "tcp"), "get", "10.0.2.2",
               str(srv.getsockname()[1]), "-", str(mib), timeout=30)
    t.join(timeout=30)
    srv.close()
    assert r.status == 0, (r.stdout, r.log)
    assert r.stdout.splitlines()[0] == f"{mib << 20} bytes", r.stdout
