"""test_busybox.py: Debian's busybox-static, a program nobody here wrote,
runs unmodified: each applet runs on the same fixture files natively and
inside a Fresco VM, and must print the same and exit the same.

Natively the applet runs in a fixture directory on tmpfs (/dev/shm),
whose sizes and block counts Fresco's in-memory filesystem reports the
same way; in the guest the same directory is the root filesystem and the
cwd is "/", so relative paths name the same files. The shell cases fork
and exec: pipelines, command substitution, subshells, scripts.
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import FRESCO, need_kvm

BUSYBOX = Path("/bin/busybox")
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "HOME": "/"}
FIXED_TIME = 1700000000  # every fixture file's mtime, for ls -l

CASES = {
    "cat": ["cat", "data/fruit.txt"],
    "head": ["head", "-n", "3", "data/nums.txt"],
    "tail": ["tail", "-n", "3", "data/nums.txt"],
    "wc": ["wc", "data/fruit.txt", "data/nums.txt"],
    "sort": ["sort", "-k2", "-n", "data/fruit.txt"],
    "uniq": ["uniq", "-c", "data/fruit.txt"],
    "cut": ["cut", "-d", " ", "-f1", "data/fruit.txt"],
    "tr": ["tr", "a-z", "A-Z"],  # reads stdin
    "grep": ["grep", "-E", "an|er", "data/fruit.txt"],
    "grep-no-match": ["grep", "kiwi", "data/fruit.txt"],
    "sed": ["sed", "-n", "s/a/A/gp", "data/fruit.txt"],
    "awk": ["awk", "{s+=$2} END {print s, NR}", "data/fruit.txt"],
    "find": ["find", "data", "-name", "*.txt"],
    "od": ["od", "-c", "data/words.txt"],
    "hexdump": ["hexdump", "-C", "data/words.txt"],
    "md5sum": ["md5sum", "data/fruit.txt", "data/nums.txt"],
    "sha256sum": ["sha256sum", "data/fruit.txt"],
    "gzip": ["gzip", "-c", "-n", "data/nums.txt"],
    "gunzip": ["gunzip", "-c", "data/nums.txt.gz"],
    "tar-list": ["tar", "tvf", "data/archive.tar"],
    "tar-extract": ["tar", "xvf", "data/archive.tar", "-C", "tmp"],
    "tar-create": ["tar", "cf", "-", "data/files"],
    "cpio": ["cpio", "-tv"],  # an archive on stdin
    "cp-a": ["cp", "-av", "data/files", "tmp/copy"],
    "mv": ["mv", "-v", "data/files/a.txt", "tmp/moved.txt"],
    "rm-r": ["rm", "-rv", "data/files"],
    "mkdir-p": ["mkdir", "-pv", "tmp/x/y/z"],
    "ln-s": ["ln", "-sv", "../data/fruit.txt", "tmp/link"],
    "readlink": ["readlink", "data/link"],
    # directory sizes belong to each file system: files and links only
    "stat": ["stat", "-c", "%s %F %a %h %Y", "data/fruit.txt", "data/link"],
    "touch": ["touch", "-d", "2020-01-02 03:04:05", "data/fruit.txt"],
    "ls-la": ["ls", "-la", "data/files"],
    "ls-l": ["ls", "-l", "data"],
    "ls-lR": ["ls", "-lR", "data/files"],
    "stat-dir": ["stat", "-c", "%s %b %h %F", "data", "data/files"],
    "du": ["du", "-b", "data/fruit.txt", "data/nums.txt"],
    "date": ["date", "-u", "-d", "@1700000000"],
    "env": ["env"],
    "printf": ["printf", "%s-%05d|%x\\n", "a", "42", "255"],
    "seq": ["seq", "-s", ",", "3", "9"],
    "expr": ["expr", "6", "*", "7"],
    "basename": ["basename", "/a/b/c.txt", ".txt"],
    "dirname": ["dirname", "/a/b/c.txt"],
    "true": ["true"],
    "false": ["false"],
    "test": ["test", "-f", "data/fruit.txt", "-a", "-d", "data"],
    "test-false": ["test", "-e", "data/missing"],
    "sleep": ["sleep", "0.05"],
    "dd": ["dd", "if=data/nums.txt", "bs=10", "count=3", "skip=1"],
    "truncate": ["truncate", "-s", "5", "data/fruit.txt"],
    "cmp": ["cmp", "data/fruit.txt", "data/words.txt"],
    "diff": ["diff", "-u", "data/fruit.txt", "data/fruit2.txt"],
    "sh-script": ["sh", "-c",
                  "f() { echo \"f:$1\"; }; for i in 1 2 3; do f $i; done; "
                  "x=$((6 * 7)); [ $x -eq 42 ] && echo ok $x; "
                  "case foo in f*) echo matched;; esac; "
                  "while read a b; do echo \"$b=$a\"; done < data/fruit.txt"],
    "sh-file": ["sh", "data/script.sh", "arg1"],
    "sh-heredoc": ["sh", "-c", "while read a b; do echo \"[$b|$a]\"; "
                   "done <<EOF\none 1\ntwo 2\nEOF\necho after"],
    "xargs-echo": ["xargs", "echo", "got:"],  # stdin; echo is a builtin
    # processes: each of these forks, and most exec the applet again
    "sh-heredoc-to-program": ["sh", "-c", "cat <<END\nhere doc\nEND"],
    "sh-pipeline": ["sh", "-c", "sort data/fruit.txt | uniq -c | sort -rn"],
    "sh-subst": ["sh", "-c", "n=$(ls data | wc -l); echo \"n=$n\"; "
                 "echo \"$(basename $(dirname data/files/a.txt))\""],
    "sh-statuses": ["sh", "-c", "(exit 3); echo st=$?; false | true; "
                    "echo $?; sh -c 'exit 7'; echo $?; "
                    "wc -l data/missing 2>/dev/null; echo $?"],
    "sh-script-exec": ["sh", "-c", "printf '#!/bin/busybox sh\\necho "
                       "\"$0: $*\"\\nexit 5\\n' > tmp/s.sh; "
                       "chmod +x tmp/s.sh; ./tmp/s.sh a b; echo $?"],
    "sh-background-wait": ["sh", "-c", "sleep 0.1 & echo started; wait; "
                           "echo done $?"],
    "sh-exec-chain": ["sh", "-c", "echo a; exec ./bin/busybox sh -c "
                      "'echo b; exec ./bin/busybox echo c'"],
    "find-exec": ["find", "data", "-name", "*.txt", "-exec", "wc", "-c",
                  "{}", "+"],
    "xargs-wc": ["xargs", "wc", "-l"],  # file names on stdin
}

STDIN = {
    "tr": b"Hello Fresco\n",
    "cpio": None,  # filled by the fixture: an archive made by GNU cpio
    "xargs-echo": b"one two\nthree\n",
    "xargs-wc": b"data/fruit.txt\ndata/nums.txt\n",
}


def make_fixture(root):
    """The files every case works on, all with one fixed mtime."""
    data = root / "data"
    (data / "files").mkdir(parents=True)
    (root / "tmp").mkdir()
    (root / "bin").mkdir()
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    (data / "fruit.txt").write_text("banana 3\napple 1\ncherry 2\napple 1\n")
    (data / "fruit2.txt").write_text("banana 3\napple 9\ncherry 2\n")
    (data / "nums.txt").write_text("".join(f"{i}\n" for i in range(1, 201)))
    (data / "words.txt").write_text("hello world\nfoo bar baz\n")
    (data / "script.sh").write_text('echo "script got $1"\nexit 3\n')
    (data / "files" / "a.txt").write_text("A\n")
    (data / "files" / "b.txt").write_text("B\n")
    os.symlink("fruit.txt", data / "link")
    subprocess.run([BUSYBOX, "gzip", "-k", "-n", "data/nums.txt"],
                   cwd=root, check=True)
    for p in sorted(root.rglob("*")):
        os.utime(p, (FIXED_TIME, FIXED_TIME), follow_symlinks=False)
    subprocess.run([BUSYBOX, "tar", "cf", "data/archive.tar", "data/files"],
                   cwd=root, check=True)
    os.utime(data / "archive.tar", (FIXED_TIME, FIXED_TIME))
    os.utime(data, (FIXED_TIME, FIXED_TIME))


@pytest.fixture(scope="module")
def fixture_cpio(tmp_path_factory):
    if not BUSYBOX.exists():
        pytest.fail("/bin/busybox is missing: run make deps "
                    "(package busybox-static)")
    root = tmp_path_factory.mktemp("busybox") / "root"
    make_fixture(root)
    names = subprocess.run(["find", "."], cwd=root, capture_output=True,
                           check=True).stdout
    archive = root.parent / "root.cpio"
    with open(archive, "wb") as out:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                       input=names, stdout=out, check=True)
    return root, archive


TMPFS = Path("/dev/shm")


def native(root, argv, stdin):
    """Run the applet natively on a fresh copy of the fixture on tmpfs."""
    work = Path(tempfile.mkdtemp(dir=TMPFS)) / "root"
    try:
        shutil.copytree(root, work, symlinks=True)
        for p in [work, *work.rglob("*")]:
            os.utime(p, (FIXED_TIME, FIXED_TIME), follow_symlinks=False)
        p = subprocess.run(["./bin/busybox", *argv], cwd=work, env=ENV,
                           input=stdin, capture_output=True, timeout=60)
        return p.returncode, p.stdout
    finally:
        shutil.rmtree(work.parent)


def guest(archive, argv, stdin):
    p = subprocess.run([str(FRESCO), "run", str(archive), "/bin/busybox",
                        *argv], input=stdin, capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


@pytest.mark.parametrize("name", sorted(CASES))
def test_applet_matches_native(name, fixture_cpio, tmp_path):
    need_kvm()
    root, archive = fixture_cpio
    argv, stdin = CASES[name], STDIN.get(name, b"")
    if stdin is None:
        stdin = archive.read_bytes()
    want = native(root, argv, stdin)
    status, out, err = guest(archive, argv, stdin)
    assert (status, out) == want, err


def test_df_reports_the_root_filesystem(fixture_cpio):
    """df cannot match a native run (sizes belong to each machine), so it
    is checked on its own: the in-memory root, its size, mounted on /."""
    need_kvm()
    _, archive = fixture_cpio
    status, out, err = guest(archive, ["df", "-k", "/"], b"")
    lines = out.decode().splitlines()
    assert status == 0, err
    assert lines[0].split()[:2] == ["Filesystem", "1K-blocks"]
    fields = lines[1].split()
    assert fields[0] == "ramfs" and fields[-1] == "/"
    assert 30000 < int(fields[1]) < 70000  # of the default 64 MiB
