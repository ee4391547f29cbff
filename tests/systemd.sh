#!/usr/bin/env bash
# What `meson install` delivers, checked the way an operator would use it:
# the units pass `systemd-analyze verify` and rate at most 2.0 in
# `systemd-analyze security`, the example configuration works with the
# installed binary and check packs, the password credential the units pass
# is understood, and the man pages are installed and cover every command and
# configuration key.  No PostgreSQL server is needed.
#
#   tests/systemd.sh MESON BUILDDIR
#
# The expected install locations come from the environment (tests/meson.build
# sets them): PGH_BINDIR PGH_UNITDIR PGH_PKGDATADIR PGH_PKGSYSCONFDIR
# PGH_MANDIR PGH_SOURCE_ROOT PGH_HAVE_LIBSYSTEMD PGH_HAVE_MAN.
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: $0 MESON BUILDDIR"
meson=$1
builddir=$2
for v in PGH_BINDIR PGH_UNITDIR PGH_PKGDATADIR PGH_PKGSYSCONFDIR PGH_MANDIR \
	PGH_SOURCE_ROOT PGH_HAVE_LIBSYSTEMD PGH_HAVE_MAN; do
	[ -n "${!v:-}" ] || die "$v is not set: run this test through meson test"
done
command -v systemd-analyze >/dev/null || die "systemd-analyze not found (Debian package systemd)"
command -v man >/dev/null || die "man not found (Debian package man-db)"
[ "$PGH_HAVE_MAN" = true ] ||
	die "the build has no man pages: install scdoc and reconfigure (meson setup --reconfigure)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pghealthd-systemd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
bin=$dest$PGH_BINDIR/pghealthd
units=$dest$PGH_UNITDIR
packs=$dest$PGH_PKGDATADIR/checks
etc=$dest$PGH_PKGSYSCONFDIR
mandir=$dest$PGH_MANDIR
export PGHEALTHD=$bin
unset PGHEALTHD_CONFIG CREDENTIALS_DIRECTORY

# ---- meson install --------------------------------------------------------
"$meson" install -C "$builddir" --destdir "$dest" --no-rebuild --quiet >"$tmp/install.log" 2>&1
rc=$?
assert_eq 0 "$rc" "meson install --destdir"
[ "$rc" -eq 0 ] || {
	sed 's/^/#   /' "$tmp/install.log" | tail -n 20
	finish
}

if [ -x "$bin" ]; then ok "binary installed to $PGH_BINDIR"; else fail "no executable $bin"; fi
assert_match '^pghealthd [0-9]' "$("$bin" --version 2>&1)" "installed binary runs"
for u in pghealthd.service pghealthd@.service pghealthd-once@.service pghealthd-once@.timer; do
	assert_file_exists "$units/$u" "$u installed to $PGH_UNITDIR"
done
for p in postgresql redshift redshift-serverless pgbouncer; do
	assert_file_exists "$packs/$p.ini" "check pack $p.ini installed"
done
if diff -r "$PGH_SOURCE_ROOT/conf/checks" "$packs" >"$tmp/packs.diff" 2>&1; then
	ok "installed check packs are conf/checks, every SQL file included"
else
	fail "installed check packs differ from conf/checks"
	head -n 10 "$tmp/packs.diff" | sed 's/^/#   /'
fi
assert_file_exists "$mandir/man8/pghealthd.8" "pghealthd(8) installed"
assert_file_exists "$mandir/man5/pghealthd.ini.5" "pghealthd.ini(5) installed"

# ---- the example configuration ---------------------------------------------
ini=$etc/pghealthd.ini
assert_file_exists "$ini" "example configuration installed to $PGH_PKGSYSCONFDIR"
assert_files_equal "$dest$PGH_PKGDATADIR/pghealthd.ini" "$ini" \
	"$PGH_PKGSYSCONFDIR/pghealthd.ini is the shipped example"
assert_eq 644 "$(stat -c %a "$ini" 2>/dev/null)" "example configuration is mode 0644 (a dynamic user reads it)"
inc=$(sed -n 's/^include[[:space:]]*=[[:space:]]*//p' "$ini")
assert_eq "$PGH_PKGDATADIR/checks/postgresql.ini" "$inc" "example includes the installed PostgreSQL pack"
# Apart from the include lines, it is conf/pghealthd.ini as is.
diff <(grep -v 'include[[:space:]]*=' "$PGH_SOURCE_ROOT/conf/pghealthd.ini") \
	<(grep -v 'include[[:space:]]*=' "$ini") >/dev/null
