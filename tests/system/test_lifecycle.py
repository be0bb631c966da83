"""test_lifecycle.py: detached VMs as a person manages them: run -d with
names, ps, logs, stop (the program's SIGTERM handler runs), kill, wait,
rm, inspect; a monitor killed with -9; ten VMs started at once."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import FRESCO, fresco, guest_program, need_kvm

SLEEPER = guest_program("musl", "sleeper")
HELLO = guest_program("musl", "hello")


@pytest.fixture(autouse=True)
def private_runtime(tmp_path, monkeypatch):
    need_kvm()
    monkeypatch.setenv("FRESCO_RUNTIME", str(tmp_path / "run"))
    monkeypatch.setenv("FRESCO_STORE", str(tmp_path / "store"))


def until(check, seconds=20):
    """Poll (check) until it returns something true; fail after (seconds)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"gave up waiting after {seconds} s")


def ps(all_=False):
    """{name: status} from `fresco ps`, read by the header's columns."""
    r = fresco("ps", *(["-a"] if all_ else []))
    assert r.status == 0
    lines = r.stdout.splitlines()
    head = lines[0]
    cols = ["VM ID", "NAME", "IMAGE", "STATUS", "CREATED", "MEMORY"]
    starts = [head.index(c) for c in cols]
    assert starts == sorted(starts), head
    rows = {}
    for line in lines[1:]:
        cells = [line[a:b].strip() for a, b in
                 zip(starts, starts[1:] + [len(line)])]
        assert cells[4].endswith(" ago") and cells[5].endswith("M"), line
        rows[cells[1]] = cells[3]
    return rows


def detach(*args):
    r = fresco("run", "-d", *args)
    assert r.status == 0, r.stderr
    assert len(r.stdout.strip()) == 64, r.stdout
    return r.stdout.strip()


def test_a_detached_vm_that_cannot_be_made_fails_the_run():
    """A VM that cannot be made (here: its TAP device does not exist)
    fails `fresco run -d` as it would fail `fresco run`: status 125, the
    reason on stderr, no ID printed and no VM left behind. Before, the
    ID came back with status 0 and the error sat in the VM's log."""
    r = fresco("run", "-d", "--name", "broken", "--net", "tap:nosuchtap0",
               HELLO)
    assert (r.status, r.stdout) == (125, ""), r.stderr
    assert r.stderr == ("fresco: --net tap:nosuchtap0: no such network "
                        "device; create it first (ip tuntap add dev "
                        "nosuchtap0 mode tap user $USER)\n")
    assert ps(all_=True) == {}
    detach("--name", "broken", HELLO)  # the name is free again


def test_detached_vms_are_listed_logged_stopped_and_removed():
    detach("--name", "one", SLEEPER, "handle")
    detach("--name", "two", SLEEPER)
    until(lambda: fresco("logs", "one").stdout == "sleeping\n")
    until(lambda: fresco("logs", "two").stdout == "sleeping\n")
    states = ps()
    assert set(states) == {"one", "two"}
    assert all(s.startswith("Up ") for s in states.values()), states

    r = fresco("stop", "one")
    assert (r.status, r.stdout) == (0, "one\n")
    assert fresco("wait", "one").stdout == "0\n"  # its handler exited 0
    assert fresco("logs", "one").stdout == "sleeping\ngot SIGTERM\n"

    assert fresco("kill", "two").stdout == "two\n"
    assert fresco("wait", "two").stdout == "137\n"

    assert ps() == {}
    assert ps(all_=True) == {"one": "Exited (0)", "two": "Exited (137)"}
    r = fresco("rm", "one", "two")
    assert (r.status, r.stdout) == (0, "one\ntwo\n")
    assert ps(all_=True) == {}


