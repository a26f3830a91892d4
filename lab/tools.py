"""Everyday tools of a simulated host, answered from its model as a Debian host would.

System views (``df``, ``free``, ``uptime``, ``systemctl``, ``journalctl``, ``date``,
``nproc``, ``id``) read :class:`lab.model.HostModel`; text filters (``head``, ``tail``,
``grep``, ``wc``, ``sort``, ``uniq``) read their standard input or the host's simulated files.
Pure functions: nothing runs on the machine.
"""

from __future__ import annotations

import math
import re
import time
import zlib
from collections.abc import Callable

from lab.model import HZ, HostModel
from lab.result import Result

Tool = Callable[[HostModel, list[str], str, str], Result]


def _usage(tool: str, message: str, status: int = 1) -> Result:
    return Result(status, stderr=f"{tool}: {message}\nTry '{tool} --help' for more information.\n")


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _inputs(
    tool: str, model: HostModel, files: list[str], stdin: str
) -> tuple[list[str], list[str]]:
    """The texts to read (stdin when no file is named) and the errors for missing files."""
    if not files:
        return [stdin], []
    texts, errors = [], []
    for path in files:
        text = stdin if path == "-" else model.file(path)
        if text is None:
            errors.append(f"{tool}: {path}: No such file or directory\n")
        else:
            texts.append(text)
    return texts, errors


# --- sizes ---------------------------------------------------------------------------------


def human_df(kib: int) -> str:
    """GNU df -h: powers of 1024, rounded up, one decimal below 10 (``0``, ``512K``, ``7.8G``)."""
    if kib == 0:
        return "0"
    value, units = float(kib * 1024), "BKMGTPE"
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{int(value)}"
    if value < 10:
        value = math.ceil(value * 10) / 10
        if value < 10:
            return f"{value:.1f}{units[unit]}"
    return f"{math.ceil(value)}{units[unit]}"


def human_free(kib: int) -> str:
    """procps free -h: ``B``, ``Ki``, ``Mi``…, one decimal below 10 (``7.7Gi``, ``393Mi``)."""
    value, units = float(kib * 1024), ("B", "Ki", "Mi", "Gi", "Ti", "Pi")
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{int(value)}B"
    return f"{value:.1f}{units[unit]}" if value < 10 else f"{round(value)}{units[unit]}"


# --- system views ------------------------------------------------------------------------


