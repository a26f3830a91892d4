"""The lab simulator (lab): real asyncssh clients against simulated hosts on 127.77.x."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path

import asyncssh
import pytest

from collectors.frame import parse_frame
from lab import PROFILES, HostModel, LabServer, SimHost, ensure_keys, make_lab

REFLECTOR = (Path(__file__).parents[1] / "collectors" / "linux" / "reflector.sh").read_text()
REFLECTOR_COMMAND = "exec /bin/sh -c " + shlex.quote(REFLECTOR)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return ensure_keys(tmp_path_factory.mktemp("simkeys"))


@pytest.fixture
async def lab(keys):
    host_key, _, client_pub = keys
    hosts = make_lab(6, subnet="127.77.0.0/24", start=40, seed="test")
    server = LabServer(hosts, 0, host_key, client_pub)
    await server.start()
    yield server
    await server.stop()


def connect(keys, address: str, port: int):
    return asyncssh.connect(
        address,
        port,
        username="mirror",
        client_keys=[str(keys[1])],
        known_hosts=None,
        connect_timeout=5,
    )


async def ask(process: asyncssh.SSHClientProcess, request: bytes) -> bytes:
    process.stdin.write(request)
    return await asyncio.wait_for(process.stdout.readuntil(b"@@E\n"), 5)


def cpu_total(stat: str) -> int:
    first = stat.splitlines()[0].split()
    assert first[0] == "cpu" and len(first) == 11
    return sum(int(x) for x in first[1:])


def eth0_rx(netdev: str) -> int:
    for line in netdev.splitlines()[2:]:
        name, rest = line.split(":", 1)
        if name.strip() == "eth0":
            return int(rest.split()[0])
    raise AssertionError("no eth0")


# --- pure model --------------------------------------------------------------------------


def test_make_lab_addresses_names_and_profiles() -> None:
    hosts = make_lab(300)
    assert [h.name for h in hosts[:2]] == ["lab-001", "lab-002"]
    assert hosts[0].address == "127.77.0.10"
    assert hosts[244].address == "127.77.0.254"
    assert hosts[245].address == "127.77.1.1"
    assert len({h.address for h in hosts}) == 300
    assert all(h.address.startswith("127.77.") for h in hosts)
    assert [h.profile for h in hosts[:5]] == list(PROFILES)
    # stable across calls (no hash() randomisation), varied across the lab
    assert [h.profile for h in make_lab(300)] == [h.profile for h in hosts]
    assert set(h.profile for h in hosts) == set(PROFILES)
    assert make_lab(3)[0].name == "lab-01"


@pytest.mark.parametrize("address", ["10.0.0.5", "192.168.1.10", "8.8.8.8", "::1", "lab"])
def test_non_loopback_address_refused(address: str, keys) -> None:
    with pytest.raises(ValueError):
        SimHost("x", address)
    host = SimHost("x", "127.77.0.9")
    host.address = address  # bypassing the dataclass check must not get past the server
    with pytest.raises(ValueError):
        LabServer([host], 2222, keys[0], keys[2])


@pytest.mark.parametrize("subnet", ["10.0.0.0/24", "192.168.0.0/24", "0.0.0.0/0"])
def test_non_loopback_subnet_refused(subnet: str) -> None:
    with pytest.raises(ValueError):
        make_lab(3, subnet=subnet)


def test_lab_never_leaves_loopback() -> None:
    with pytest.raises(ValueError):
        make_lab(10, subnet="127.255.255.0/24", start=250)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_rates_are_plausible(profile: str) -> None:
    clock = FakeClock()
    model = HostModel(SimHost("h", "127.77.0.5", profile, seed="rates"), clock=clock)
    busy_shares = []
    for _ in range(12):
        a = parse_frame(model.fast_frame())
        clock.t += 10
        b = parse_frame(model.fast_frame())
        sa, sb = a.files["/proc/stat"].split()[1:11], b.files["/proc/stat"].split()[1:11]
        delta = [int(y) - int(x) for x, y in zip(sa, sb, strict=True)]
        assert all(d >= 0 for d in delta)
        assert sum(delta) == pytest.approx(model.cores * 100 * 10, abs=model.cores * 8)
        busy_shares.append(1 - (delta[3] + delta[4]) / sum(delta))
        up_a = float(a.files["/proc/uptime"].split()[0])
        up_b = float(b.files["/proc/uptime"].split()[0])
        assert up_b - up_a == pytest.approx(10, abs=0.02)
        rx = (eth0_rx(b.files["/proc/net/dev"]) - eth0_rx(a.files["/proc/net/dev"])) / 10
        if profile == "network-heavy":
            assert rx > 1e7
        else:
            assert 0 < rx < 3e6
    if profile == "busy":
        assert min(busy_shares) > 0.45 and max(busy_shares) < 1.0
        assert max(busy_shares) - min(busy_shares) > 0.01  # it wanders
    elif profile == "idle":
        assert max(busy_shares) < 0.12
    mem = dict(line.split(":") for line in b.files["/proc/meminfo"].splitlines())
    used = 1 - int(mem["MemAvailable"].split()[0]) / int(mem["MemTotal"].split()[0])
    if profile == "memory-tight":
        assert used > 0.85
        assert int(mem["SwapFree"].split()[0]) < int(mem["SwapTotal"].split()[0])
    else:
        assert used < 0.85


def test_uptime_and_btime_consistent() -> None:
    clock = FakeClock()
    model = HostModel(SimHost("h", "127.77.0.5", "idle"), clock=clock, wall=lambda: 1.7e9)
    frame = parse_frame(model.fast_frame())
    uptime = float(frame.files["/proc/uptime"].split()[0])
    btime = int(frame.files["/proc/stat"].split("btime ")[1].split()[0])
    assert abs((1.7e9 - uptime) - btime) <= 1
    assert cpu_total(frame.files["/proc/stat"]) == pytest.approx(
        uptime * 100 * model.cores, rel=1e-3
    )
    model.reboot()
    frame = parse_frame(model.fast_frame())
    assert float(frame.files["/proc/uptime"].split()[0]) < 20
    assert cpu_total(frame.files["/proc/stat"]) < 20 * 100 * model.cores + 10


# --- over SSH ----------------------------------------------------------------------------


async def test_frames_parse_and_counters_advance(lab: LabServer, keys) -> None:
    host = lab.hosts[1]
    async with connect(keys, host.address, lab.port) as conn:
        process = await conn.create_process(REFLECTOR_COMMAND, encoding=None)
        raw1 = await ask(process, b"s\n")
        await asyncio.sleep(0.3)
        raw2 = await ask(process, b"s\n")
        rawx = await ask(process, b"x\n")
        assert await ask(process, b"what\n") == b"@@B ? 0\n@@E\n"
        process.stdin.write(b"q\n")
        await asyncio.wait_for(process.wait(), 5)
        assert process.exit_status == 0

    one, two, slow = parse_frame(raw1), parse_frame(raw2), parse_frame(rawx)
    assert one.kind == "s" and slow.kind == "x"
    assert list(one.files)[:6] == [
        "/proc/uptime",
        "/proc/stat",
        "/proc/meminfo",
        "/proc/loadavg",
        "/proc/net/dev",
        "/proc/diskstats",
    ]
    assert one.files["/sys/class/hwmon/hwmon0/name"] == "coretemp\n"
    assert one.files["/sys/class/hwmon/hwmon0/temp1_label"] == "Package id 0\n"
    assert 20000 <= int(one.files["/sys/class/hwmon/hwmon0/temp1_input"]) <= 100000
    assert "MemAvailable:" in one.files["/proc/meminfo"]
    assert len(one.files["/proc/loadavg"].split()) == 5
    assert "eth0:" in one.files["/proc/net/dev"] and "    lo:" in one.files["/proc/net/dev"]
    assert any(
        " sda " in line or " nvme0n1 " in line for line in one.files["/proc/diskstats"].splitlines()
    )
    assert all(
        len(line.split()) == 11
        for line in one.files["/proc/stat"].splitlines()
        if line.startswith("cpu")
    )

    # counters advance with real time
    up1 = float(one.files["/proc/uptime"].split()[0])
    up2 = float(two.files["/proc/uptime"].split()[0])
    assert 0.25 < up2 - up1 < 2
    assert cpu_total(two.files["/proc/stat"]) > cpu_total(one.files["/proc/stat"])
    assert eth0_rx(two.files["/proc/net/dev"]) > eth0_rx(one.files["/proc/net/dev"])

    # slow frame
    assert slow.files["/proc/sys/kernel/hostname"] == f"{host.name}\n"
    assert "PRETTY_NAME=" in slow.files["/etc/os-release"]
    assert "model name" in slow.files["/proc/cpuinfo"]
    assert slow.commands["getconf"] == (0, "100")
    assert slow.commands["uname"] == (0, "x86_64")
    status, df = slow.commands["df"]
    assert status == 0 and df.startswith("Filesystem") and not df.endswith("\n")
    mounts = [line.split()[-1] for line in df.splitlines()[1:]]
    assert "/" in mounts and "/data" in mounts
    stats = [
        p for p in slow.files if p.startswith("/proc/") and p.endswith("/stat") and p[6].isdigit()
    ]
    assert len(stats) >= 5
    for path in stats:
        fields = slow.files[path].split()
        assert fields[0] == path.split("/")[2] and len(fields) == 52


async def test_utime_advances(keys) -> None:
    hosts = [SimHost("hot", "127.77.3.9", "busy", seed="u")]
    server = LabServer(hosts, 0, keys[0], keys[2])
    async with server, connect(keys, "127.77.3.9", server.port) as conn:
        process = await conn.create_process(REFLECTOR_COMMAND, encoding=None)
        first = parse_frame(await ask(process, b"x\n"))
        await asyncio.sleep(0.3)
        second = parse_frame(await ask(process, b"x\n"))
        process.stdin.write_eof()

    def utimes(frame) -> dict[str, int]:
        return {p: int(t.split()[13]) for p, t in frame.files.items() if p.endswith("/stat")}

    a, b = utimes(first), utimes(second)
    assert a.keys() == b.keys()
    assert all(b[p] >= a[p] for p in a)
    assert any(b[p] > a[p] for p in a)


async def test_reboot_resets_uptime(lab: LabServer, keys) -> None:
    host = lab.hosts[0]
    async with connect(keys, host.address, lab.port) as conn:
        process = await conn.create_process(REFLECTOR_COMMAND, encoding=None)
        before = parse_frame(await ask(process, b"s\n"))
        lab.reboot(host.name)
        with pytest.raises((asyncssh.Error, ConnectionError, asyncio.IncompleteReadError)):
            await ask(process, b"s\n")
    async with connect(keys, host.address, lab.port) as conn:
        process = await conn.create_process(REFLECTOR_COMMAND, encoding=None)
        after = parse_frame(await ask(process, b"s\n"))
    assert float(before.files["/proc/uptime"].split()[0]) > 3600
    assert float(after.files["/proc/uptime"].split()[0]) < 20
    assert cpu_total(after.files["/proc/stat"]) < cpu_total(before.files["/proc/stat"])
    btime = lambda f: int(f.files["/proc/stat"].split("btime ")[1].split()[0])  # noqa: E731
    assert btime(after) > btime(before)


async def test_set_down_refuses_then_comes_back(lab: LabServer, keys) -> None:
    down, other = lab.hosts[2], lab.hosts[3]
    async with connect(keys, down.address, lab.port) as conn:
        assert (await conn.run("true")).exit_status == 0
        lab.set_down(down.name, True)
        await asyncio.wait_for(conn.wait_closed(), 5)
    with pytest.raises((ConnectionRefusedError, asyncssh.Error, OSError)):
        async with connect(keys, down.address, lab.port):
            pass
    async with connect(keys, other.address, lab.port) as conn:
        assert (await conn.run("hostname")).stdout == f"{other.name}\n"
    lab.set_down(down.name, False)
    await lab.settle()
    async with connect(keys, down.address, lab.port) as conn:
        assert (await conn.run("hostname")).stdout == f"{down.name}\n"
    # and down again, now from its own listener
    lab.set_down(down.name, True)
    with pytest.raises((ConnectionRefusedError, asyncssh.Error, OSError)):
        async with connect(keys, down.address, lab.port):
            pass


async def test_flappy_host_goes_down_and_comes_back_rebooted(keys) -> None:
    hosts = make_lab(3, start=60, seed="flap")
    flappy = hosts[2]
    server = LabServer(
        hosts, 0, keys[0], keys[2], flappy=flappy.name, flappy_period=1.2, flappy_downtime=0.6
    )
    async with server:
        async with connect(keys, flappy.address, server.port) as conn:
            up_before = float((await conn.run("cat /proc/uptime")).stdout.split()[0])
        saw_down = False
        for _ in range(60):
            await asyncio.sleep(0.05)
            if flappy.name in server.down:
                saw_down = True
                with pytest.raises((ConnectionRefusedError, asyncssh.Error, OSError)):
                    async with connect(keys, flappy.address, server.port):
                        pass
                break
        assert saw_down
        for _ in range(60):
            await asyncio.sleep(0.05)
            if flappy.name not in server.down:
                break
        await server.settle()
        async with connect(keys, flappy.address, server.port) as conn:
            up_after = float((await conn.run("cat /proc/uptime")).stdout.split()[0])
    assert up_before > 3600 and up_after < 20


async def test_commands_and_exit_status(lab: LabServer, keys) -> None:
    host = lab.hosts[0]
    async with connect(keys, host.address, lab.port) as conn:
        r = await conn.run("uptime")
        assert r.exit_status == 0 and " up " in r.stdout and "load average:" in r.stdout
        assert (await conn.run("true")).exit_status == 0
        assert (await conn.run("false")).exit_status == 1
        r = await conn.run("frobnicate --now")
        assert r.exit_status == 127
        assert r.stderr == "sh: 1: frobnicate: not found\n" and r.stdout == ""
        r = await conn.run("echo hello  'big world'")
        assert (r.exit_status, r.stdout) == (0, "hello big world\n")
        assert (await conn.run("hostname")).stdout == f"{host.name}\n"
        assert (await conn.run("exit 3")).exit_status == 3
        assert (await conn.run("sh -c 'exit 4'")).exit_status == 4
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        assert (await conn.run("sleep 0.2")).exit_status == 0
        assert loop.time() - t0 >= 0.19
        r = await conn.run("cat /nope")
        assert r.exit_status == 1 and "No such file" in r.stderr
        r = await conn.run("cat /proc/loadavg")
        assert r.exit_status == 0 and len(r.stdout.split()) == 5
        r = await conn.run("df -PkT")
        assert r.exit_status == 0 and r.stdout.startswith("Filesystem")
        r = await conn.run("uname -a")
        assert r.stdout.startswith(f"Linux {host.name} ")


async def test_interactive_shell(lab: LabServer, keys) -> None:
    host = lab.hosts[0]
    async with connect(keys, host.address, lab.port) as conn:
        process = await conn.create_process()
        process.stdin.write("echo hi there\nhostname\nexit\n")
        result = await asyncio.wait_for(process.wait(), 5)
    out = result.stdout
    assert "hi there\n" in out and f"{host.name}\n" in out
    assert f"mirror@{host.name}:~$ " in out


async def test_wrong_key_is_refused(lab: LabServer, keys, tmp_path: Path) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519")
    with pytest.raises(asyncssh.PermissionDenied):
        async with asyncssh.connect(
            lab.hosts[0].address,
            lab.port,
            username="mirror",
            client_keys=[other],
            known_hosts=None,
            connect_timeout=5,
        ):
            pass


def test_ensure_keys_reuses(tmp_path: Path) -> None:
    first = ensure_keys(tmp_path)
    content = [p.read_bytes() for p in first]
    second = ensure_keys(tmp_path)
    assert first == second and [p.read_bytes() for p in second] == content
    assert first[1].stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("profile", PROFILES)
def test_frames_read_cleanly_by_the_linux_collectors(profile: str) -> None:
    sample = pytest.importorskip("collectors.linux.sample")
    clock = FakeClock()
    model = HostModel(SimHost("h", "127.77.0.5", profile, seed="collectors"), clock=clock)
    fast1 = sample.parse_fast(parse_frame(model.fast_frame()))
    slow = sample.parse_slow(parse_frame(model.slow_frame()))
    clock.t += 5
    fast2 = sample.parse_fast(parse_frame(model.fast_frame()))
    assert fast1.problems == () and fast2.problems == () and slow.problems == ()
    metrics = sample.fast_metrics(fast1, fast2)
    assert 0 <= metrics["cpu.busy_pct"] <= 100


async def test_interactive_shell_on_a_pty_reports_its_size(lab: LabServer, keys) -> None:
    host = lab.hosts[0]
    async with connect(keys, host.address, lab.port) as conn:
        process = await conn.create_process(term_type="xterm", term_size=(100, 30))
        process.stdin.write("stty size\n")
        await asyncio.wait_for(process.stdout.readuntil("30 100\r\n"), 5)
        process.change_terminal_size(120, 40)
        process.stdin.write("stty size\necho 안녕\nexit\n")
        result = await asyncio.wait_for(process.wait(), 5)
    assert "40 120\r\n" in result.stdout and "안녕\r\n" in result.stdout