assert_eq 0 $? "example differs from conf/pghealthd.ini only in its include lines"
while IFS= read -r line; do
	p=${line#*=}
	p=${p#"${p%%[![:space:]]*}"}
	p=${p%%[[:space:]]*}
	if [ -f "$dest$p" ]; then
		ok "pack named in the example exists: $p"
	else
		fail "example names $p, which is not installed"
	fi
done < <(grep -E '^[;[:space:]]*include[[:space:]]*=' "$ini")

# Reinstalling keeps a configuration in use.
echo "; edited by the operator" >>"$ini"
"$meson" install -C "$builddir" --destdir "$dest" --no-rebuild --quiet >"$tmp/install2.log" 2>&1
assert_eq 0 $? "meson install again"
assert_eq "; edited by the operator" "$(tail -n 1 "$ini")" "reinstalling does not overwrite $PGH_PKGSYSCONFDIR/pghealthd.ini"

# The example, with its absolute paths moved into DESTDIR, passes
# check-config with the installed binary and packs.
sed "s|$PGH_PKGDATADIR/|$dest$PGH_PKGDATADIR/|" "$ini" >"$tmp/example.ini"
pgh -c "$tmp/example.ini" check-config >"$tmp/check-config.out" 2>"$tmp/check-config.err"
rc=$?
assert_eq 0 "$rc" "installed example passes check-config"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$tmp/check-config.err" | head -n 10
want=$(grep -c '^\[check:' "$packs/postgresql.ini")
got=$(grep -c '^\[check:' "$tmp/check-config.out")
assert_eq "$want" "$got" "check-config resolves every check of the PostgreSQL pack"
assert_eq "$want" "$(grep -c "; sql from sql_file $packs/postgresql/" "$tmp/check-config.out")" \
	"every PostgreSQL check's SQL comes from an installed file"
for p in redshift redshift-serverless; do
	printf '[run]\ninclude = %s\n' "$packs/$p.ini" >"$tmp/$p.ini"
	pgh -c "$tmp/$p.ini" check-config >"$tmp/$p.out" 2>&1
	assert_eq 0 $? "installed $p pack passes check-config"
	assert_eq "$(grep -c '^\[check:' "$packs/$p.ini")" "$(grep -c '^\[check:' "$tmp/$p.out")" \
		"check-config resolves every check of the $p pack"
done

# ---- the password credential ---------------------------------------------
# Each unit loads the password file as a credential and, so that a missing
# file does not fail the start, sets an empty default of the same ID
# (SetCredential=ID:\n, a lone newline).  password_file = ID must find it in
# $CREDENTIALS_DIRECTORY, refuse the empty default, and find the same file
# next to the configuration when run by hand.
for u in pghealthd.service pghealthd@.service pghealthd-once@.service; do
	load=$(sed -n 's/^LoadCredential=//p' "$units/$u")
	set=$(sed -n 's/^SetCredential=//p' "$units/$u")
	id=${load%%:*}
	assert_eq "/etc/pghealthd/$id" "${load#*:}" "$u: credential $id is /etc/pghealthd/$id"
	assert_eq "$id:\\n" "$set" "$u: a missing password file falls back to an empty $id"
done
mkdir -p "$tmp/creds" "$tmp/byhand"
cat >"$tmp/pw.ini" <<'EOF'
[target]
conninfo = host=db.example.com dbname=postgres user=monitor
password_file = prod.pgpassword
[check:one]
sql = SELECT 1
EOF
printf '\n' >"$tmp/creds/prod.pgpassword"
CREDENTIALS_DIRECTORY=$tmp/creds pgh -c "$tmp/pw.ini" check-config >/dev/null 2>"$tmp/pw.err"
assert_eq 78 $? "the empty default credential is a configuration error"
assert_contains "$(cat "$tmp/pw.err")" "$tmp/creds/prod.pgpassword' is empty" "the error names the empty credential"
printf 's3cret\n' >"$tmp/creds/prod.pgpassword"
CREDENTIALS_DIRECTORY=$tmp/creds pgh -c "$tmp/pw.ini" check-config >/dev/null 2>&1
assert_eq 0 $? "password_file found in \$CREDENTIALS_DIRECTORY"
cp "$tmp/pw.ini" "$tmp/byhand/pw.ini"
printf 's3cret\n' >"$tmp/byhand/prod.pgpassword"
chmod 0600 "$tmp/byhand/prod.pgpassword"
pgh -c "$tmp/byhand/pw.ini" check-config >/dev/null 2>&1
assert_eq 0 $? "without credentials, password_file is found next to the configuration"

# ---- systemd-analyze verify ------------------------------------------------
# verify checks that ExecStart's binary exists and that Documentation= man
# pages resolve, so the copies it reads run the DESTDIR binary, and man looks
# in the DESTDIR man pages.  Templates are verified as an instance.
mkdir "$tmp/units"
for u in pghealthd.service pghealthd@.service pghealthd-once@.service pghealthd-once@.timer; do
	exe=$(sed -n 's/^ExecStart=//p' "$units/$u")
	case $u in
	*.service)
		assert_match "^$PGH_BINDIR/pghealthd -c /etc/pghealthd/[^ ]+ (run|once)\$" "$exe" \
			"$u runs the installed binary"
		;;
	esac
	sed "s|^ExecStart=$PGH_BINDIR/|ExecStart=$dest$PGH_BINDIR/|" "$units/$u" >"$tmp/units/${u/@./@verify.}"
done
(cd "$tmp/units" && MANPATH=$mandir systemd-analyze verify \
	pghealthd.service pghealthd@verify.service \
	pghealthd-once@verify.service pghealthd-once@verify.timer) >"$tmp/verify.out" 2>&1
rc=$?
assert_eq 0 "$rc" "systemd-analyze verify passes"
assert_eq "" "$(cat "$tmp/verify.out")" "systemd-analyze verify has no warnings"

if [ "$PGH_HAVE_LIBSYSTEMD" = true ]; then
	assert_eq "Type=notify" "$(grep '^Type=' "$units/pghealthd.service")" "pghealthd.service is Type=notify"
	assert_match '^WatchdogSec=[0-9]+s$' "$(grep '^WatchdogSec=' "$units/pghealthd.service")" \
		"pghealthd.service has a watchdog"
else
	assert_eq "Type=exec" "$(grep '^Type=' "$units/pghealthd.service")" \
		"without libsystemd pghealthd.service does not wait for READY=1"
fi
assert_eq "SuccessExitStatus=1 2 3" "$(grep '^SuccessExitStatus=' "$units/pghealthd-once@.service")" \
	"WARNING, CRITICAL and UNKNOWN rounds do not fail pghealthd-once@"
for u in pghealthd.service pghealthd@.service; do
	assert_eq "RestartPreventExitStatus=73 78" "$(grep '^RestartPreventExitStatus=' "$units/$u")" \
		"$u: a broken configuration or output_dir is not restarted every 5 s"
done

# ---- systemd-analyze security ---------------------------------------------
for u in pghealthd.service pghealthd@verify.service pghealthd-once@verify.service; do
	(cd "$tmp/units" && systemd-analyze security --offline=true --threshold=20 "$u") \
		>"$tmp/security.out" 2>&1
	rc=$?
	level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$tmp/security.out")
	if [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
		ok "$u: exposure $level <= 2.0"
	else
		fail "$u: exposure [$level] is not <= 2.0"
		grep '✗' "$tmp/security.out" | sed 's/^/#   /'
	fi
	assert_eq 0 "$rc" "$u: systemd-analyze security --threshold=20 passes"
done

# ---- man pages -------------------------------------------------------------
for page in man8/pghealthd.8 man5/pghealthd.ini.5; do
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$mandir/$page" \
		>/dev/null 2>"$tmp/man.err"
	assert_eq "0:" "$?:$(cat "$tmp/man.err")" "$page renders without warnings"
done
man8=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$mandir/man8/pghealthd.8" 2>/dev/null)
man5=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$mandir/man5/pghealthd.ini.5" 2>/dev/null)
# Every command of --help is a COMMANDS entry, every option an OPTIONS one.
cmds=$("$bin" --help | sed -n 's/^ *pghealthd \[-c FILE\] \[*\([a-z-]*\).*/\1/p' | sort -u)
[ -n "$cmds" ] || fail "no commands found in pghealthd --help"
for c in $cmds; do
	assert_match $'(^|\n) +'"$c"$'( |\n)' "$man8" "pghealthd(8) documents the command $c"
done
for o in -c --config -h --help -V --version --max-rows --timeout --no-results --event; do
	assert_contains "$man8" "$o" "pghealthd(8) documents $o"
done
for e in PGHEALTHD_CONFIG CREDENTIALS_DIRECTORY JOURNAL_STREAM NOTIFY_SOCKET UV_THREADPOOL_SIZE PGHOST; do
	assert_contains "$man8" "$e" "pghealthd(8) documents \$$e"
done
# Every key check-config prints (plus sql_file) is documented as "key = ...".
keys=$( (grep -E '^[a-z_]+ =' "$tmp/check-config.out" | sed 's/ =.*//'; echo sql_file) | sort -u)
[ "$(wc -l <<<"$keys")" -ge 20 ] || fail "too few keys in check-config's output: $keys"
for k in $keys; do
	assert_match $'(^|\n) +'"$k"' = ' "$man5" "pghealthd.ini(5) documents $k"
done
for s in '[target]' '[pool]' '[run]' '[check:NAME]' 'STATUS.CSV' 'CSV DIALECT' 'OUTPUT DIRECTORY'; do
	assert_contains "$man5" "$s" "pghealthd.ini(5) has a section $s"
done
assert_contains "$man5" "$PGH_PKGDATADIR/checks/postgresql.ini" "pghealthd.ini(5) names the installed packs"

finish