def uptime(model: HostModel, args: list[str]) -> Result:
    if not args:
        return Result(0, model.uptime_line())
    if args in (["-p"], ["--pretty"]):
        up = int(model.advance() - model.boot)
        days, rest = divmod(up, 86400)
        parts = [(days, "day"), (rest // 3600, "hour"), (rest % 3600 // 60, "minute")]
        words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
        return Result(0, f"up {', '.join(words) or '0 minutes'}\n")
    if args in (["-s"], ["--since"]):
        since = model.wall() - (model.advance() - model.boot)
        return Result(0, time.strftime("%Y-%m-%d %H:%M:%S\n", time.gmtime(since)))
    return _usage("uptime", f"invalid option -- '{args[0].lstrip('-')[:1]}'")


def df(model: HostModel, args: list[str]) -> Result:
    human = typed = posix = False
    paths = []
    for arg in args:
        if arg.startswith("--"):
            if arg == "--human-readable":
                human = True
            elif arg == "--print-type":
                typed = True
            else:
                return _usage("df", f"unrecognized option '{arg}'")
        elif arg.startswith("-") and len(arg) > 1:
            for letter in arg[1:]:
                if letter == "h":
                    human = True
                elif letter == "T":
                    typed = True
                elif letter == "P":
                    posix = True
                elif letter not in "kl":
                    return _usage("df", f"invalid option -- '{letter}'")
        else:
            paths.append(arg)
    rows = model.df_rows(model.advance())
    errors = []
    if paths:
        chosen = []
        for path in paths:
            mounts = [r for r in rows if path == r[6] or path.startswith(r[6].rstrip("/") + "/")]
            if not path.startswith("/") or not mounts:
                errors.append(f"df: {path}: No such file or directory\n")
            else:
                chosen.append(max(mounts, key=lambda r: len(r[6])))
        rows = chosen
    if human:
        header = ["Filesystem", "Size", "Used", "Avail", "Use%", "Mounted on"]
    elif posix:
        header = ["Filesystem", "1024-blocks", "Used", "Available", "Capacity", "Mounted on"]
    else:
        header = ["Filesystem", "1K-blocks", "Used", "Available", "Use%", "Mounted on"]
    size = human_df if human else str
    table = [header]
    for fs, _typ, total, used, avail, cap, mount in rows:
        table.append([fs, size(total), size(used), size(avail), f"{cap}%", mount])
    if typed:
        types = ["Type", *(r[1] for r in rows)]
        table = [[row[0], t, *row[1:]] for row, t in zip(table, types, strict=True)]
    left = {0, 1} if typed else {0}
    widths = [max(len(row[k]) for row in table) for k in range(len(table[0]) - 1)]
    if human:  # GNU df gives the size columns at least 5 characters
        last = len(widths) - 1  # Use%
        widths = [w if k in left or k == last else max(w, 5) for k, w in enumerate(widths)]
    out = []
    for row in table:
        cells = [
            row[k].ljust(widths[k]) if k in left else row[k].rjust(widths[k])
            for k in range(len(widths))
        ]
        out.append(" ".join(cells) + " " + row[-1] + "\n")
    if paths and not rows:
        out = []
    return Result(1 if errors else 0, "".join(out), "".join(errors))


def _meminfo(model: HostModel) -> dict[str, int]:
    values = {}
    for line in (model.file("/proc/meminfo") or "").splitlines():
        key, _, rest = line.partition(":")
        values[key] = int(rest.split()[0])
    return values


def free(model: HostModel, args: list[str], stdin: str, username: str) -> Result:
    scale: Callable[[int], str] = str
    for arg in args:
        if arg in ("-h", "--human"):
            scale = human_free
        elif arg in ("-m", "--mebi"):
            scale = lambda kib: str(kib // 1024)  # noqa: E731
        elif arg in ("-g", "--gibi"):
            scale = lambda kib: str(kib // 1024**2)  # noqa: E731
        elif arg in ("-b", "--bytes"):
            scale = lambda kib: str(kib * 1024)  # noqa: E731
        elif arg not in ("-k", "--kibi", "-w", "--wide"):
            return _usage("free", f"invalid option -- '{arg.lstrip('-')[:1]}'")
    m = _meminfo(model)
    total, avail = m["MemTotal"], m["MemAvailable"]
    cache = m["Buffers"] + m["Cached"] + m["SReclaimable"]
    swap_total, swap_free = m["SwapTotal"], m["SwapFree"]
    mem = [total, total - avail, m["MemFree"], m["Shmem"], cache, avail]
    swap = [swap_total, swap_total - swap_free, swap_free]
    out = [
        "               total        used        free      shared  buff/cache   available\n",
        "Mem:    " + "".join(f"{scale(v):>12}" for v in mem) + "\n",
        "Swap:   " + "".join(f"{scale(v):>12}" for v in swap) + "\n",
    ]
    return Result(0, "".join(out))


def date(model: HostModel, args: list[str], stdin: str, username: str) -> Result:
    now = time.gmtime(model.wall())
    formats = [a[1:] for a in args if a.startswith("+")]
    if any(not (a.startswith("+") or a in ("-u", "--utc", "-R", "-I")) for a in args):
        bad = next(a for a in args if not a.startswith("+"))
        return Result(1, stderr=f"date: invalid date '{bad}'\n")
    if "-R" in args:
        return Result(0, time.strftime("%a, %d %b %Y %H:%M:%S +0000\n", now))
    if "-I" in args:
        return Result(0, time.strftime("%Y-%m-%d\n", now))
    fmt = formats[0] if formats else "%a %b %e %H:%M:%S UTC %Y"
    return Result(0, time.strftime(fmt, now) + "\n")


def nproc(model: HostModel, args: list[str], stdin: str, username: str) -> Result:
    return Result(0, f"{model.cores}\n")


def ident(model: HostModel, args: list[str], stdin: str, username: str) -> Result:
    uid = 0 if username == "root" else 1000
    if args == ["-u"]:
        return Result(0, f"{uid}\n")
    if args == ["-un"]:
        return Result(0, f"{username}\n")
    extra = "" if uid == 0 else ",4(adm),27(sudo)"
    return Result(
        0, f"uid={uid}({username}) gid={uid}({username}) groups={uid}({username}){extra}\n"
    )


# --- services and the journal ------------------------------------------------------------

# unit, description, main pid, main command (process name from lab.model's table)
_SERVICES = (
    ("systemd-journald", "Journal Service", 412, "/lib/systemd/systemd-journald"),
    ("cron", "Regular background program processing daemon", 688, "/usr/sbin/cron -f"),
    ("rsyslog", "System Logging Service", 701, "/usr/sbin/rsyslogd -n -iNONE"),
    ("ssh", "OpenBSD Secure Shell server", 845, '"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100"'),
)
_WORKLOAD_UNITS = {
    "node_exporter": ("prometheus-node-exporter", "Prometheus exporter for machine metrics"),
    "python3": ("batch-worker", "Batch worker"),
    "postgres": ("postgresql", "PostgreSQL RDBMS"),
    "nginx": ("nginx", "A high performance web server and a reverse proxy server"),
    "java": ("app-server", "Java application server"),
}
_ALIASES = {"sshd": "ssh", "crond": "cron", "syslog": "rsyslog", "journald": "systemd-journald"}
# Red Hat's names and descriptions of the same daemons
_REDHAT = {"ssh": ("sshd", "OpenSSH server daemon"), "cron": ("crond", "Command Scheduler")}


def _services(model: HostModel) -> list[tuple[str, str, tuple]]:
    """(unit name without .service, description, process row of the model) per service."""
    procs = {p[0]: p for p in model.processes()}
    names = _REDHAT if _redhat(model) else {}
    out = [(*names.get(unit, (unit, desc)), procs[pid]) for unit, desc, pid, _ in _SERVICES]
    work = model.processes()[-1]
    unit, desc = _WORKLOAD_UNITS.get(work[1], (work[1], work[1]))
    out.append((unit, desc, work))
    return out


def _unit_name(model: HostModel, name: str) -> str:
    """The host's name of a unit: ``sshd`` is ``ssh`` on Debian, ``ssh`` is ``sshd`` on Rocky."""
    base = name.removesuffix(".service")
    base = _ALIASES.get(base, base)
    return _REDHAT[base][0] if _redhat(model) and base in _REDHAT else base


def _redhat(model: HostModel) -> bool:
    return 'ID_LIKE="rhel' in model.os_release


def _ago(seconds: float) -> str:
    s = int(seconds)
    weeks, days, hours, minutes = (
        s // 604800,
        s % 604800 // 86400,
        s % 86400 // 3600,
        s % 3600 // 60,
    )
    if weeks:
        return f"{weeks} week{'s' if weeks > 1 else ''} {days} day{'s' if days != 1 else ''} ago"
    if days:
        return f"{days} day{'s' if days > 1 else ''} {hours}h ago"
    if hours:
        return f"{hours}h {minutes}min ago"
    return f"{minutes}min {s % 60}s ago"


def _cpu_time(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    text = f"{secs:.3f}s"
    if minutes or hours:
        text = f"{minutes}min {text}"
    if hours:
        text = f"{hours}h {text}"
    return text


def _systemctl_status(model: HostModel, names: list[str], username: str) -> Result:
    services = {unit: (desc, proc) for unit, desc, proc in _services(model)}
    now = model.advance()
    out, err, status = [], [], 0
    for name in names:
        unit = _unit_name(model, name)
        if unit not in services:
            err.append(f"Unit {unit}.service could not be found.\n")
            status = 4
            continue
        desc, proc = services[unit]
        pid, comm, threads, rss_pages, share, start = (
            proc[0],
            proc[1],
            proc[4],
            proc[5],
            proc[7],
            proc[8],
        )
        up = now - model.boot
        since_up = min(start / HZ, up)
        since = model.wall() - (up - since_up)
        cpu_s = sum(c[0] + c[2] for c in model.cpu) / HZ * share
        command = next((c for u, _, p, c in _SERVICES if p == pid), f"/usr/bin/{comm}")
        out.append(
            f"\u25cf {unit}.service - {desc}\n"
            f"     Loaded: loaded (/lib/systemd/system/{unit}.service; enabled; preset: enabled)\n"
            f"     Active: active (running) since "
            f"{time.strftime('%a %Y-%m-%d %H:%M:%S UTC', time.gmtime(since))}; "
            f"{_ago(up - since_up)}\n"
            f"   Main PID: {pid} ({comm})\n"
            f"      Tasks: {threads} (limit: {model.mem_kb // 1700})\n"
            f"     Memory: {human_free(rss_pages * 4)[:-1]}\n"
            f"        CPU: {_cpu_time(cpu_s)}\n"
            f"     CGroup: /system.slice/{unit}.service\n"
            f"             \u2514\u2500{pid} {command}\n"
        )
        tail = _journal(model, 3, unit)
        if tail:
            out.append("\n" + "".join(tail))
        out.append("\n")
    text = "".join(out)
    return Result(status, text[:-1] if text.endswith("\n\n") else text, "".join(err))


def systemctl(model: HostModel, args: list[str], stdin: str, username: str) -> Result:
    words = [a for a in args if not a.startswith("-")]
    verb, names = (words[0], words[1:]) if words else ("list-units", [])
    units = {unit for unit, _, _ in _services(model)}
    if verb == "status":
        if not names:
            state = (
                f"\u25cf {model.host.name}\n    State: running\n    Units: {len(units)} loaded\n"
            )
            return Result(0, state)
        return _systemctl_status(model, names, username)
    if verb in ("is-active", "is-enabled"):
        answers = [_unit_name(model, n) in units for n in names]
        word = "active" if verb == "is-active" else "enabled"
        text = "".join((word if ok else "inactive") + "\n" for ok in answers)
        return Result(0 if answers and all(answers) else (3 if verb == "is-active" else 1), text)
    if verb in ("list-units", "list-unit-files"):
        rows = [(f"{u}.service", d) for u, d, _ in _services(model)]
        width = max(len(r[0]) for r in rows)
        out = [f"  {'UNIT':<{width}} LOAD   ACTIVE SUB     DESCRIPTION\n"]
        out += [f"  {u:<{width}} loaded active running {d}\n" for u, d in rows]
        out.append(f"\n{len(rows)} loaded units listed.\n")
        return Result(0, "".join(out))
    if verb in ("start", "stop", "restart", "reload", "enable", "disable"):
        if not names:
            return Result(1, stderr="Too few arguments.\n")
        unit = _unit_name(model, names[0])
        if unit not in units:
            return Result(
                5, stderr=f"Failed to {verb} {unit}.service: Unit {unit}.service not found.\n"
            )
        if username == "root":
            return Result(0)
        return Result(
            1,
            stderr=f"Failed to {verb} {unit}.service: Interactive authentication required.\n"
            f"See system logs and 'systemctl status {unit}.service' for details.\n",
        )
    return Result(1, stderr=f"Unknown command verb {verb}.\n")


_JOURNAL_STEP_S = 97  # one journal entry every ~1.5 minutes
_MESSAGES = (
    ("cron", "CRON", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"),
    ("cron", "CRON", "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"),
    ("cron", "CRON", "pam_unix(cron:session): session closed for user root"),
    ("ssh", "sshd", "Accepted publickey for mirror from 127.0.0.1 port {port} ssh2: ED25519"),
    ("ssh", "sshd", "pam_unix(sshd:session): session opened for user mirror(uid=1000) by (uid=0)"),
    ("ssh", "sshd", "Received disconnect from 127.0.0.1 port {port}:11: disconnected by user"),
    ("", "systemd", "Starting sysstat-collect.service - system activity accounting tool..."),
    ("", "systemd", "sysstat-collect.service: Deactivated successfully."),
    ("", "systemd", "Finished sysstat-collect.service - system activity accounting tool."),
    ("rsyslog", "rsyslogd", '[origin software="rsyslogd" swVersion="8.2302.0"] rsyslogd was HUPed'),
    ("systemd-journald", "systemd-journald", "Data hash table of /var/log/journal is 51% full."),
    ("", "systemd", "Started session-{session}.scope - Session {session} of User mirror."),
)


def _journal(model: HostModel, count: int, unit: str | None = None) -> list[str]:
    """The newest ``count`` entries (oldest first), from fixed slots of wall-clock time, so
    that asking twice gives the same lines; none from before the host booted."""
    wall = model.wall()
    booted = wall - (model.advance() - model.boot)
    pids = {unit: pid for unit, _, pid, _ in _SERVICES}
    slot = int(wall // _JOURNAL_STEP_S)
    entries: list[str] = []
    for back in range(5000):
        ts = (slot - back) * _JOURNAL_STEP_S + 13
        if len(entries) >= count or ts < booted:
            break
        if ts > wall:
            continue
        seed = zlib.crc32(f"{model.host.name}:{slot - back}".encode())
        owner, ident, message = _MESSAGES[seed % len(_MESSAGES)]
        if unit is not None and (_unit_name(model, owner) if owner else "") != unit:
            continue
        pid = 1 if ident == "systemd" else pids.get(owner, 9000 + seed % 20000)
        if ident in ("CRON", "sshd") and owner:
            pid = 10000 + seed % 50000
        text = message.format(port=30000 + seed % 30000, session=seed % 900 + 1)
        when = time.strftime("%b %d %H:%M:%S", time.gmtime(ts))
        entries.append(f"{when} {model.host.name} {ident}[{pid}]: {text}\n")
    return entries[::-1]


def journalctl(model: HostModel, args: list[str], stdin: str, username: str) -> Result:
    count, unit = 10, None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-n", "--lines") and i + 1 < len(args):
            value, i = args[i + 1], i + 1
        elif arg.startswith("--lines="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-n") and len(arg) > 2:
            value = arg[2:]
        elif arg in ("-u", "--unit") and i + 1 < len(args):
            unit, i = _unit_name(model, args[i + 1]), i + 1
            i += 1
            continue
        elif arg.startswith("--unit="):
            unit = _unit_name(model, arg.split("=", 1)[1])
            i += 1
            continue
        elif arg in ("--no-pager", "-b", "-q", "--quiet", "-e", "-f", "--follow", "-x"):
            i += 1
            continue
        else:
            return Result(1, stderr=f"journalctl: invalid option -- '{arg.lstrip('-')[:1]}'\n")
        if not value.isdigit():
            return Result(1, stderr=f"Failed to parse lines '{value}'.\n")
        count = int(value)
        i += 1
    entries = _journal(model, count, unit)
    if not entries:
        return Result(0, "-- No entries --\n")
    return Result(0, "".join(entries))


# --- text filters --------------------------------------------------------------------------


def _count_option(tool: str, args: list[str]) -> tuple[int, list[str]] | Result:
    """``-n N``, ``-nN``, ``-N`` and ``--lines=N`` of head and tail; the other arguments."""
    count, rest, i = 10, [], 0
    while i < len(args):
        arg = args[i]
        value = None
        if arg == "-n" and i + 1 < len(args):
            value, i = args[i + 1], i + 1
        elif arg.startswith("-n"):
            value = arg[2:]
        elif arg.startswith("--lines="):
            value = arg[8:]
        elif arg.startswith("-") and arg[1:].isdigit():
            value = arg[1:]
        elif arg in ("-f", "-q"):
            pass
        elif arg.startswith("-") and arg != "-":
            return _usage(tool, f"invalid option -- '{arg[1:2]}'")
        else:
            rest.append(arg)
        if value is not None:
            if not value.lstrip("+").isdigit():
                return Result(1, stderr=f"{tool}: invalid number of lines: '{value}'\n")
            count = int(value.lstrip("+"))
        i += 1
    return count, rest


def head(model: HostModel, args: list[str], stdin: str, username: str) -> Result:
    parsed = _count_option("head", args)
    if isinstance(parsed, Result):
        return parsed
    count, files = parsed
    texts, errors = _inputs("head", model, files, stdin)
    out = "".join("".join(_lines(t)[:count]) for t in texts)
    return Result(1 if errors else 0, out, "".join(errors))


def tail(model: HostModel, args: list[str], stdin: str, username: str) -> Result:
    parsed = _count_option("tail", args)
    if isinstance(parsed, Result):
        return parsed
    count, files = parsed
    texts, errors = _inputs("tail", model, files, stdin)
    out = "".join("".join(_lines(t)[-count:] if count else []) for t in texts)
    return Result(1 if errors else 0, out, "".join(errors))


def _basic_regex(pattern: str) -> str:
    """A POSIX basic regular expression as Python's: ``\\|``, ``\\(``… are the operators."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(nxt if nxt in "|(){}+?" else "\\" + nxt)
            i += 2
            continue
        out.append("\\" + c if c in "|(){}+?" else c)
        i += 1
    return "".join(out)


_GREP_USAGE = "Usage: grep [OPTION]... PATTERNS [FILE]...\n"


def grep(model: HostModel, args: list[str], stdin: str, username: str) -> Result:
    flags: set[str] = set()
    patterns: list[str] = []
    files: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-e" and i + 1 < len(args):
            patterns.append(args[i + 1])
            i += 2
            continue
        if arg.startswith("-") and len(arg) > 1 and not files and arg != "--":
            for letter in arg[1:]:
                if letter not in "ivcnEFwqlsh":
                    return Result(
                        2,
                        stderr=f"grep: invalid option -- '{letter}'\n{_GREP_USAGE}",
                    )
                flags.add(letter)
        elif not patterns and "e" not in flags:
            patterns.append(arg)
        else:
            files.append(arg)
        i += 1
    if not patterns:
        return Result(2, stderr=_GREP_USAGE)
    sources = [
        re.escape(p) if "F" in flags else (p if "E" in flags else _basic_regex(p)) for p in patterns
    ]
    if "w" in flags:
        sources = [rf"\b(?:{s})\b" for s in sources]
    try:
        regex = re.compile(
            "|".join(f"(?:{s})" for s in sources), re.IGNORECASE if "i" in flags else 0
        )
    except re.error:
        return Result(2, stderr="grep: Unmatched ( or \\(\n")
    texts, errors = _inputs("grep", model, files, stdin)
    named = len(files) > 1 and "h" not in flags
    out, matched = [], 0
    for path, text in zip(files or ["(standard input)"], texts, strict=False):
        count = 0
        for number, line in enumerate(_lines(text), 1):
            if bool(regex.search(line.rstrip("\n"))) == ("v" not in flags):
                count += 1
                if not ({"c", "q", "l"} & flags):
                    prefix = (f"{path}:" if named else "") + (f"{number}:" if "n" in flags else "")
                    out.append(prefix + (line if line.endswith("\n") else line + "\n"))
        matched += count
        if "c" in flags:
            out.append((f"{path}:" if named else "") + f"{count}\n")
        elif "l" in flags and count:
            out.append(f"{path}\n")
    if "s" in flags:
        errors = []
    status = 2 if errors else (0 if matched else 1)
    return Result(status, "" if "q" in flags else "".join(out), "".join(errors))


def wc(model: HostModel, args: list[str], stdin: str, username: str) -> Result:
    letters = "".join(a[1:] for a in args if a.startswith("-") and len(a) > 1)
    files = [a for a in args if not a.startswith("-") or a == "-"]
    if set(letters) - set("lwcm"):
        return _usage("wc", f"invalid option -- '{sorted(set(letters) - set('lwcm'))[0]}'")
    chosen = [k for k in "lwc" if k in letters.replace("m", "c")] or ["l", "w", "c"]
    texts, errors = _inputs("wc", model, files, stdin)
    rows = []
    for text in texts:
        counts = {"l": text.count("\n"), "w": len(text.split()), "c": len(text.encode())}
        rows.append([counts[k] for k in chosen])
    if not files and len(chosen) == 1:
        out = f"{rows[0][0]}\n"
    else:
        width = 7 if not files else max(len(str(v)) for row in rows for v in row)
        names = files or [""]
        out = "".join(
            " ".join(f"{v:>{width}}" for v in row) + (f" {name}" if name else "") + "\n"
            for row, name in zip(rows, names, strict=False)
        )
    return Result(1 if errors else 0, out, "".join(errors))


def sort(model: HostModel, args: list[str], stdin: str, username: str) -> Result:
    letters = "".join(a[1:] for a in args if a.startswith("-") and len(a) > 1)
    files = [a for a in args if not a.startswith("-") or a == "-"]
    texts, errors = _inputs("sort", model, files, stdin)
    lines = [line.rstrip("\n") for t in texts for line in _lines(t)]

    def number(line: str) -> float:
        match = re.match(r"\s*(-?\d+(?:\.\d+)?)", line)
        return float(match[1]) if match else 0.0

    if "n" in letters:
        lines.sort(key=lambda s: (number(s), s), reverse="r" in letters)
    else:
        lines.sort(reverse="r" in letters)
    if "u" in letters:
        lines = list(dict.fromkeys(lines))
    return Result(2 if errors else 0, "".join(f"{s}\n" for s in lines), "".join(errors))


def uniq(model: HostModel, args: list[str], stdin: str, username: str) -> Result:
    counted = "-c" in args
    groups: list[list] = []
    for line in _lines(stdin):
        text = line.rstrip("\n")
        if groups and groups[-1][0] == text:
            groups[-1][1] += 1
        else:
            groups.append([text, 1])
    if counted:
        return Result(0, "".join(f"{n:>7} {text}\n" for text, n in groups))
    return Result(0, "".join(f"{text}\n" for text, _ in groups))


TOOLS: dict[str, Tool] = {
    "free": free,
    "date": date,
    "nproc": nproc,
    "id": ident,
    "systemctl": systemctl,
    "journalctl": journalctl,
    "head": head,
    "tail": tail,
    "grep": grep,
    "wc": wc,
    "sort": sort,
    "uniq": uniq,
}
