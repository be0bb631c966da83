"""test_guest.py: each guest program, musl and glibc, under fresco and QEMU."""
import re
from pathlib import Path

import pytest

from conftest import fresco, guest_program, need_kvm, qemu

LIBCS = ["musl", "glibc"]

# program, arguments, environment, expected status, expected log lines
CONFORMANCE = [
    ("args", ["one", "two words", ""], ["FOO=bar"]),
    ("efault", [], []),
    ("memory", [], []),
    ("clock", [], []),
    ("random", [], []),
    ("identity", [], []),
    ("files", [], []),
    ("dirs", [], []),
    ("fds", [], []),
    ("devproc", [], []),
    ("signals", [], []),
    ("timers", [], []),
    ("fpstate", [], []),
    ("epoll", [], []),
    ("procs", [], []),
    ("unix", [], []),
    ("resolve", [], []),
    ("futex", [], []),
    ("netlink", [], []),
    ("icmp", [], []),
    ("callpatch", [], []),
]


@pytest.mark.parametrize("libc", LIBCS)
@pytest.mark.parametrize("name,args,env", CONFORMANCE,
                         ids=[c[0] for c in CONFORMANCE])
def test_conformance_program_passes(run_guest, libc, name, args, env):
    r = run_guest(guest_program(libc, name), args, env)
    failed = [line for line in r.stdout.splitlines()
              if line.startswith("not ok")]
    assert failed == [], r.stdout
    assert f"GUEST PASS {name}" in r.stdout, r.stdout + "\n".join(r.log)
    assert r.status == 0


@pytest.mark.parametrize("libc", LIBCS)
def test_hello_prints_its_arguments(run_guest, libc):
    r = run_guest(guest_program(libc, "hello"), ["from", "a VM"])
    assert r.stdout == "Hello from a VM!\n"
    assert r.status == 0
    assert r.log == []


@pytest.mark.parametrize("libc", LIBCS)
def test_static_pie_runs(run_guest, libc):
    r = run_guest(guest_program(libc, "hello-pie"), ["pie"])
    assert r.stdout == "Hello pie!\n"
    assert r.status == 0


@pytest.mark.parametrize("libc", LIBCS)
@pytest.mark.parametrize("code,status", [("0", 0), ("1", 1), ("42", 42),
                                         ("255", 255), ("256", 0)])
def test_exit_status_is_the_programs(run_guest, libc, code, status):
    r = run_guest(guest_program(libc, "exitcode"), [code])
    assert r.status == status


@pytest.mark.parametrize("libc", LIBCS)
def test_unknown_calls_get_enosys_reported_once(run_guest, libc):
    r = run_guest(guest_program(libc, "enosys"))
    assert "GUEST PASS enosys" in r.stdout, r.stdout
    assert r.status == 0
    io_uring = [line for line in r.log if "io_uring_setup (425)" in line]
    assert io_uring == ["system call io_uring_setup (425) is not "
                        "implemented; the program gets ENOSYS"]
    assert len([line for line in r.log if "number 1000" in line]) == 1
    assert not any("rseq" in line for line in r.log)


FAULTS = [
    ("null-write", 139,
     r"program killed by SIGSEGV: writing address 0x0 \(not mapped\) "
     r"at rip 0x[0-9a-f]+"),
    ("exec-stack", 139,
     r"program killed by SIGSEGV: executing address 0x7ff[0-9a-f]+ "
     r"\(not permitted\) at rip 0x7ff[0-9a-f]+"),
    ("write-text", 139,
     r"program killed by SIGSEGV: writing address 0x4[0-9a-f]+ "
     r"\(not permitted\) at rip 0x4[0-9a-f]+"),
    ("ud2", 132,
     r"program killed by SIGILL: invalid opcode at rip 0x4[0-9a-f]+"),
    ("divide", 136,
     r"program killed by SIGFPE: divide error at rip 0x4[0-9a-f]+"),
]


@pytest.mark.parametrize("libc", LIBCS)
@pytest.mark.parametrize("how,status,message", FAULTS,
                         ids=[f[0] for f in FAULTS])
