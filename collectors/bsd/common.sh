# Shared head of the BSD-family REFLECTOR programs (collectors/bsd/frame_util.program()
# puts it before freebsd.sh or macos.sh). Frames as in collectors/reflector/linux.sh, with
# command sections only: "@@C <name> <exit status> <bytes>" LF <bytes of stdout>.
export LC_ALL=C
out=
run() {
  name=$1
  shift
  c=$("$@" 2>/dev/null)
  rc=$?
  out="$out@@C $name $rc ${#c}
$c"
}
send() { printf '@@B %s %d\n%s@@E\n' "$1" "${#out}" "$out"; out=; }
