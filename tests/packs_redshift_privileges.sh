#!/bin/bash
# The Amazon Redshift check packs run as a monitoring user with exactly the
# privileges README.md documents, against the fixture's model of Redshift's
# visibility rules (tests/data/redshift/fixture.sql): superuser-visible
# views nobody may read without a GRANT SELECT, user-visible ones showing a
# user only its own rows unless it has SYSLOG ACCESS UNRESTRICTED (a role
# stands in for the attribute).  The fixture is loaded into two databases,
# the grants given in both, as README says.
#
#   rs_mon   SYSLOG ACCESS UNRESTRICTED and README's GRANT SELECT block:
#            every check of both packs runs and finds what a superuser finds;
#   rs_none  neither: exactly the checks README marks "grant" fail with
#            "permission denied" (18 provisioned, 5 Serverless), the others
#            run and see none of the other users' rows (no findings).
#
# Run alone: meson test -C build packs_redshift_privileges
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/packs_redshift_privileges.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup packs_redshift_privileges

db=redshift_fixture_db
db2=redshift_fixture_db2
rs_dbs="$db $db2"
rs_fixture_load "$db"
rs_fixture_load "$db2" "$db"

# README's statements for PACK: the block between its grants markers.
readme_block() { # PACK
	sed -n "/^<!-- grants:$1 -->\$/,/^<!-- end grants:$1 -->\$/p" "$root/README.md"
}

# The objects README's GRANT SELECT for PACK names, one a line.
granted_objects() { # PACK
	readme_block "$1" | tr '\n' ' ' | sed -n 's/.*GRANT SELECT ON \(.*\) TO pghealthd;.*/\1/p' |
		tr ',' '\n' | tr -d ' ' | sed '/^$/d' | sort -u
}

# The checks README's table for PACK marks "grant", sorted, on one line.
readme_grant_checks() { # PACK
	local from
	case $1 in
	redshift) from='^### Amazon Redshift, provisioned' ;;
	*) from='^### Amazon Redshift Serverless' ;;
	esac
	sed -n "/$from/,/^<!-- grants:/p" "$root/README.md" |
		awk -F'|' '/^\| `/ && $6 ~ /grant/ { split($2, a, "`"); print a[2] }' | sort | tr '\n' ' '
}

# The checks of PACK whose SQL names one of the granted objects.
checks_reading_granted() { # PACK
	local pack=$1 ini=$root/conf/checks/$1.ini c f
	sed -n 's/^\[check:\(.*\)\]$/\1/p' "$ini" | while IFS= read -r c; do
		f=$root/conf/checks/$pack/$c.sql
		if grep -qiwF -f <(granted_objects "$pack") "$f"; then
			echo "$c"
		fi
	done | sort | tr '\n' ' '
}

pgsql -c "CREATE ROLE rs_mon LOGIN" -c "CREATE ROLE rs_none LOGIN" \
	-c "GRANT rs_syslog_access_unrestricted TO rs_mon" >/dev/null || die "roles failed"
for pack in redshift redshift-serverless; do
	assert_contains "$(readme_block "$pack")" "ALTER USER pghealthd SYSLOG ACCESS UNRESTRICTED;" \
		"$pack: README gives SYSLOG ACCESS UNRESTRICTED"
	objs=$(granted_objects "$pack" | sed 's/^/redshift_fixture./' | paste -sd, -)
	[ -n "$objs" ] || die "$pack: no GRANT SELECT block in README.md"
	for d in $rs_dbs; do
		pgsql -d "$d" -c "GRANT SELECT ON $objs TO rs_mon" >/dev/null ||
			die "$pack: README's GRANT SELECT fails in the fixture ($d)"
	done
done

# check_privileges PACK N_GRANT: the three rounds.
check_privileges() {
	local pack=$1 n=$2 want_err c line
	want_err=$(checks_reading_granted "$pack")
	assert_eq "$(readme_grant_checks "$pack")" "$want_err" \
		"$pack: README marks \"grant\" exactly the checks that read the granted objects"
	assert_eq "$n" "$(wc -w <<<"$want_err")" "$pack: $n checks read superuser-visible objects"

	rs_round "$pack-super" "$pack" "$PGUSER" 1
	rs_round "$pack-mon" "$pack" rs_mon 1
	assert_eq "" "$(rs_failed "$pack-mon")" "$pack: with README's grants every check runs"
	assert_eq "$(rs_findings "$pack-super")" "$(rs_findings "$pack-mon")" \
		"$pack: with README's grants the findings are a superuser's"

	rs_round "$pack-none" "$pack" rs_none 3
	assert_eq "$want_err" "$(rs_failed "$pack-none" | cut -d' ' -f1 | sort | tr '\n' ' ')" \
		"$pack: without grants exactly the superuser-visible checks fail"
	while IFS= read -r line; do
		c=${line%% *}
		case $line in
		*"permission denied"*) ok "$pack: $c fails on permission denied" ;;
		*) fail "$pack: $c fails on permission denied: $line" ;;
		esac
	done < <(rs_failed "$pack-none")
	assert_eq "" "$(rs_findings "$pack-none")" \
		"$pack: without SYSLOG ACCESS UNRESTRICTED other users' rows are hidden"
}

check_privileges redshift 18
check_privileges redshift-serverless 5

finish
