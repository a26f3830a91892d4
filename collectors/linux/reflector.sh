# MIRROR STAGE REFLECTOR for Linux (and other /proc systems).
# Sent as the argument of `sh -c`, never written to the host's disk. It waits for one
# request per line on stdin and answers one frame per request on stdout:
#   "s"  fast sample: the /proc files and temperature sensors (shell built-ins only)
#   "x"  slow sample: df, nvidia-smi, processes, identity (may start commands)
#   "q"  quit
# Frame:  "@@B <kind> <bytes>" LF, then exactly <bytes> bytes of sections, then "@@E" LF.
# A section is a header line then exactly <bytes> bytes of content:
#   "@@F <path> <bytes>"  (a file)  or  "@@C <name> <exit status> <bytes>"  (a command's stdout).
# Lengths mean no content can ever be mistaken for a marker, and let EGO read a whole
# frame with two reads instead of one per line.
export LC_ALL=C  # so ${#var} counts bytes
if [ -n "${BASH_VERSION:-}" ]; then
  # bash reads a whole /proc file in a few read() calls; ~0.3 ms for the fast set.
  emit() { [ -r "$1" ] || return 0; c=; IFS= read -r -d '' c < "$1"; out="$out@@F $1 ${#c}
$c"; }
else
  # POSIX sh reads byte by byte: correct everywhere, slower.
  emit() {
    [ -r "$1" ] || return 0
    c=
    while IFS= read -r l; do c="$c$l
"; done < "$1"
    [ -n "$l" ] && c="$c$l"
    out="$out@@F $1 ${#c}
$c"
  }
fi
run() { c=$("$@" 2>/dev/null); rc=$?; out="$out@@C $1 $rc ${#c}
$c"; }
# The sections of one frame are collected in $out, then sent with their total length.
send() { printf '@@B %s %d\n%s@@E\n' "$1" "${#out}" "$out"; out=; }
out=
sensors=
scan_sensors() {
  sensors=
  for d in /sys/class/hwmon/hwmon*; do
    [ -r "$d/name" ] || continue
    sensors="$sensors $d/name"
    for f in "$d"/temp*_input "$d"/temp*_label; do [ -r "$f" ] && sensors="$sensors $f"; done
  done
  for z in /sys/class/thermal/thermal_zone*; do
    [ -r "$z/temp" ] && sensors="$sensors $z/type $z/temp"
  done
}
scan_sensors
while IFS= read -r req; do
  case "$req" in
  s)
    for f in /proc/uptime /proc/stat /proc/meminfo /proc/loadavg /proc/net/dev /proc/diskstats $sensors; do emit "$f"; done
    send s ;;
  x)
    scan_sensors
    emit /proc/uptime
    emit /proc/sys/kernel/hostname
    emit /proc/sys/kernel/osrelease
    emit /etc/os-release
    emit /proc/cpuinfo
    run getconf CLK_TCK
    run uname -m
    if df -PkT / >/dev/null 2>&1; then run df -PkT; else run df -Pk; fi
    if command -v nvidia-smi >/dev/null 2>&1; then
      run nvidia-smi --query-gpu=index,name,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,power.limit --format=csv,noheader,nounits
    fi
    for p in /proc/[0-9]*; do emit "$p/stat"; done
    send x ;;
  q) exit 0 ;;
  *) send '?' ;;
  esac
done
