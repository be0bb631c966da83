"""test_cli.py: the fresco command as a person uses it: output, exit
status and the exact one-line errors, following docker's codes (125 for
fresco's own errors, 126 cannot run, 127 not found)."""
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import (FRESCO, GUEST, KERNEL, ROOT, fresco, guest_program,
                      need_kvm, qemu)

HELLO = GUEST / "musl" / "hello"


def test_help_lists_commands():
    r = fresco("--help")
    assert r.status == 0
    assert "run       Run a static x86_64 Linux program" in r.stdout


def test_run_help():
    r = fresco("run", "--help")
    assert r.status == 0
    assert r.stdout.startswith("Usage: fresco run [OPTIONS] PROGRAM [ARG...]")


def test_version():
    r = fresco("version")
    assert r.status == 0
    assert r.stdout.startswith("fresco version ")


@pytest.mark.parametrize("args,message", [
    ([], None),
    (["bogus"], "fresco: 'bogus' is not a fresco command; see "
                "'fresco --help'"),
    (["run"], "fresco run: no program given; see 'fresco run --help'"),
    (["run", "--bogus", "x"], "fresco run: option '--bogus' is not known "
                              "or needs a value; see 'fresco run --help'"),
    (["run", "-q", "x"], "fresco run: option -q is not known; see "
                         "'fresco run --help'"),
    (["run", "-m"], "fresco run: option -m needs a value; see "
                    "'fresco run --help'"),
    (["run", "-m", "1K", "x"], "fresco: --memory 1K: give a size from 2M "
                               "to 3G, like 64M"),
    (["run", "-m", "lots", "x"], "fresco: --memory lots: give a size from "
                                 "2M to 3G, like 64M"),
    (["run", "-m", "4G", "x"], "fresco: --memory 4G: give a size from 2M "
                               "to 3G, like 64M"),
    (["run", "-e", "=x", "x"], "fresco: --env '=x': the variable has no "
                               "name"),
])
def test_usage_errors_exit_125(args, message):
    r = fresco(*args)
    assert r.status == 125
    if message:
        assert r.stderr.splitlines() == [message]
    else:
        assert "Usage: fresco COMMAND" in r.stderr


def test_missing_program_exits_127():
    r = fresco("run", "/no/such/prog")
    assert r.status == 127
    assert r.stderr == "fresco: /no/such/prog: No such file or directory\n"


def test_directory_exits_126(tmp_path):
    r = fresco("run", tmp_path)
    assert r.status == 126
    assert r.stderr == f"fresco: {tmp_path}: is a directory, not a program\n"


def test_file_without_execute_permission_exits_126(tmp_path):
    prog = tmp_path / "hello"
    shutil.copy(HELLO, prog)
    prog.chmod(0o644)
    r = fresco("run", prog)
    assert r.status == 126
    assert r.stderr == (f"fresco: {prog}: permission denied: it is not "
                        "executable (chmod +x it)\n")


def patched(tmp_path, offset, value):
    prog = tmp_path / "patched"
    data = bytearray(HELLO.read_bytes())
    data[offset:offset + len(value)] = value
    prog.write_bytes(bytes(data))
    prog.chmod(0o755)
    return prog


@pytest.mark.parametrize("offset,value,why", [
    (0, b"#!/bin/sh\n", "it is not an ELF executable"),
    (4, b"\x01", "it is a 32-bit program; Fresco runs x86_64 programs"),
    (18, b"\xb7\x00", "it is built for arm64, not x86_64"),
    (16, b"\x01\x00", "it is an object file, not a linked program"),
])
def test_unrunnable_file_exits_126_saying_why(tmp_path, offset, value, why):
    prog = patched(tmp_path, offset, value)
    r = fresco("run", prog)
    assert r.status == 126
    assert r.stderr == f"fresco: {prog}: cannot run: {why}\n"


def test_dynamic_program_exits_126():
    prog = guest_program("glibc", "hello-dynamic")
    r = fresco("run", prog)
    assert r.status == 126
    assert r.stderr == (f"fresco: {prog}: cannot run: it is dynamically "
                        "linked; rebuild it with -static\n")


def test_missing_kernel_exits_125():
    r = fresco("run", HELLO, env={"FRESCO_KERNEL": "/no/kernel"})
    assert r.status == 125
    assert r.stderr == ("fresco: kernel /no/kernel: No such file or "
                        "directory; rebuild it with `make` or set "
                        "FRESCO_KERNEL\n")


