# MIRROR STAGE REFLECTOR for macOS (POSIX sh; base system tools only, no install, no sudo).
# Run by collectors.launch.reflector_launch; never written to the host's disk. Requests on
# stdin, one per line: "s" fast sample, "x" slow sample, "q" quit. Each answer is a frame
# as in collectors/reflector/linux.sh, whose sections are commands' stdout:
#   "@@C <name> <exit status> <bytes>" LF <bytes of stdout>
# macOS has no text source of CPU ticks (no /proc, no kern.cp_time): the CPU line comes
# from the second sample of `top -l 2 -s 1`, so a fast sample takes about one second.
# run/send come from collectors/bsd/common.sh, sent ahead of this text.
while IFS= read -r req; do
  case "$req" in
  s)
    run sysctl sysctl kern.boottime vm.loadavg hw.memsize hw.pagesize vm.swapusage
    run date date +%s
    run vm_stat vm_stat
    run netstat netstat -ibdn
    run top top -l 2 -s 1 -n 0 -F -R
    send s ;;
  x)
    run sysctl sysctl kern.boottime kern.hostname kern.osproductversion kern.osrelease hw.machine hw.model machdep.cpu.brand_string hw.ncpu
    run date date +%s
    run df df -k
    send x ;;
  q) exit 0 ;;
  *) send '?' ;;
  esac
done
