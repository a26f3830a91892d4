"""Synthetic Linux hosts: counters that advance with real time, rendered as REFLECTOR frames.

Each :class:`HostModel` keeps cumulative counters as floats and integrates them lazily, on
every read, over the real time elapsed since the previous read, at rates given by its profile
and a slow "wander" (two sines with per-host phases).  Counters therefore never go backwards
(except on a simulated reboot), and rates computed from any two samples are plausible.

Rendering is cheap: the static text (cpuinfo, os-release, header lines, the long ``intr``
tail) is built once, and only the numbers that change are formatted on each frame.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

PROFILES = ("idle", "busy", "io-heavy", "network-heavy", "memory-tight")
HZ = 100  # getconf CLK_TCK
LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
BOOT_DELAY_S = 15.0  # uptime when sshd answers again after a simulated reboot


def check_loopback(address: str) -> str:
    """Return ``address`` if it is an IPv4 address in 127.0.0.0/8, else raise ValueError."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError as exc:
        raise ValueError(f"not an IP address: {address!r}") from exc
    if ip.version != 4 or ip not in LOOPBACK:
        raise ValueError(f"simulator refuses non-loopback address {address} (127.0.0.0/8 only)")
    return str(ip)


def stable_seed(*parts: str) -> int:
    """A seed that is the same in every process and run (unlike ``hash()``)."""
    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass
class SimHost:
    """One simulated host: what the lab is made of. Traits not given are derived from a
    stable seed of ``seed`` and ``name``."""

    name: str
    address: str
    profile: str = "idle"
    seed: str = "demo"
    cores: int = 0  # 0: derived
    memory_mb: int = 0  # 0: derived
    distro: str = ""  # "": derived; one of DISTROS' keys
    gpu: bool | None = None  # None: derived (some busy hosts have an NVIDIA GPU)
    username: str = "mirror"
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.address = check_loopback(self.address)
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; one of {', '.join(PROFILES)}")


