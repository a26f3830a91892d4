"""The simulated hosts' shell (lab.shell, lab.tools): everyday lines answer as on a real host.

Pure tests on a model with a controlled clock, output formats checked against real captures
(tests/fixtures/lab-shell/, from a Debian 12 host), and one line through the real SSH server.
"""

from __future__ import annotations

import re
from pathlib import Path

import asyncssh
import pytest

from lab import HostModel, LabServer, SimHost, ensure_keys, make_lab
from lab.shell import execute, parse
from lab.tools import human_df, human_free

FIXTURES = Path(__file__).parent / "fixtures" / "lab-shell"
WALL = 1_764_950_400.0  # 2025-12-05 16:00:00 UTC


class Clock:
    def __init__(self) -> None:
        self.t = 5000.0

    def __call__(self) -> float:
        return self.t


def model(distro: str = "debian12", profile: str = "network-heavy") -> HostModel:
    host = SimHost("lab-07", "127.77.0.7", profile, seed="shell", distro=distro)
    return HostModel(host, clock=Clock(), wall=lambda: WALL)


def test_uname_then_uptime_as_a_real_host_prints_them() -> None:
    m = model()
    r = execute("uname -a; uptime", m)
    real = (FIXTURES / "uname-a-uptime.txt").read_text().splitlines()
    lines = r.stdout.splitlines()
    assert r.status == 0 and r.stderr == ""
    assert lines[0] == f"Linux lab-07 {m.kernel} #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux"
    # Same shape as the real capture: "Linux NAME KERNEL #1 SMP PREEMPT_DYNAMIC … x86_64 GNU/Linux"
    assert real[0].split()[-2:] == lines[0].split()[-2:]
    uptime_shape = r"^ \d\d:\d\d:\d\d up .+,  \d user,  load average: [\d.]+, [\d.]+, [\d.]+$"
    assert re.match(uptime_shape, real[1]) and re.match(uptime_shape, lines[1])


def test_lists_and_or_and_status() -> None:
    m = model()
    assert execute("true && echo yes || echo no", m).stdout == "yes\n"
    assert execute("false && echo yes || echo no", m).stdout == "no\n"
    r = execute("false; echo $?; true; echo $?", m)
    assert r.stdout == "1\n0\n"
    assert execute("false || false", m).status == 1
    assert execute("echo a; exit 3; echo b", m) == execute("echo a; exit 3", m)
    assert execute("echo a; exit 3; echo b", m).status == 3
    assert execute("X=hello; echo \"$X world\" '$X'", m).stdout == "hello world $X\n"
    assert execute("echo 'a;b' a\\;b # comment", m).stdout == "a;b a;b\n"
    assert execute("echo ${HOME}/x $USER", m, "alice").stdout == "/home/alice/x alice\n"


def test_unknown_command_is_dash_not_found() -> None:
    m = model()
    r = execute("foo --bar", m)
    assert (r.status, r.stdout, r.stderr) == (127, "", "sh: 1: foo: not found\n")
    r = execute("foo; echo after", m)
    assert (r.status, r.stdout, r.stderr) == (0, "after\n", "sh: 1: foo: not found\n")
    r = execute("foo 2>/dev/null || echo fallback", m)
    assert (r.stdout, r.stderr) == ("fallback\n", "")
    assert execute("foo 2>&1 | head -1", m).stdout == "sh: 1: foo: not found\n"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("| head", '"|" unexpected'),
        ("echo a ;; echo b", '";;" unexpected'),
        ("echo 'open", "Unterminated quoted string"),
        ("echo a &&", "end of file unexpected"),
        ("echo a | ", "end of file unexpected"),
    ],
)
def test_syntax_errors_as_dash_says_them(line: str, message: str) -> None:
    r = execute(line, model())
    assert (r.status, r.stdout, r.stderr) == (2, "", f"sh: 1: Syntax error: {message}\n")


