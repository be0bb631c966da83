"""test_docs.py: generated documentation is current."""
import subprocess

from conftest import ROOT

UNISTD = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"


def test_compat_table_is_generated_from_the_syscall_table():
    p = subprocess.run(
        ["python3", str(ROOT / "scripts/gen-compat.py"),
         str(ROOT / "kernel/linux/syscall.c"), UNISTD],
        capture_output=True, text=True, check=True)
    current = (ROOT / "docs/compat.md").read_text()
    assert p.stdout == current, "docs/compat.md is stale: run make docs"