def test_logs_follow_ends_with_the_vm():
    detach("--name", "f", SLEEPER, "handle")
    until(lambda: fresco("logs", "f").stdout)
    follower = subprocess.Popen([str(FRESCO), "logs", "-f", "f"],
                                stdout=subprocess.PIPE)
    assert follower.stdout.readline() == b"sleeping\n"
    fresco("stop", "f")
    out, _ = follower.communicate(timeout=30)
    assert out == b"got SIGTERM\n"
    assert follower.returncode == 0


def test_logs_tail():
    detach("--name", "t", guest_program("glibc", "files"))
    assert fresco("wait", "t").stdout == "0\n"
    full = fresco("logs", "t").stdout.splitlines(keepends=True)
    assert len(full) > 10
    assert fresco("logs", "--tail", "2", "t").stdout == "".join(full[-2:])
    assert fresco("logs", "--tail", "0", "t").stdout == ""


def test_a_monitor_killed_with_9_shows_as_exited():
    detach("--name", "victim", SLEEPER)
    until(lambda: fresco("logs", "victim").stdout)
    state = json.loads(fresco("inspect", "victim").stdout)
    assert state["State"]["Running"] is True
    os.kill(state["State"]["Pid"], signal.SIGKILL)
    until(lambda: ps(all_=True).get("victim") == "Exited (monitor gone)")
    r = fresco("wait", "victim")
    assert r.status == 1
    assert r.stderr == ("fresco: VM victim ended without an exit status "
                        "(its monitor is gone)\n")


def test_rm_of_a_running_vm_needs_force():
    detach("--name", "busy", SLEEPER)
    r = fresco("rm", "busy")
    assert r.status == 1
    assert r.stderr == ("fresco: VM busy is running; stop it first or use "
                        "rm -f\n")
    assert fresco("rm", "-f", "busy").status == 0
    assert ps(all_=True) == {}


def test_names_are_unique_and_checked():
    vm = detach("--name", "same", HELLO)
    r = fresco("run", "-d", "--name", "same", HELLO)
    assert r.status == 125
    assert r.stderr == (f"fresco: the name 'same' is in use by VM {vm[:12]}; "
                        "remove it first (fresco rm same)\n")
    r = fresco("run", "-d", "--name", "bad/name", HELLO)
    assert r.status == 125
    assert "--name 'bad/name'" in r.stderr


def test_ids_and_prefixes_find_vms():
    vm = detach(HELLO)
    assert fresco("wait", vm).stdout == "0\n"
    assert fresco("wait", vm[:6]).stdout == "0\n"
    assert fresco("logs", vm[:12]).stdout == "Hello!\n"
    r = fresco("logs", "nothing-like-it")
    assert (r.status, r.stderr) == (1, "fresco: no VM 'nothing-like-it' "
                                       "(see fresco ps -a)\n")


def test_run_rm_removes_the_vm_when_it_ends():
    detach("--rm", "--name", "gone", HELLO)
    until(lambda: "gone" not in ps(all_=True))