def test_kernel_that_is_not_fresco_exits_125(tmp_path):
    need_kvm()
    r = fresco("run", HELLO, env={"FRESCO_KERNEL": str(HELLO)})
    assert r.status == 125
    assert r.stderr == (f"fresco: kernel {HELLO}: no Fresco entry notes "
                        "(not a Fresco kernel?); rebuild it with `make` "
                        "or set FRESCO_KERNEL\n")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a mount "
                    "namespace without /dev/kvm")
def test_no_kvm_exits_125_saying_what_to_do():
    p = subprocess.run(
        ["unshare", "-m", "sh", "-c",
         f"mount -t tmpfs none /dev && exec {FRESCO} run {HELLO}"],
        capture_output=True, timeout=60)
    assert p.returncode == 125
    assert p.stderr.decode() == (
        "fresco: cannot open /dev/kvm: No such file or directory; Fresco "
        "needs KVM: load the kvm module or use a host with "
        "virtualization\n")


def test_output_and_status_are_the_programs():
    need_kvm()
    r = fresco("run", HELLO, "from", "fresco")
    assert (r.status, r.stdout, r.stderr) == (0, "Hello from fresco!\n", "")


def test_stdout_stderr_and_stdin_are_separate_streams():
    need_kvm()
    p = subprocess.run([str(FRESCO), "run", guest_program("glibc",
                                                          "streams")],
                       input=b"line one\nline two", capture_output=True,
                       timeout=60)
    assert p.returncode == 0
    assert p.stdout == (b"to stdout\nline one\nline two"
                        b"read 17 bytes, last read returned 0\n")
    assert p.stderr == b"to stderr\n"


def test_environment_flags():
    need_kvm()
    os.environ["FRESCO_TEST_HOST_VAR"] = "from host"
    try:
        r = fresco("run", "-e", "FOO=bar", "-e", "FRESCO_TEST_HOST_VAR",
                   "-e", "FRESCO_TEST_UNSET_VAR",
                   guest_program("musl", "args"), "one", "two words", "")
    finally:
        del os.environ["FRESCO_TEST_HOST_VAR"]
    assert r.status == 0, r.stdout


@pytest.mark.parametrize("memory", ["4M", "3M", "1G"])
def test_hello_runs_in_little_and_much_memory(memory):
    need_kvm()
    r = fresco("run", "--memory", memory, HELLO, "small")
    assert (r.status, r.stdout) == (0, "Hello small!\n")


def test_too_little_memory_for_the_program_exits_125():
    need_kvm()
    prog = guest_program("glibc", "memory")
    r = fresco("run", "-m", "2M", prog)
    assert r.status == 125
    assert re.fullmatch(r"fresco: the program \(\d+ KiB\) does not fit in "
                        r"2 MiB of guest memory; raise --memory\n", r.stderr)


def test_memory_exhaustion_inside_is_enomem_not_a_crash():
    need_kvm()
    r = fresco("run", "-m", "8M", guest_program("musl", "memory"))
    # only the 20 MiB malloc fails (ENOMEM); the VM and the program go on
    failed = [line for line in r.stdout.splitlines()
              if line.startswith("not ok")]
    assert len(failed) == 1 and "malloc 20 MiB" in failed[0]
    assert r.stdout.endswith("GUEST FAIL memory: 1 failed\n")
    assert r.status == 1


