"""test_build.py: fresco build, images, rmi, and running images, as a
person uses them: a manifest with files and env, reproducible digests,
the local store, and one exact error line for each malformed manifest."""
import re
import shutil

import pytest

from conftest import fresco, guest_program, need_kvm

BUSYBOX = "/bin/busybox"

GOOD = """\
program: busybox
args: [sh, -c, 'echo "$GREETING from $PWD"; read x < /srv/data/a.txt; echo "a: $x"']
env:
  GREETING: hello
workdir: /srv
files:
  - src: "data/*.txt"
    dest: /srv/data/
  - src: data/sub
    dest: /opt/sub
memory: 32M
"""


@pytest.fixture
def context(tmp_path, monkeypatch):
    """A build context with busybox, some data and a good Frescofile; the
    store is private to the test."""
    ctx = tmp_path / "ctx"
    (ctx / "data" / "sub").mkdir(parents=True)
    shutil.copy(BUSYBOX, ctx / "busybox")
    (ctx / "data" / "a.txt").write_text("first file\n")
    (ctx / "data" / "b.txt").write_text("second file\n")
    (ctx / "data" / "sub" / "c.txt").write_text("nested\n")
    (ctx / "Frescofile").write_text(GOOD)
    monkeypatch.setenv("FRESCO_STORE", str(tmp_path / "store"))
    return ctx


def digest_of(r):
    assert r.status == 0, r.stderr
    assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", r.stdout), r.stdout
    return r.stdout.strip()


def test_build_tag_and_run_by_name(context):
    need_kvm()
    digest_of(fresco("build", "-t", "demo:v1", context))
    r = fresco("run", "demo:v1")
    assert (r.status, r.stdout) == (0, "hello from /srv\na: first file\n")


def test_env_flag_overrides_the_image(context):
    need_kvm()
    digest_of(fresco("build", "-t", "demo", context))
    r = fresco("run", "-e", "GREETING=bonjour", "demo")
    assert r.stdout.startswith("bonjour from /srv\n")


def test_command_replaces_the_images_program(context):
    need_kvm()
    digest_of(fresco("build", "-t", "demo", context))
    r = fresco("run", "demo", "busybox", "cat", "/opt/sub/c.txt",
               "/srv/data/b.txt")
    assert (r.status, r.stdout) == (0, "nested\nsecond file\n")


def test_rebuild_is_byte_for_byte_the_same(context, tmp_path):
    a, b = tmp_path / "a.cpio", tmp_path / "b.cpio"
    d1 = digest_of(fresco("build", "-o", a, context))
    for p in context.rglob("*"):  # new times must not change the image
        p.touch()
    d2 = digest_of(fresco("build", "-o", b, context))
    assert d1 == d2
    assert a.read_bytes() == b.read_bytes()


def test_written_image_runs_directly(context, tmp_path):
    need_kvm()
    out = tmp_path / "demo.cpio"
    digest_of(fresco("build", "-o", out, context))
    r = fresco("run", out)
    assert r.stdout == "hello from /srv\na: first file\n"


def test_images_lists_and_rmi_removes(context):
    d = digest_of(fresco("build", "-t", "demo:v1", context))
    digest_of(fresco("build", "-t", "demo:v2", context))
    listing = fresco("images").stdout.splitlines()
    assert listing[0].split() == ["NAME", "TAG", "DIGEST", "SIZE",
                                  "CREATED"]
    rows = [line.split()[:3] for line in listing[1:]]
    assert rows == [["demo", "v1", d[:19]], ["demo", "v2", d[:19]]]
    r = fresco("rmi", "demo:v1")
    assert (r.status, r.stdout) == (0, "Untagged: demo:v1\n")
    assert [line.split()[1] for line in fresco("images").stdout.splitlines()
            [1:]] == ["v2"]
    r = fresco("rmi", "demo:v1")
    assert r.status == 1 and "no image demo:v1" in r.stderr
    fresco("rmi", "demo:v2")
    assert fresco("images").stdout.splitlines()[1:] == []
    store = context.parent / "store" / "blobs" / "sha256"
    assert list(store.iterdir()) == []  # the last tag took the blob


def test_bad_tag_exits_125(context):
    r = fresco("build", "-t", "Bad/Name", context)
    assert r.status == 125
    assert r.stderr.startswith("fresco build: 'Bad/Name' is not an image "
                               "name")