def test_ten_vms_started_at_once_are_all_listed():
    starters = [subprocess.Popen([str(FRESCO), "run", "-d", HELLO, str(k)],
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
                for k in range(10)]
    ids = []
    for p in starters:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        ids.append(out.decode().strip())
    assert len(set(ids)) == 10
    for vm in ids:
        assert fresco("wait", vm).stdout == "0\n"
    states = ps(all_=True)
    assert len(states) == 10
    assert set(states.values()) == {"Exited (0)"}
    outputs = sorted(fresco("logs", vm).stdout for vm in ids)
    assert outputs == sorted(f"Hello {k}!\n" for k in range(10))


def test_inspect_an_image_and_a_vm(tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "hello").write_bytes(HELLO.read_bytes())
    (ctx / "Frescofile").write_text(
        "program: hello\nargs: [x, \"y z\"]\nenv: {A: \"1\"}\n"
        "workdir: /w\nmemory: 16M\n")
    digest = fresco("build", "-t", "hi:1", ctx).stdout.strip()
    image = json.loads(fresco("inspect", "hi:1").stdout)
    assert (image["Name"], image["Tag"], image["Digest"]) == ("hi", "1",
                                                              digest)
    assert image["Config"] == {"Program": "/bin/hello", "Args": ["x", "y z"],
                               "Env": ["A=1"], "Workdir": "/w",
                               "Memory": 16 << 20}
    vm = detach("--name", "from-image", "hi:1")
    fresco("wait", vm)
    state = json.loads(fresco("inspect", "from-image").stdout)
    assert (state["Id"], state["Image"]) == (vm, "hi:1")
    assert state["State"]["Status"] == "exited"
    assert state["State"]["ExitCode"] == 0
    assert 0 < state["BootTimeUs"] < 10_000_000


def test_console_log_is_bounded(monkeypatch):
    """Past its limit the log is rotated, one older file kept: logs still
    shows everything that fits in the two."""
    monkeypatch.setenv("FRESCO_LOG_MAX", "1K")
    # musl writes its stdout buffer every 1 KiB: several writes
    vm = detach("--name", "chatty", guest_program("musl", "files"))
    assert fresco("wait", vm).stdout == "0\n"
    run = os.environ["FRESCO_RUNTIME"]
    log = os.path.join(run, vm, "console.log")
    assert os.path.exists(log + ".1"), "the log was never rotated"
    assert os.path.getsize(log) <= 1024 + 1024  # one write past the limit
    out = fresco("logs", "chatty").stdout
    assert out.endswith("GUEST PASS files\n")


@pytest.mark.parametrize("cmd", ["ps", "logs", "stop", "kill", "rm", "wait",
                                 "inspect", "images", "rmi", "build", "run"])
def test_every_command_has_help(cmd):
    r = fresco(cmd, "--help")
    assert r.status == 0
    assert r.stdout.startswith(f"Usage: fresco {cmd}")


def control(vm, request):
    """One request to a VM's control socket; the answer as JSON."""
    import socket
    run = os.environ["FRESCO_RUNTIME"]
    # the state path can pass the 108-byte limit: go through the directory
    dirfd = os.open(os.path.join(run, vm), os.O_PATH | os.O_DIRECTORY)
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(f"/proc/self/fd/{dirfd}/control.sock")
        s.sendall(request)
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
        s.close()
    finally:
        os.close(dirfd)
    return json.loads(answer)


def test_control_socket_answers_state_and_refuses_garbage():
    vm = detach("--name", "ctl", SLEEPER, "handle")
    until(lambda: fresco("logs", "ctl").stdout)
    state = control(vm, b'{"op": "state"}\n')
    assert state["ok"] is True and state["state"] == "running"
    assert state["memory"] == 64 << 20 and state["uptime_ms"] >= 0
    assert 0 < state["boot_us"] <= state["uptime_ms"] * 1000 + 1000
    shown = json.loads(fresco("inspect", "ctl").stdout)["BootTimeUs"]
    assert shown == state["boot_us"]
    assert state["pid"] == json.loads(fresco("inspect", "ctl").stdout)[
        "State"]["Pid"]
    assert control(vm, b'{"op": "reboot"}\n') == {
        "ok": False, "error": "unknown op 'reboot'; use state, stop or "
                              "kill"}
    assert control(vm, b"{oops\n")["ok"] is False
    assert control(vm, b'{"op": 3}\n')["ok"] is False
    assert control(vm, b'{"op": "stop"}\n') == {"ok": True}
    assert fresco("wait", "ctl").stdout == "0\n"
    assert fresco("logs", "ctl").stdout == "sleeping\ngot SIGTERM\n"


def test_control_kill_ends_the_monitor():
    vm = detach("--name", "ctlkill", SLEEPER)
    until(lambda: fresco("logs", "ctlkill").stdout)
    assert control(vm, b'{"op": "kill"}\n') == {"ok": True}
    until(lambda: ps(all_=True).get("ctlkill", "").startswith("Exited"))