def start_sleeper(mode, libc="musl", stdin=subprocess.DEVNULL):
    p = subprocess.Popen([str(FRESCO), "run",
                          guest_program(libc, "sleeper"), mode],
                         stdin=stdin, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout.readline() == b"sleeping\n"
    return p


@pytest.mark.parametrize("libc", ["musl", "glibc"])
@pytest.mark.parametrize("sig,status,name", [(signal.SIGINT, 130, "SIGINT"),
                                             (signal.SIGTERM, 143,
                                              "SIGTERM")])
def test_signal_reaches_the_program_default_action(libc, sig, status, name):
    """The program gets the signal; with no handler its default action
    ends the VM, reported by the guest kernel."""
    need_kvm()
    p = start_sleeper("", libc)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert p.returncode == status
    assert err.decode() == f"fresco: program killed by {name}\n"


@pytest.mark.parametrize("libc", ["musl", "glibc"])
@pytest.mark.parametrize("sig,name", [(signal.SIGINT, "SIGINT"),
                                      (signal.SIGTERM, "SIGTERM")])
def test_signal_runs_the_programs_handler(libc, sig, name):
    need_kvm()
    p = start_sleeper("handle", libc)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert (p.returncode, out) == (0, f"got {name}\n".encode())


def test_second_signal_stops_a_program_that_ignores_them():
    need_kvm()
    p = start_sleeper("ignore")
    start = time.monotonic()
    while p.poll() is None and time.monotonic() - start < 20:
        p.send_signal(signal.SIGINT)
        time.sleep(0.2)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130
    assert err.decode() == "fresco: SIGINT again: stopping the VM\n"


def test_signal_interrupts_a_read_from_stdin():
    need_kvm()
    r, w = os.pipe()  # stdin that never ends
    try:
        p = subprocess.Popen([str(FRESCO), "run",
                              guest_program("glibc", "streams")],
                             stdin=r, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        assert p.stdout.readline() == b"to stdout\n"
        time.sleep(0.2)  # into the blocking read
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    finally:
        os.close(w)
        os.close(r)
    assert p.returncode == 143
    assert err.decode().endswith("fresco: program killed by SIGTERM\n")


def test_installed_fresco_finds_its_kernel(tmp_path):
    need_kvm()
    subprocess.run(["make", "-s", "install", f"PREFIX={tmp_path}"],
                   cwd=ROOT, check=True, capture_output=True)
    assert (tmp_path / "lib" / "fresco" / "fresco-kernel").read_bytes() == \
        KERNEL.read_bytes()
    p = subprocess.run([str(tmp_path / "bin" / "fresco"), "run", HELLO,
                        "installed"], capture_output=True, timeout=60,
                       env={k: v for k, v in os.environ.items()
                            if k != "FRESCO_KERNEL"})
    assert (p.returncode, p.stdout) == (0, b"Hello installed!\n")


def test_tty_flag_makes_the_console_a_terminal():
    need_kvm()
    r = fresco("run", "--tty", guest_program("glibc", "identity"), "tty")
    assert "GUEST PASS identity" in r.stdout, r.stdout
    assert r.status == 0


DUMP_LINE = re.compile(r"  rip ffffffff8[0-9a-f]{7} ")


def test_kernel_fault_exits_125_with_a_register_dump():
    need_kvm()
    r = fresco("run", "--kernel-arg", "fresco.fault=kernel", HELLO)
    assert r.status == 125
    lines = r.stderr.splitlines()
    assert lines[0] == "fresco: guest kernel panic: page fault in the kernel"
    assert lines[1].startswith("  vector 14 error ")
    assert any(DUMP_LINE.match(line) for line in lines), r.stderr
    assert r.stdout == ""


def test_kernel_fault_under_qemu_exits_125(tmp_path):
    r = qemu(HELLO, tmp_path=tmp_path, kernel_args=["fresco.fault=kernel"])
    assert r.status == 125
    assert r.log[0] == "kernel panic: page fault in the kernel"


def test_triple_fault_exits_125_with_a_register_dump():
    need_kvm()
    r = fresco("run", "--kernel-arg", "fresco.fault=triple", HELLO)
    assert r.status == 125
    lines = r.stderr.splitlines()
    assert lines[0] == "fresco: the guest kernel stopped: triple fault"
    assert any(DUMP_LINE.match(line) for line in lines), r.stderr
    assert lines[-1].startswith("  code at rip: 0f 0b")  # the ud2


def test_unknown_fault_injection_is_reported_and_ignored():
    need_kvm()
    r = fresco("run", "--kernel-arg", "fresco.fault=bogus", HELLO)
    assert (r.status, r.stdout) == (0, "Hello!\n")
    assert r.log == ["fresco.fault=bogus: unknown fault; ignored"]


def test_ring0_check_rejects_a_fatal_instruction(tmp_path):
    """The build check must catch what kills a kvm_pvm guest in ring 0."""
    bad = tmp_path / "bad.S"
    bad.write_text(".section .text.ring0,\"ax\"\n.globl __ring0_start, "
                   "__ring0_end\n__ring0_start:\n popcnt %rax, %rbx\n"
                   "__ring0_end:\n ret\n")
    obj = tmp_path / "bad.o"
    subprocess.run(["gcc", "-c", str(bad), "-o", str(obj)], check=True)
    p = subprocess.run([str(ROOT / "scripts/check-ring0.sh"), str(obj)],
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert "popcnt" in p.stderr
    p = subprocess.run([str(ROOT / "scripts/check-ring0.sh"), str(KERNEL)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