def test_missing_context_exits_125(tmp_path):
    r = fresco("build", tmp_path / "nowhere")
    assert r.status == 125
    assert r.stderr == (f"fresco: build context {tmp_path / 'nowhere'} is "
                        "not a directory\n")


MALFORMED = [
    ("unknown-key", "program: busybox\nevn:\n  A: b\n",
     "Frescofile:2:1: unknown key 'evn'; did you mean 'env'?"),
    ("unknown-key-far", "program: busybox\nbanana: 1\n",
     "Frescofile:2:1: unknown key 'banana'; see docs/manifest.md"),
    ("args-not-list", "program: busybox\nargs: hello\n",
     "Frescofile:2:7: 'args' must be a list of strings, like [a, b]"),
    ("args-nested", "program: busybox\nargs: [[a]]\n",
     "Frescofile:2:8: each entry of 'args' must be a string"),
    ("env-not-map", "program: busybox\nenv: [A=b]\n",
     "Frescofile:2:6: 'env' must be a mapping of NAME: value"),
    ("port-bad", "program: busybox\nports: ['8080:80', 'eighty']\n",
     "Frescofile:2:20: each entry of 'ports' must be "
     "[IP:]HOSTPORT:GUESTPORT[/udp], like 8080:80"),
    ("memory-bad", "program: busybox\nmemory: lots\n",
     "Frescofile:2:9: 'memory' must be a size from 2M to 3G, like 64M"),
    ("memory-small", "program: busybox\nmemory: 1M\n",
     "Frescofile:2:9: 'memory' must be a size from 2M to 3G, like 64M"),
    ("cpus", "program: busybox\ncpus: 4\n",
     "Frescofile:2:7: 'cpus' must be 1 (a VM has one vCPU for now)"),
    ("workdir-relative", "program: busybox\nworkdir: app\n",
     "Frescofile:2:10: 'workdir' must be an absolute path, like /app"),
    ("volume-relative", "program: busybox\nvolumes: [/ok, data]\n",
     "Frescofile:2:16: each entry of 'volumes' must be an absolute "
     "directory other than /, without spaces, '.' or '..', like /data"),
    ("no-program", "args: [a]\n",
     "Frescofile:1:1: 'program' is missing: name the program to run, "
     "like 'program: ./app'"),
    ("not-mapping", "- program\n",
     "Frescofile:1:1: the manifest must be a mapping of keys, like "
     "'program: ./app'"),
    ("empty", "",
     "Frescofile: the manifest is empty; it needs at least 'program'"),
    ("yaml-syntax", "program: [busybox\n",
     "Frescofile:2:1: not valid YAML: did not find expected ',' or ']'"),
    ("files-no-dest", "program: busybox\nfiles:\n  - src: data\n",
     "Frescofile:3:5: a 'files' entry needs both src and dest"),
    ("files-bad-key", "program: busybox\nfiles:\n  - {src: a, to: /b}\n",
     "Frescofile:3:14: unknown key 'to' in a 'files' entry; use src and "
     "dest"),
    ("files-relative-dest", "program: busybox\nfiles:\n  - {src: data, "
     "dest: srv}\n",
     "Frescofile:3:5: dest 'srv' must be an absolute path in the image"),
    ("files-no-match", "program: busybox\nfiles:\n  - {src: 'nope/*', "
     "dest: /x/}\n",
     "Frescofile:3:5: 'nope/*' matches nothing in the context CTX"),
    ("program-missing", "program: ./missing\n",
     "Frescofile:1:10: program CTX/./missing: No such file or directory"),
    ("program-not-elf", "program: data/a.txt\n",
     "Frescofile:1:10: program CTX/data/a.txt cannot run: it is not an "
     "ELF executable"),
]


@pytest.mark.parametrize("text,message",
                         [(m[1], m[2]) for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_malformed_manifest_exits_125_saying_where(context, tmp_path, text,
                                                   message):
    (context / "Frescofile").write_text(text)
    out = tmp_path / "never.cpio"
    r = fresco("build", "-o", out, "-t", "never", context)
    want = message.replace("Frescofile", f"{context}/Frescofile", 1)
    want = want.replace("CTX", str(context))
    assert r.status == 125
    assert r.stderr == f"fresco: {want}\n"
    assert not out.exists(), "a failed build must leave nothing behind"
    assert list(tmp_path.glob("never.cpio*")) == []
    assert "never" not in fresco("images").stdout
