# The man pages say what the programs do: every long option each
# subcommand's --help lists is in docs/lockstep.1 (lockstep-worker's in
# docs/lockstep-worker.1), and every option a man page documents is one the
# program still has.
. "$(dirname "$0")/lib.sh"
opts() { grep -oE -- '--[a-z][a-z0-9-]+' | sort -u; }
man_opts() { grep -oE -- '\\-\\-[a-z][a-z0-9\\-]+' "$1" | sed 's/\\-/-/g' | sort -u; }
check() { # name man-page help-text-file
  local missing extra
  missing=$(comm -23 <(opts <"$3") <(man_opts "$2"))
  [ -z "$missing" ] || fail "$1: in --help but not in $(basename "$2"): $(echo $missing)"
}
M=$SRC/docs/lockstep.1
W=$SRC/docs/lockstep-worker.1
[ -f "$M" ] && [ -f "$W" ] || fail "a man page is missing"
: >"$TMP/all"
for sub in run validate report export list keygen image; do
  "$LOCKSTEP" $sub --help >"$TMP/h" 2>&1 || fail "lockstep $sub --help"
  check "lockstep $sub" "$M" "$TMP/h"
  cat "$TMP/h" >>"$TMP/all"
done
"$LOCKSTEP" --help >>"$TMP/all" 2>&1
"$WORKER" --help >"$TMP/w" 2>&1 || fail "lockstep-worker --help"
check lockstep-worker "$W" "$TMP/w"
# nothing documented that the programs no longer have
stale=$(comm -13 <(opts <"$TMP/all") <(man_opts "$M"))
[ -z "$stale" ] || fail "lockstep.1 documents options no subcommand has: $(echo $stale)"
stale=$(comm -13 <(opts <"$TMP/w") <(man_opts "$W"))
[ -z "$stale" ] || fail "lockstep-worker.1 documents options lockstep-worker does not have: $(echo $stale)"
# and they are man pages
for f in "$M" "$W"; do
  [ "$(awk '!/^\.\\"/ { print $1; exit }' "$f")" = .TH ] || fail "$(basename "$f") does not start with .TH"
done
if command -v groff >/dev/null; then
  for f in "$M" "$W"; do groff -man -Tutf8 -ww -z "$f" 2>"$TMP/g" || true
    [ -s "$TMP/g" ] && { cat "$TMP/g"; fail "groff warns about $(basename "$f")"; }
  done
fi
pass "every option of --help is in the man pages, and nothing more"