def test_program_fault_ends_vm_with_signal_status(run_guest, libc, how,
                                                  status, message):
    r = run_guest(guest_program(libc, "segv"), [how])
    assert r.stdout == f"faulting: {how}\n"
    assert r.status == status
    assert len(r.log) == 1 and re.fullmatch(message, r.log[0]), r.log


@pytest.mark.parametrize("libc", LIBCS)
def test_abort_ends_vm_with_134(run_guest, libc):
    r = run_guest(guest_program(libc, "abort"))
    assert r.stdout == "aborting\n"
    assert r.status == 134
    assert r.log == ["program killed by SIGABRT"]


@pytest.mark.parametrize("libc", LIBCS)
def test_hostile_program_cannot_crash_the_monitor(run_guest, libc):
    r = run_guest(guest_program(libc, "hostile"))
    if run_guest.runner == "fresco":
        # ring-3 mode: kernel memory is reachable (the VM is the boundary);
        # every malformed request is refused and the monitor survives
        assert r.stdout == ("attacking\n"
                            "monitor answered -14 to a write from outside "
                            "memory\n"
                            "monitor answered -9 to a write to fd 7\n")
        assert r.log == ["the guest kernel panicked (its report is outside "
                         "guest memory)"]
        assert r.status == 125
    else:
        # ring-0 mode: kernel memory is supervisor-only for the program
        assert r.stdout == "attacking\n"
        assert r.status == 139
        assert r.log == ["program killed by SIGSEGV: writing address "
                         f"{0xffffff80feb00008:#x} (not permitted) at rip "
                         + r.log[0].rsplit(" ", 1)[1]]


@pytest.mark.parametrize("libc", LIBCS)
def test_kernel_boots_on_qemu_q35_too(libc, tmp_path):
    r = qemu(guest_program(libc, "hello"), ["q35"], tmp_path=tmp_path,
             machine="q35")
    assert (r.status, r.stdout) == (0, "Hello q35!\n")


# these check what only the VM provides (pid 1, /args, its /proc and /etc)
# or change it (resolve writes /etc/resolv.conf)
NATIVE = [c for c in CONFORMANCE
          if c[0] not in ("args", "identity", "devproc", "resolve")]


@pytest.mark.parametrize("name,args,env", NATIVE, ids=[c[0] for c in NATIVE])
def test_conformance_expectations_hold_natively(name, args, env, tmp_path):
    """Each conformance program also passes on the host's Linux kernel:
    its expectations are Linux's, not Fresco's."""
    import subprocess
    prog = guest_program("glibc", name)
    case = (name, args, env)
    p = subprocess.run([str(prog), *case[1]], capture_output=True,
                       timeout=60, cwd=tmp_path,
                       env=dict(e.split("=", 1) for e in case[2]))
    assert p.returncode == 0, p.stdout.decode()


@pytest.mark.parametrize("libc", LIBCS)
def test_guest_wall_clock_agrees_with_the_host(run_guest, libc):
    import time
    before = time.time()
    r = run_guest(guest_program(libc, "clock"))
    after = time.time()
    lines = [line for line in r.stdout.splitlines()
             if line.startswith("CLOCK_REALTIME=")]
    assert len(lines) == 1, r.stdout
    guest = int(lines[0].split("=")[1])
    # whole seconds in the guest; the RTC has one-second resolution
    assert before - 2 <= guest <= after + 2, (before, guest, after)


@pytest.mark.parametrize("libc", LIBCS)
def test_system_call_sites_become_jumps_only_in_ring3_mode(libc, tmp_path):
    """Under kvm_pvm the kernel runs in ring-3 mode (DESIGN.md), where a
    SYSCALL costs a trip through the host and patched sites jump instead;
    in ring-0 mode (hardware KVM, QEMU's TCG) sites stay as built, and
    fresco.callpatch=0 keeps them so everywhere."""
    need_kvm()
    program = guest_program(libc, "callpatch")
    ring3 = Path("/sys/module/kvm_pvm").exists()
    runs = [
        ("yes" if ring3 else "no", fresco("run", program)),
        ("no", fresco("run", "--kernel-arg", "fresco.callpatch=0", program)),
        ("no", qemu(program, tmp_path=tmp_path)),
    ]
    for want, r in runs:
        assert "GUEST PASS callpatch" in r.stdout, r.stdout
        assert f"sites patched: {want}" in r.stdout, r.stdout