def test_pipes_head_tail_grep_wc_sort() -> None:
    m = model()
    os_release = m.file("/etc/os-release")
    assert os_release is not None
    assert execute("cat /etc/os-release | head -2", m).stdout == "".join(
        os_release.splitlines(keepends=True)[:2]
    )
    assert (
        execute("cat /etc/os-release | tail -n 1", m).stdout
        == os_release.splitlines(keepends=True)[-1]
    )
    assert execute("grep -c ^processor /proc/cpuinfo", m).stdout == f"{m.cores}\n"
    assert execute("nproc", m).stdout == f"{m.cores}\n"
    assert execute("cat /proc/cpuinfo | grep -c processor", m).stdout == f"{m.cores}\n"
    lines = len(os_release.splitlines())
    assert execute("cat /etc/os-release | wc -l", m).stdout == f"{lines}\n"
    r = execute("grep -i '^id=' /etc/os-release", m)
    assert (r.status, r.stdout) == (0, "ID=debian\n")
    r = execute("grep nothing-like-this /etc/os-release", m)
    assert (r.status, r.stdout) == (1, "")
    assert execute("grep 'VERSION\\|NAME' /etc/os-release | wc -l", m).stdout == "5\n"
    r = execute("printf x | head", m)  # a pipeline's status is its last command's
    assert (r.status, r.stderr) == (0, "sh: 1: printf: not found\n")
    assert execute("echo 'b\na\nb' | sort -u", m).stdout == "a\nb\n"
    assert execute("echo b; echo a; echo b", m).stdout == "b\na\nb\n"
    assert execute("cat /proc/cpuinfo | grep ^processor | sort | uniq -c", m).stdout == (
        f"{m.cores:>7} processor\t: 0\n"
        if m.cores == 1
        else execute("grep ^processor /proc/cpuinfo | sort | uniq -c", m).stdout
    )


def test_df_h_matches_df_k_and_the_gnu_layout() -> None:
    m = model()
    rows = m.df_rows(m.advance())
    r = execute("df -h", m)
    assert r.status == 0
    out = r.stdout.splitlines()
    real = (FIXTURES / "df-h.txt").read_text().splitlines()
    assert out[0].split() == real[0].split() == [
        "Filesystem", "Size", "Used", "Avail", "Use%", "Mounted", "on"
    ]  # fmt: skip

    def right_edges(line: str) -> list[int]:
        return [m.end() for m in re.finditer(r"\S+", line)][1:5]

    # Size, Used, Avail and Use% end under their headings, in the real output and ours
    for table in (real, out):
        for line in table[1:]:
            assert right_edges(line) == right_edges(table[0]), line
    for line, (fs, _t, size, used, avail, cap, mount) in zip(out[1:], rows, strict=True):
        assert line.split() == [
            fs,
            human_df(size),
            human_df(used),
            human_df(avail),
            f"{cap}%",
            mount,
        ]
    assert execute("df -h /", m).stdout.splitlines()[1].split()[0] == m.rootdev
    assert execute("df -h /data/backups", m).stdout.splitlines()[1].split()[-1] == "/data"
    r = execute("df -h /data /", m)
    assert [line.split()[-1] for line in r.stdout.splitlines()[1:]] == ["/data", "/"]
    r = execute("df -h nope", m)
    assert r.status == 1 and r.stderr == "df: nope: No such file or directory\n"
    assert execute("df -z", m).stderr.startswith("df: invalid option -- 'z'\n")
    # the collectors' form is unchanged
    assert execute("df -PkT", m).stdout.splitlines()[0].split()[:3] == [
        "Filesystem", "Type", "1024-blocks"
    ]  # fmt: skip


@pytest.mark.parametrize(
    # expected values from coreutils: numfmt --to=iec --round=up $((KIB * 1024))
    ("kib", "gnu"),
    [(0, "0"), (5120, "5.0M"), (523248, "511M"), (8257640, "7.9G"), (61252420, "59G"),
     (1921724676, "1.8T"), (3451, "3.4M"), (9437184, "9.0G"), (10433331, "10G"),
     (10380902, "9.9G")],
)  # fmt: skip
def test_df_human_sizes_round_up_as_gnu(kib: int, gnu: str) -> None:
    assert human_df(kib) == gnu


def test_free_h_from_meminfo_in_the_procps_layout() -> None:
    m = model()
    meminfo = {}
    for line in (m.file("/proc/meminfo") or "").splitlines():
        key, _, rest = line.partition(":")
        meminfo[key] = int(rest.split()[0])
    real = (FIXTURES / "free-h.txt").read_text().splitlines()
    r = execute("free -h", m)
    out = r.stdout.splitlines()
    assert out[0] == real[0]
    for ours, theirs in zip(out[1:], real[1:], strict=True):
        assert ours[:8] == theirs[:8]  # "Mem:    " / "Swap:   "
        assert [x.end() for x in re.finditer(r"\S+", ours)] == [
            x.end() for x in re.finditer(r"\S+", theirs)
        ]
    total = meminfo["MemTotal"]
    used = total - meminfo["MemAvailable"]
    assert out[1].split()[1:3] == [human_free(total), human_free(used)]
    raw = execute("free", m).stdout.splitlines()[1].split()
    assert raw[1:3] == [str(total), str(used)]