def make_lab(
    n: int, subnet: str = "127.77.0.0/24", start: int = 10, seed: str = "demo"
) -> list[SimHost]:
    """``n`` hosts named lab-01… on consecutive loopback addresses.

    Addresses run from ``.start`` to ``.254`` of the subnet's first /24, then ``.1``–``.254``
    of the following /24s (127.77.1.x, …); every address is checked to be in 127.0.0.0/8.
    The first five hosts take the five profiles in turn (so a small demo shows each); the
    rest are drawn from a stable seed.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    net = ipaddress.ip_network(subnet, strict=False)
    if not isinstance(net, ipaddress.IPv4Network) or not net.subnet_of(LOOPBACK):
        raise ValueError(f"simulator refuses non-loopback subnet {subnet} (127.0.0.0/8 only)")
    if not 1 <= start <= 254:
        raise ValueError("start must be in 1..254")
    base = int(net.network_address) & ~0xFF
    width = max(2, len(str(n)))
    hosts: list[SimHost] = []
    block, octet = 0, start
    weights: tuple[tuple[str, int], ...] = (
        ("idle", 40),
        ("busy", 20),
        ("io-heavy", 14),
        ("network-heavy", 14),
    )
    weights += (("memory-tight", 12),)
    for i in range(n):
        if octet > 254:
            block, octet = block + 1, 1
        address = str(ipaddress.ip_address(base + block * 256 + octet))
        name = f"lab-{i + 1:0{width}d}"
        if i < len(PROFILES):
            profile = PROFILES[i]
        else:
            r = stable_seed(seed, name, "profile") % 100
            for profile, w in weights:  # noqa: B007 - the loop leaves the pick in profile
                if r < w:
                    break
                r -= w
        hosts.append(
            SimHost(name=name, address=check_loopback(address), profile=profile, seed=seed)
        )
        octet += 1
    return hosts


# --- static facts ------------------------------------------------------------------------

DISTROS: dict[str, tuple[str, str]] = {
    # key: (os-release text, kernel release)
    "debian12": (
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
        'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
        'HOME_URL="https://www.debian.org/"\nSUPPORT_URL="https://www.debian.org/support"\n'
        'BUG_REPORT_URL="https://bugs.debian.org/"\n',
        "6.1.0-28-amd64",
    ),
    "ubuntu2204": (
        'PRETTY_NAME="Ubuntu 22.04.5 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n'
        'VERSION="22.04.5 LTS (Jammy Jellyfish)"\nVERSION_CODENAME=jammy\nID=ubuntu\n'
        'ID_LIKE=debian\nHOME_URL="https://www.ubuntu.com/"\n'
        'SUPPORT_URL="https://help.ubuntu.com/"\n'
        'BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"\nUBUNTU_CODENAME=jammy\n',
        "5.15.0-126-generic",
    ),
    "ubuntu2404": (
        'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n'
        'VERSION="24.04.1 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\n'
        'ID_LIKE=debian\nHOME_URL="https://www.ubuntu.com/"\n'
        'SUPPORT_URL="https://help.ubuntu.com/"\n'
        'BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"\nUBUNTU_CODENAME=noble\n'
        "LOGO=ubuntu-logo\n",
        "6.8.0-49-generic",
    ),
    "rocky9": (
        'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
        'VERSION_ID="9.4"\nPLATFORM_ID="platform:el9"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n'
        'ANSI_COLOR="0;32"\nHOME_URL="https://rockylinux.org/"\n',
        "5.14.0-427.13.1.el9_4.x86_64",
    ),
}

CPU_MODELS: tuple[tuple[str, str, float, tuple[int, ...]], ...] = (
    # (vendor, model name, MHz, possible core counts)
    ("GenuineIntel", "Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz", 2900.0, (8, 16)),
    ("GenuineIntel", "Intel(R) Celeron(R) N5105 @ 2.00GHz", 2000.0, (4,)),
    ("GenuineIntel", "Intel(R) Xeon(R) E-2236 CPU @ 3.40GHz", 3400.0, (6, 12)),
    ("AuthenticAMD", "AMD Ryzen 7 5800X 8-Core Processor", 3800.0, (8, 16)),
    ("AuthenticAMD", "AMD EPYC 7302P 16-Core Processor", 3000.0, (16, 32)),
    ("GenuineIntel", "Intel(R) Core(TM) i5-8500T CPU @ 2.10GHz", 2100.0, (6,)),
)

_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr "
    "sse sse2 ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc "
    "cpuid pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx "
    "f16c rdrand lahf_lm abm 3dnowprefetch fsgsbase bmi1 avx2 smep bmi2 erms invpcid rdseed adx "
    "smap clflushopt xsaveopt xsavec xgetbv1 xsaves arat umip"
)


@lru_cache(maxsize=64)
def cpuinfo_text(vendor: str, model: str, mhz: float, cores: int) -> str:
    """/proc/cpuinfo for ``cores`` logical CPUs (shared between hosts of the same kind)."""
    out = []
    physical = max(1, cores // 2)
    for i in range(cores):
        out.append(
            f"processor\t: {i}\nvendor_id\t: {vendor}\ncpu family\t: 6\nmodel\t\t: 165\n"
            f"model name\t: {model}\nstepping\t: 5\nmicrocode\t: 0xf8\n"
            f"cpu MHz\t\t: {mhz:.3f}\ncache size\t: 16384 KB\nphysical id\t: 0\n"
            f"siblings\t: {cores}\ncore id\t\t: {i % physical}\ncpu cores\t: {physical}\n"
            f"apicid\t\t: {i}\ninitial apicid\t: {i}\nfpu\t\t: yes\nfpu_exception\t: yes\n"
            f"cpuid level\t: 22\nwp\t\t: yes\nflags\t\t: {_FLAGS}\n"
            f"bogomips\t: {mhz * 2:.2f}\nclflush size\t: 64\ncache_alignment\t: 64\n"
            "address sizes\t: 39 bits physical, 48 bits virtual\npower management:\n\n"
        )
    return "".join(out)


_MEMINFO_LABELS = [
    "MemTotal",
    "MemFree",
    "MemAvailable",
    "Buffers",
    "Cached",
    "SwapCached",
    "Active",
    "Inactive",
    "Active(anon)",
    "Inactive(anon)",
    "Active(file)",
    "Inactive(file)",
    "Unevictable",
    "Mlocked",
    "SwapTotal",
    "SwapFree",
    "Zswap",
    "Zswapped",
    "Dirty",
    "Writeback",
    "AnonPages",
    "Mapped",
    "Shmem",
    "KReclaimable",
    "Slab",
    "SReclaimable",
    "SUnreclaim",
    "KernelStack",
    "PageTables",
    "SecPageTables",
    "NFS_Unstable",
    "Bounce",
    "WritebackTmp",
    "CommitLimit",
    "Committed_AS",
    "VmallocTotal",
    "VmallocUsed",
    "VmallocChunk",
    "Percpu",
    "HardwareCorrupted",
    "AnonHugePages",
    "ShmemHugePages",
    "ShmemPmdMapped",
    "FileHugePages",
    "FilePmdMapped",
]
_MEMINFO_TEMPLATE = (
    "".join(f"{(label + ':'):<16}{{{i}:>8}} kB\n" for i, label in enumerate(_MEMINFO_LABELS))
    + "HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\n"
    "HugePages_Surp:        0\nHugepagesize:       2048 kB\nHugetlb:               0 kB\n"
    "DirectMap4k:      {dm4k:>8} kB\nDirectMap2M:    {dm2m:>8} kB\nDirectMap1G:    {dm1g:>8} kB\n"
)
_NETDEV_HEADER = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
)
# /proc/stat "intr" after the total: a few live-looking IRQ lines then many zeros.
_INTR_TAIL = " 0 9 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0" + " 0" * 400

# (profile) -> cpu busy range, iowait range, memory used range, eth0 rx/tx B/s ranges,
# disk read/write sectors/s ranges, swap used range, /data growth GB/day range
_PROFILE_PARAMS: dict[str, dict[str, tuple[float, float]]] = {
    "idle": dict(
        cpu=(0.01, 0.07),
        iowait=(0.0, 0.01),
        mem=(0.18, 0.40),
        rx=(2e3, 4e4),
        tx=(1e3, 2e4),
        rd=(0, 40),
        wr=(10, 300),
        swap=(0.0, 0.0),
        grow=(0.0, 0.2),
    ),
    "busy": dict(
        cpu=(0.60, 0.95),
        iowait=(0.0, 0.02),
        mem=(0.45, 0.75),
        rx=(1e5, 2e6),
        tx=(5e4, 1e6),
        rd=(50, 2000),
        wr=(200, 4000),
        swap=(0.0, 0.05),
        grow=(0.5, 3.0),
    ),
    "io-heavy": dict(
        cpu=(0.10, 0.35),
        iowait=(0.08, 0.30),
        mem=(0.40, 0.70),
        rx=(5e4, 5e5),
        tx=(5e4, 5e5),
        rd=(2e4, 2e5),
        wr=(2e4, 1.5e5),
        swap=(0.0, 0.1),
        grow=(20.0, 80.0),
    ),
    "network-heavy": dict(
        cpu=(0.15, 0.45),
        iowait=(0.0, 0.02),
        mem=(0.30, 0.60),
        rx=(2e7, 1.1e8),
        tx=(5e6, 6e7),
        rd=(100, 3000),
        wr=(100, 3000),
        swap=(0.0, 0.0),
        grow=(1.0, 5.0),
    ),
    "memory-tight": dict(
        cpu=(0.10, 0.40),
        iowait=(0.01, 0.08),
        mem=(0.90, 0.97),
        rx=(1e4, 3e5),
        tx=(1e4, 2e5),
        rd=(500, 8000),
        wr=(500, 6000),
        swap=(0.3, 0.85),
        grow=(0.2, 1.0),
    ),
}


def eth0_mean_b_s(profile: str) -> tuple[float, float]:
    """The middle of a profile's eth0 (rx, tx) ranges in bytes/s: what the switch port
    facing such a host carries (``lab.gear``)."""
    p = _PROFILE_PARAMS[profile]
    return sum(p["rx"]) / 2, sum(p["tx"]) / 2


# Processes every host shows: (pid, comm, state, ppid, threads, rss pages, vsize, share of the
# host's user CPU, start jiffies).  The profile adds its workload with a large share.
_BASE_PROCS = (
    (1, "systemd", "S", 0, 1, 3300, 170_000_000, 0.002, 2),
    (2, "kthreadd", "S", 0, 1, 0, 0, 0.0, 2),
    (15, "ksoftirqd/0", "S", 2, 1, 0, 0, 0.001, 3),
    (412, "systemd-journal", "S", 1, 1, 4100, 49_000_000, 0.001, 310),
    (688, "cron", "S", 1, 1, 700, 6_700_000, 0.0, 480),
    (701, "rsyslogd", "S", 1, 4, 1300, 222_000_000, 0.0005, 490),
    (845, "sshd", "S", 1, 1, 2300, 15_400_000, 0.0005, 620),
)
_WORKLOADS = {
    "idle": ("node_exporter", 6, 5200, 730_000_000, 0.2),
    "busy": ("python3", 12, 310_000, 2_900_000_000, 0.85),
    "io-heavy": ("postgres", 8, 96_000, 4_400_000_000, 0.6),
    "network-heavy": ("nginx", 4, 21_000, 190_000_000, 0.7),
    "memory-tight": ("java", 64, 900_000, 9_800_000_000, 0.8),
}
_NVIDIA_MODELS = ("NVIDIA GeForce RTX 3090", "NVIDIA RTX A4000", "NVIDIA GeForce RTX 4070")


class _Wander:
    """A slowly wandering value in [lo, hi]: two sines with per-host periods and phases."""

    __slots__ = ("a1", "a2", "lo", "p1", "p2", "span")

    def __init__(self, rnd: random.Random, lo: float, hi: float) -> None:
        self.lo, self.span = lo, hi - lo
        self.a1 = 2 * math.pi / rnd.uniform(90, 400)
        self.a2 = 2 * math.pi / rnd.uniform(9, 40)
        self.p1, self.p2 = rnd.uniform(0, 2 * math.pi), rnd.uniform(0, 2 * math.pi)

    def __call__(self, t: float) -> float:
        w = 0.5 + 0.32 * math.sin(self.a1 * t + self.p1) + 0.18 * math.sin(self.a2 * t + self.p2)
        return self.lo + self.span * w


def _ranged(rnd: random.Random, r: tuple[float, float], width: float = 0.6) -> tuple[float, float]:
    """A per-host sub-range of a profile range (hosts of one profile differ)."""
    lo, hi = r
    span = (hi - lo) * width
    a = rnd.uniform(lo, hi - span)
    return a, a + span


class HostModel:
    """The live state of one simulated host."""

    def __init__(
        self,
        host: SimHost,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.host = host
        self.clock = clock
        self.wall = wall
        rnd = random.Random(stable_seed(host.seed, host.name))
        p = _PROFILE_PARAMS[host.profile]
        vendor, model, mhz, core_choices = rnd.choice(CPU_MODELS)
        self.cores = host.cores or rnd.choice(core_choices)
        self.cpuinfo = cpuinfo_text(vendor, model, mhz, self.cores)
        mem_mb = host.memory_mb or rnd.choice((4096, 8192, 16384, 32768, 65536))
        self.mem_kb = mem_mb * 1024 - rnd.randrange(150_000, 400_000)
        self.swap_kb = rnd.choice((0, 2097148, 4194300, 8388604))
        if host.profile == "memory-tight" and self.swap_kb == 0:
            self.swap_kb = 4194300
        distro = host.distro or rnd.choice(tuple(DISTROS))
        self.os_release, self.kernel = DISTROS[distro]
        self.nvme = rnd.random() < 0.5
        self.docker = rnd.random() < 0.3
        gpu = host.gpu if host.gpu is not None else (host.profile == "busy" and rnd.random() < 0.4)
        self.gpu = rnd.choice(_NVIDIA_MODELS) if gpu else None
        self.gpu_uuid = f"GPU-{stable_seed(host.name, 'gpu'):016x}-{rnd.getrandbits(32):08x}"
        # wandering gauges and rates
        self.w_cpu = _Wander(rnd, *_ranged(rnd, p["cpu"], 0.8))
        self.w_iow = _Wander(rnd, *p["iowait"])
        self.w_mem = _Wander(rnd, *_ranged(rnd, p["mem"], 0.5))
        self.w_rx = _Wander(rnd, *_ranged(rnd, p["rx"]))
        self.w_tx = _Wander(rnd, *_ranged(rnd, p["tx"]))
        self.w_rd = _Wander(rnd, *_ranged(rnd, p["rd"]))
        self.w_wr = _Wander(rnd, *_ranged(rnd, p["wr"]))
        self.swap_used = rnd.uniform(*p["swap"]) if self.swap_kb else 0.0
        self.core_bias = [rnd.uniform(0.75, 1.25) for _ in range(self.cores)]
        self.core_phase = [rnd.uniform(0, 2 * math.pi) for _ in range(self.cores)]
        self.temp_base = rnd.uniform(30, 42)
        # disks and filesystems (sizes in 1K blocks)
        self.root_kb = rnd.choice((61_252_420, 244_568_380, 489_616_824))
        self.root_used0 = self.root_kb * rnd.uniform(0.15, 0.55)
        self.data_kb = rnd.choice((960_303_848, 1_921_724_676, 3_843_709_344))
        fill = 0.88 if host.profile == "io-heavy" else 0.6
        self.data_used0 = self.data_kb * rnd.uniform(0.1, fill)
        self.grow_kb_s = rnd.uniform(*p["grow"]) * 1024 * 1024 / 86400
        self.workload = _WORKLOADS[host.profile]
        self.net_ifaces = ["lo", "eth0", *(["docker0"] if self.docker else [])]
        sysdisk = "nvme0n1" if self.nvme else "sda"
        self.sysdisk, self.datadisk = sysdisk, ("sda" if self.nvme else "sdb")
        sep = "p" if self.nvme else ""
        self.rootdev = f"/dev/{sysdisk}{sep}2"
        self.efidev = f"/dev/{sysdisk}{sep}1"
        self.datadev = f"/dev/{self.datadisk}1"
        self.sensor_spec = self._sensor_spec()
        self.sensor_files = [path for path, _, _ in self.sensor_spec]
        self.created = clock()
        self.uptime0 = rnd.uniform(3600, 60 * 86400)
        self._reset(self.uptime0)

    # --- state -------------------------------------------------------------------------

    def _reset(self, uptime: float) -> None:
        now = self.clock()
        self.boot = now - uptime
        self.btime = int(self.wall() - uptime)
        self.last = now
        self.cpu = [[0.0] * 10 for _ in range(self.cores)]
        self.ctxt = self.intr = self.softirq = 0.0
        self.forks = 0.0
        self.net = {i: [0.0] * 8 for i in self.net_ifaces}  # rx b,p,err,drop tx b,p,err,drop
        self.disk = {d: [0.0] * 17 for d in (self.sysdisk, self.datadisk)}
        self._integrate(uptime, now - uptime / 2)
        self.forks += 300 + self.cores * 40  # kernel threads and boot-time processes

    def reboot(self) -> None:
        """Counters and uptime start again, as after a real reboot."""
        self._reset(BOOT_DELAY_S)

    def advance(self) -> float:
        now = self.clock()
        dt = now - self.last
        if dt > 0:
            self._integrate(dt, now - dt / 2)
            self.last = now
        return now

    def cpu_busy(self, t: float) -> float:
        return min(0.99, max(0.0, self.w_cpu(t)))

    def _integrate(self, dt: float, t: float) -> None:
        j = dt * HZ
        busy = self.cpu_busy(t)
        iow = self.w_iow(t)
        net_heavy = self.host.profile == "network-heavy"
        sirq_share = 0.18 if net_heavy else 0.03
        total_user = 0.0
        for i, core in enumerate(self.cpu):
            b = busy * self.core_bias[i] * (1 + 0.2 * math.sin(0.05 * t + self.core_phase[i]))
            b = min(0.995, max(0.002, b))
            w = min(iow, 1 - b)
            user = b * (0.76 - sirq_share)
            core[0] += j * user  # user
            core[1] += j * b * 0.01  # nice
            core[2] += j * b * 0.2  # system
            core[3] += j * (1 - b - w)  # idle
            core[4] += j * w  # iowait
            core[5] += j * b * 0.01  # irq
            core[6] += j * b * (sirq_share + 0.02)  # softirq
            total_user += user
        rate_ctx = 400 + 9000 * busy * self.cores
        self.ctxt += dt * rate_ctx
        self.intr += dt * rate_ctx * 0.6
        self.softirq += dt * rate_ctx * 0.3
        self.forks += dt * (0.3 + 8 * busy)
        rx, tx = self.w_rx(t) * dt, self.w_tx(t) * dt
        eth = self.net["eth0"]
        eth[0] += rx
        eth[1] += rx / 1100
        eth[4] += tx
        eth[5] += tx / 700
        if net_heavy:
            eth[3] += dt * 0.02  # the odd dropped packet
        lo_rate = 800 + 20000 * busy
        lo = self.net["lo"]
        lo[0] += lo_rate * dt
        lo[1] += lo_rate * dt / 400
        lo[4], lo[5] = lo[0], lo[1]
        if self.docker:
            d = self.net["docker0"]
            d[0] += rx * 0.05
            d[1] += rx * 0.05 / 900
            d[4] += tx * 0.08
            d[5] += tx * 0.08 / 900
        rd, wr = self.w_rd(t) * dt, self.w_wr(t) * dt
        for name, share in ((self.sysdisk, 0.3), (self.datadisk, 0.7)):
            s = self.disk[name]
            r, w = rd * share, wr * share
            s[0] += r / 64  # reads completed (32 KiB average)
            s[1] += r / 400  # merged
            s[2] += r  # sectors read
            s[3] += r / 64 * (0.15 if name.startswith("nvme") else 0.9)  # ms reading
            s[4] += w / 48
            s[5] += w / 120
            s[6] += w
            s[7] += w / 48 * (0.05 if name.startswith("nvme") else 1.6)
            util = min(1.0, (r + w) / dt / 60000) if dt > 0 else 0.0
            s[9] += dt * 1000 * max(util, 0.002)  # ms doing I/O
            s[10] += (r / 64 + w / 48) * 1.2  # weighted ms
            s[15] += dt * 0.5  # flushes
            s[16] += dt * 0.4

    # --- helpers -----------------------------------------------------------------------

    def uptime_s(self, now: float | None = None) -> float:
        return (now if now is not None else self.clock()) - self.boot

    def loadavg(self, now: float) -> tuple[float, float, float]:
        vals = []
        for back in (30.0, 150.0, 450.0):
            vals.append(self.cores * (self.cpu_busy(now - back) + self.w_iow(now - back)))
        return vals[0], vals[1], vals[2]

    def temperature(self, now: float) -> float:
        return self.temp_base + 45 * self.cpu_busy(now - 5)

    def _sensor_spec(self) -> list[tuple[str, int, str | int]]:
        """(path, kind, arg): kind 0 static text, 1 core temperature + offset, 2 thermal zone
        (millidegrees, not rounded), 3 NVMe temperature; in the order the REFLECTOR reads."""
        h0 = "/sys/class/hwmon/hwmon0"
        n = min(self.cores, 4) + 1
        spec: list[tuple[str, int, str | int]] = [(f"{h0}/name", 0, "coretemp\n")]
        spec += [(f"{h0}/temp{i}_input", 1, 0 if i == 1 else i % 3 - 2) for i in range(1, n + 1)]
        spec += [(f"{h0}/temp1_label", 0, "Package id 0\n")]
        spec += [(f"{h0}/temp{i}_label", 0, f"Core {i - 2}\n") for i in range(2, n + 1)]
        if self.nvme:
            h1 = "/sys/class/hwmon/hwmon1"
            spec += [(f"{h1}/name", 0, "nvme\n"), (f"{h1}/temp1_input", 3, 0)]
            spec += [(f"{h1}/temp1_label", 0, "Composite\n")]
        tz = "/sys/class/thermal/thermal_zone0"
        spec += [(f"{tz}/type", 0, "x86_pkg_temp\n"), (f"{tz}/temp", 2, 0)]
        return spec

    def sensors(self, now: float) -> list[tuple[str, str]]:
        temp = self.temperature(now)
        core = int(temp)
        out: list[tuple[str, str]] = []
        for path, kind, arg in self.sensor_spec:
            if kind == 0:
                out.append((path, str(arg)))
            elif kind == 1:
                out.append((path, f"{(core + int(arg)) * 1000}\n"))
            elif kind == 2:
                out.append((path, f"{int(temp * 1000)}\n"))
            else:
                out.append((path, f"{int(self.temp_base + 4 + 10 * self.w_iow(now)) * 1000}\n"))
        return out

    # --- file contents -----------------------------------------------------------------

    def file(self, path: str, now: float | None = None) -> str | None:
        """The simulated content of ``path``, or None if the host has no such file."""
        if now is None:
            now = self.advance()
        renderer = _FILES.get(path)
        if renderer is not None:
            return renderer(self, now)
        if path.startswith("/sys/"):
            return dict(self.sensors(now)).get(path)
        if path.startswith("/proc/") and path.endswith("/stat"):
            pid = path[6:-5]
            for proc in self.processes():
                if str(proc[0]) == pid:
                    return self._proc_stat(proc, now)
        return None

    def r_uptime(self, now: float) -> str:
        idle = sum(c[3] for c in self.cpu) / HZ
        return f"{now - self.boot:.2f} {idle:.2f}\n"

    def r_stat(self, now: float) -> str:
        ints = [list(map(int, core)) for core in self.cpu]
        tot = [sum(col) for col in zip(*ints, strict=True)]
        rows = [f"cpu{i} {' '.join(map(str, vals))}\n" for i, vals in enumerate(ints)]
        sirq = int(self.softirq)
        parts = (sirq // 40, sirq // 4, sirq // 9, sirq // 50, sirq // 5, 0, sirq // 8, 0)
        return (
            f"cpu  {' '.join(map(str, tot))}\n{''.join(rows)}"
            f"intr {int(self.intr)} {int(self.intr * 0.4)}{_INTR_TAIL}\n"
            f"ctxt {int(self.ctxt)}\nbtime {self.btime}\nprocesses {int(self.forks)}\n"
            f"procs_running {1 + int(self.cores * self.cpu_busy(now))}\n"
            f"procs_blocked {int(self.w_iow(now) * self.cores)}\n"
            f"softirq {sirq} {' '.join(map(str, parts))} {sirq // 7} {sirq // 3}\n"
        )

    def r_meminfo(self, now: float) -> str:
        total = self.mem_kb
        used = self.w_mem(now)
        avail = int(total * (1 - used))
        cached = int(avail * (0.55 if used < 0.85 else 0.35))
        buffers = int(avail * 0.04)
        free = max(avail - cached - buffers, int(total * 0.01))
        anon = int(total * used * 0.8)
        slab = int(total * 0.03)
        swap_free = int(self.swap_kb * (1 - self.swap_used))
        shmem = int(total * 0.01)
        v = (
            total,
            free,
            avail,
            buffers,
            cached,
            int(self.swap_kb * self.swap_used * 0.05),
            int(anon * 0.3 + cached * 0.4),
            int(anon * 0.7 + cached * 0.6),
            int(anon * 0.3),
            int(anon * 0.7),
            int(cached * 0.4),
            int(cached * 0.6),
            10264,
            9260,
            self.swap_kb,
            swap_free,
            0,
            0,
            int(800 + 5000 * self.w_iow(now)),
            0,
            anon,
            int(total * 0.02),
            shmem,
            int(slab * 0.7),
            slab,
            int(slab * 0.7),
            int(slab * 0.3),
            4000 + self.cores * 300,
            int(anon * 0.012),
            0,
            0,
            0,
            0,
            total // 2 + self.swap_kb,
            int(anon * 1.6),
            34359738367,
            48000,
            0,
            self.cores * 356,
            0,
            0,
            0,
            0,
            0,
            0,
        )
        return _MEMINFO_TEMPLATE.format(
            *v, dm4k=302_456, dm2m=total // 2, dm1g=max(0, total - total // 2 - 302_456)
        )

    def r_loadavg(self, now: float) -> str:
        a, b, c = self.loadavg(now)
        running = 1 + int(self.cores * self.cpu_busy(now))
        return f"{a:.2f} {b:.2f} {c:.2f} {running}/{180 + self.cores * 12} {int(self.forks)}\n"

    def r_netdev(self, now: float) -> str:
        out = [_NETDEV_HEADER]
        for name, c in self.net.items():
            out.append(
                f"{name:>6}:{int(c[0]):>8} {int(c[1]):>7} {int(c[2]):>4} {int(c[3]):>4}    0"
                f"     0          0 {int(c[1]) // 500:>9} {int(c[4]):>8} {int(c[5]):>7}"
                f" {int(c[6]):>4} {int(c[7]):>4}    0     0       0          0\n"
            )
        return "".join(out)

    def r_diskstats(self, now: float) -> str:
        out = []
        major = {"sda": 8, "sdb": 8, "nvme0n1": 259}
        for name, s in self.disk.items():
            vals = [int(x) for x in s]
            parts: tuple[tuple[int, float], ...]
            if name.startswith("nvme"):
                base, sep, parts = 0, "p", ((1, 0.002), (2, 0.998))
            else:
                base = 0 if name == "sda" else 16
                sep = ""
                parts = ((1, 0.002), (2, 0.998)) if name == self.sysdisk else ((1, 1.0),)
            out.append(f"{major[name]:>4} {base:>7} {name} {' '.join(map(str, vals))}\n")
            for num, share in parts:
                pv = [int(x * share) for x in s]
                pv[8] = 0
                minor = base + num if not name.startswith("nvme") else num
                out.append(
                    f"{major[name]:>4} {minor:>7} {name}{sep}{num} {' '.join(map(str, pv))}\n"
                )
        out.append("   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n")
        return "".join(out)

    def r_hostname(self, now: float) -> str:
        return self.host.name + "\n"

    def r_osrelease(self, now: float) -> str:
        return self.kernel + "\n"

    def r_os_release(self, now: float) -> str:
        return self.os_release

    def r_cpuinfo(self, now: float) -> str:
        return self.cpuinfo

    # --- commands and processes ----------------------------------------------------------

    def df_rows(self, now: float) -> list[tuple[str, str, int, int, int, int, str]]:
        """(filesystem, type, size, used, available (1K blocks), use %, mount point) per mount."""
        grown = (now - self.created) * self.grow_kb_s
        root_used = int(min(self.root_kb * 0.99, self.root_used0 + grown * 0.02))
        data_used = int(min(self.data_kb * 0.999, self.data_used0 + grown))
        tmp = self.mem_kb // 10
        rows = [
            ("udev", "devtmpfs", self.mem_kb // 2, 0),
            ("tmpfs", "tmpfs", tmp, 1800 + int(tmp * 0.001)),
            (self.rootdev, "ext4", self.root_kb, root_used),
            ("tmpfs", "tmpfs", self.mem_kb // 2, 0),
            ("tmpfs", "tmpfs", 5120, 0),
            (self.efidev, "vfat", 523248, 6220),
            (self.datadev, "xfs", self.data_kb, data_used),
        ]
        mounts = ("/dev", "/run", "/", "/dev/shm", "/run/lock", "/boot/efi", "/data")
        out = []
        for (fs, typ, size, used), mnt in zip(rows, mounts, strict=True):
            reserve = int(size * 0.05) if typ == "ext4" else 0
            avail = max(0, size - used - reserve)
            cap = math.ceil(used * 100 / (used + avail)) if used + avail else 0
            out.append((fs, typ, size, used, avail, cap, mnt))
        return out

    def df(self, now: float) -> str:
        """What ``df -PkT`` prints."""
        table = [
            ("Filesystem", "Type", "1024-blocks", "Used", "Available", "Capacity", "Mounted on")
        ]
        for fs, typ, size, used, avail, cap, mnt in self.df_rows(now):
            table.append((fs, typ, str(size), str(used), str(avail), f"{cap}%", mnt))
        w = [max(len(r[k]) for r in table) for k in range(6)]
        return "\n".join(
            f"{r[0]:<{w[0]}} {r[1]:<{w[1]}} {r[2]:>{w[2]}} {r[3]:>{w[3]}} {r[4]:>{w[4]}} "
            f"{r[5]:>{w[5]}} {r[6]}"
            for r in table
        )

    def nvidia_smi(self, now: float) -> str | None:
        if not self.gpu:
            return None
        util = self.cpu_busy(now - 3)
        mem_total = 24576 if "3090" in self.gpu else 16376
        return (
            f"0, {self.gpu}, {self.gpu_uuid}, {int(util * 100)}, {int(mem_total * util * 0.8)}, "
            f"{mem_total}, {int(38 + util * 40)}, {70 + util * 250:.2f}, 350.00"
        )

    def processes(self) -> list[tuple]:
        comm, threads, rss, vsize, share = self.workload
        return [
            *_BASE_PROCS,
            (1500 + len(comm) * 37, comm, "S", 1, threads, rss, vsize, share, 900),
        ]

    def _proc_stat(self, proc: tuple, now: float) -> str:
        pid, comm, state, ppid, threads, rss, vsize, share, start = proc
        user = sum(c[0] for c in self.cpu)
        system = sum(c[2] for c in self.cpu)
        utime, stime = int(user * share), int(system * share * 0.5)
        start = min(start, int((now - self.boot) * HZ))
        flags = 2129984 if ppid == 2 or pid == 2 else 4194560
        return (
            f"{pid} ({comm}) {state} {ppid} {pid if ppid <= 1 else ppid} {pid if ppid <= 1 else 0}"
            f" 0 -1 {flags} {int(utime * 3.1) + 900} 0 {pid % 97} 0 {utime} {stime} 0 0 20 0"
            f" {threads} 0 {start} {vsize} {rss} 18446744073709551615 1 1 0 0 0 0 0 4096 1260"
            f" 0 0 0 17 {pid % self.cores} 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
        )

    def uptime_line(self, now: float | None = None) -> str:
        """What ``uptime`` prints."""
        if now is None:
            now = self.advance()
        up = int(now - self.boot)
        clock = time.strftime("%H:%M:%S", time.localtime(self.wall()))
        days, rest = divmod(up, 86400)
        hours, minutes = rest // 3600, rest % 3600 // 60
        span = f"{days} day{'s' if days != 1 else ''}, " if days else ""
        span += f"{hours:2d}:{minutes:02d}" if hours else f"{minutes} min"
        a, b, c = self.loadavg(now)
        return f" {clock} up {span},  1 user,  load average: {a:.2f}, {b:.2f}, {c:.2f}\n"

    # --- frames ------------------------------------------------------------------------

    def fast_frame(self) -> bytes:
        now = self.advance()
        out: list[str] = []
        for path, render in _FAST:
            text = render(self, now)
            out.append(f"@@F {path} {len(text)}\n")
            out.append(text)
        for path, text in self.sensors(now):
            out.append(f"@@F {path} {len(text)}\n")
            out.append(text)
        return _frame("s", out)

    def slow_frame(self) -> bytes:
        now = self.advance()
        out: list[str] = []
        for path, render in _SLOW:
            text = render(self, now)
            out.append(f"@@F {path} {len(text)}\n")
            out.append(text)
        commands = [("getconf", "100"), ("uname", "x86_64"), ("df", self.df(now))]
        smi = self.nvidia_smi(now)
        if smi is not None:
            commands.append(("nvidia-smi", smi))
        for name, text in commands:
            out.append(f"@@C {name} 0 {len(text)}\n")
            out.append(text)
        for proc in sorted(self.processes(), key=lambda p: str(p[0])):
            text = self._proc_stat(proc, now)
            out.append(f"@@F /proc/{proc[0]}/stat {len(text)}\n")
            out.append(text)
        return _frame("x", out)


def _frame(kind: str, sections: list[str]) -> bytes:
    """Sections framed as collectors/linux/reflector.sh frames them (the rendered text is
    ASCII, so the section lengths counted in characters are bytes)."""
    body = "".join(sections).encode("ascii")
    return b"@@B %s %d\n%s@@E\n" % (kind.encode(), len(body), body)


_FAST = (
    ("/proc/uptime", HostModel.r_uptime),
    ("/proc/stat", HostModel.r_stat),
    ("/proc/meminfo", HostModel.r_meminfo),
    ("/proc/loadavg", HostModel.r_loadavg),
    ("/proc/net/dev", HostModel.r_netdev),
    ("/proc/diskstats", HostModel.r_diskstats),
)
_SLOW = (
    ("/proc/uptime", HostModel.r_uptime),
    ("/proc/sys/kernel/hostname", HostModel.r_hostname),
    ("/proc/sys/kernel/osrelease", HostModel.r_osrelease),
    ("/etc/os-release", HostModel.r_os_release),
    ("/proc/cpuinfo", HostModel.r_cpuinfo),
)
_FILES = dict(_FAST + _SLOW)
_FILES["/etc/hostname"] = HostModel.r_hostname
