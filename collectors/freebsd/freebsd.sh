# MIRROR STAGE REFLECTOR for FreeBSD (and DragonFly; POSIX sh, base system tools only).
# Run by collectors.launch.reflector_launch; never written to the host's disk. Requests on
# stdin, one per line: "s" fast sample, "x" slow sample, "q" quit. Each answer is a frame
# as in collectors/reflector/linux.sh, whose sections are commands' stdout:
#   "@@C <name> <exit status> <bytes>" LF <bytes of stdout>
# run/send come from collectors/bsd/common.sh, sent ahead of this text.
FAST_OIDS="kern.boottime kern.cp_time kern.cp_times vm.loadavg hw.pagesize hw.physmem
 vm.stats.vm.v_page_count vm.stats.vm.v_free_count vm.stats.vm.v_inactive_count
 vm.stats.vm.v_cache_count vm.stats.vm.v_laundry_count vm.stats.vm.v_active_count
 vm.stats.vm.v_wire_count vm.swap_total hw.acpi.thermal"
ncpu=$(sysctl -n hw.ncpu 2>/dev/null || echo 1)
temps=
i=0
while [ "$i" -lt "$ncpu" ]; do
  temps="$temps dev.cpu.$i.temperature"
  i=$((i + 1))
done
while IFS= read -r req; do
  case "$req" in
  s)
    # shellcheck disable=SC2086 # the OID lists are meant to split
    run sysctl sysctl $FAST_OIDS $temps
    run date date +%s
    run netstat netstat -ibdnW
    run swapinfo swapinfo -k
    send s ;;
  x)
    run sysctl sysctl kern.boottime kern.hostname kern.ostype kern.osrelease hw.machine hw.model hw.ncpu
    run date date +%s
    run df df -k
    send x ;;
  q) exit 0 ;;
  *) send '?' ;;
  esac
done