@pytest.mark.parametrize(
    ("kib", "procps"),
    [(0, "0B"), (1, "1.0Ki"), (165152, "161Mi"), (4_697_752, "4.5Gi"), (16_515_280, "16Gi")],
)
def test_free_human_sizes(kib: int, procps: str) -> None:
    assert human_free(kib) == procps


def test_systemctl_status_and_journal() -> None:
    m = model()
    r = execute("systemctl status ssh", m)
    lines = r.stdout.splitlines()
    assert r.status == 0
    assert lines[0] == "\u25cf ssh.service - OpenBSD Secure Shell server"
    assert "Active: active (running) since " in lines[2] and lines[2].endswith(" ago")
    assert lines[3].strip() == "Main PID: 845 (sshd)"
    assert execute("systemctl status sshd.service", m).stdout == r.stdout
    r = execute("systemctl status nosuch", m)
    assert (r.status, r.stderr) == (4, "Unit nosuch.service could not be found.\n")
    assert execute("systemctl is-active cron", m).stdout == "active\n"
    r = execute("systemctl restart ssh", m)
    assert r.status == 1 and "Interactive authentication required" in r.stderr
    assert execute("systemctl restart ssh", m, "root").status == 0
    rocky = model("rocky9")
    assert execute("systemctl status ssh", rocky).stdout.startswith(
        "\u25cf sshd.service - OpenSSH server daemon\n"
    )

    r = execute("journalctl -n 7 --no-pager", m)
    entries = r.stdout.splitlines()
    assert r.status == 0 and len(entries) == 7
    entry = re.compile(r"^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d lab-07 [\w-]+\[\d+\]: .+$")
    assert all(entry.match(line) for line in entries)
    stamps = [line[:15] for line in entries]
    assert stamps == sorted(stamps) and stamps[-1] <= "Dec 05 16:00:00"
    assert execute("journalctl -n 7", m).stdout == r.stdout  # the same lines when asked again
    assert execute("journalctl -n 3", m).stdout.splitlines() == entries[-3:]
    only_ssh = execute("journalctl -u ssh -n 4", m).stdout.splitlines()
    assert len(only_ssh) == 4 and all(" sshd[" in line for line in only_ssh)
    assert execute("journalctl | wc -l", m).stdout == "10\n"
    assert execute("journalctl -n x", m).status == 1


def test_date_id_and_redirect_refusals() -> None:
    m = model()
    assert execute("date", m).stdout == "Fri Dec  5 16:00:00 UTC 2025\n"
    assert execute("date +%Y-%m-%dT%H:%M", m).stdout == "2025-12-05T16:00\n"
    assert execute("id -un; whoami; hostname", m).stdout == "mirror\nmirror\nlab-07\n"
    r = execute("echo hi > /etc/motd", m)
    assert (r.status, r.stderr) == (2, "sh: 1: cannot create /etc/motd: Read-only file system\n")
    assert execute("echo hi >/dev/null; echo shown", m).stdout == "shown\n"
    assert execute("wc -l < /etc/os-release", m).stdout.strip().isdigit()


def test_wrapped_commands_still_unwrap() -> None:
    m = model()
    assert execute("sh -c 'uname -s && hostname'", m).stdout == "Linux\nlab-07\n"
    assert execute("exec /bin/sh -c 'exit 4'", m).status == 4
    assert len(parse("a | b && c; d &")) == 3


async def test_a_line_through_the_simulated_ssh_server(tmp_path: Path) -> None:
    host_key, client_key, client_pub = ensure_keys(tmp_path / "keys")
    hosts = make_lab(1, subnet="127.77.0.0/24", start=61, seed="shell")
    async with (
        LabServer(hosts, 0, host_key, client_pub) as server,
        asyncssh.connect(
            hosts[0].address,
            server.port,
            username="mirror",
            client_keys=[str(client_key)],
            known_hosts=None,
            connect_timeout=5,
        ) as conn,
    ):
        r = await conn.run("uname -a; uptime && df -h / | tail -1")
        assert r.exit_status == 0 and r.stderr == ""
        out = str(r.stdout).splitlines()
        assert out[0].startswith(f"Linux {hosts[0].name} ") and " up " in out[1]
        assert out[2].split()[-1] == "/"
        r = await conn.run("foo")
        assert (r.exit_status, r.stderr) == (127, "sh: 1: foo: not found\n")
