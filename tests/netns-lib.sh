# shellcheck shell=bash
# The network-partition fixture of the test library: the fixture's
# PostgreSQL moved into a network namespace of its own, reached from a
# client namespace over two veth links that the test can make silent.
#
#   link a: server 192.0.2.1/30  <->  client 192.0.2.2/30
#   link b: server 192.0.2.5/30  <->  client 192.0.2.6/30
#
# (RFC 5737 documentation addresses: they route nowhere else.)  Both ends
# have permanent neighbour entries, so that a link set down on the server's
# side is a blackhole: no RST, no ICMP, no failed ARP ever reaches the
# client, as with a partition, a dead host or a firewall that drops.  The
# root namespace is not touched; the namespaces (and with them the links)
# go when the test ends.  pghealthd runs in the client namespace through
# PGH_WRAPPER; the test's own probes reach the server on its unix socket,
# which no blackhole affects.
#
# Needs root, `ip` (iproute2) and nsenter (util-linux); netns_usable says whether this machine
# can make namespaces.  Sourced after test_setup (lib.sh, daemon-lib.sh).

pgh_lib_files+=("${BASH_SOURCE[0]}")

srv_a=192.0.2.1
srv_b=192.0.2.5
ns_c=pghc$$
ns_s=pghs$$
netns_made=()

# Run a command in namespace NS.  nsenter, not `ip netns exec` or `ip -n`:
# those also remount / and /sys, which fails in a chroot.
in_ns() { # NS COMMAND...
	nsenter --net="/run/netns/$1" "${@:2}"
}

# Whether namespaces can be made here (root, iproute2, a kernel that lets us).
netns_usable() {
	[ "$(id -u)" -eq 0 ] || {
		netns_why="not root"
		return 1
	}
	command -v ip >/dev/null 2>&1 || {
		netns_why="no ip command (package iproute2)"
		return 1
	}
	command -v nsenter >/dev/null 2>&1 || {
		netns_why="no nsenter command (package util-linux)"
		return 1
	}
	if ! ip netns add "pghp$$" 2>/dev/null; then
		netns_why="ip netns add fails here (no CAP_SYS_ADMIN, or no network namespaces)"
		return 1
	fi
	if ! in_ns "pghp$$" ip link set lo up 2>/dev/null; then
		ip netns del "pghp$$"
		netns_why="cannot enter a network namespace (nsenter --net)"
		return 1
	fi
	ip netns del "pghp$$"
}

# shellcheck disable=SC2317 # called by the EXIT trap
netns_cleanup() {
	local n
	# What runs in the client namespace is the test's; the server is
	# with-pg.sh's to stop (its namespace goes when it has exited).
	[ "${#netns_made[@]}" -eq 0 ] || ip netns pids "$ns_c" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	for n in "${netns_made[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	netns_made=()
}

mac_of() { # NS DEV
	in_ns "$1" ip -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# netns_link NAME SERVER_ADDR CLIENT_ADDR: a veth pair between the two
# namespaces, addressed, with permanent neighbour entries on both ends.
netns_link() {
	local s=pgs$1$$ c=pgc$1$$
	ip link add "$c" netns "$ns_c" type veth peer name "$s" netns "$ns_s" ||
		die "cannot create veth $c"
	in_ns "$ns_s" ip addr add "$2/30" dev "$s"
	in_ns "$ns_c" ip addr add "$3/30" dev "$c"
	in_ns "$ns_s" ip link set "$s" up
	in_ns "$ns_c" ip link set "$c" up
	in_ns "$ns_c" ip neigh replace "$2" lladdr "$(mac_of "$ns_s" "$s")" dev "$c" nud permanent
	in_ns "$ns_s" ip neigh replace "$3" lladdr "$(mac_of "$ns_c" "$c")" dev "$s" nud permanent
}

# netns_setup: the namespaces, both links, and the fixture's server moved
# into the server namespace, listening on both server addresses with short
# server-side keepalives (sessions a partition orphaned end by themselves).
netns_setup() {
	local n
	for n in "$ns_c" "$ns_s"; do
		ip netns add "$n" || die "ip netns add $n failed"
		netns_made+=("$n")
		in_ns "$n" ip link set lo up
	done
	netns_link a "$srv_a" 192.0.2.2
	netns_link b "$srv_b" 192.0.2.6
	"$PGH_FIXTURE" stopserver "$PGH_FIXTURE_DIR" fast >/dev/null
	cat >>"$PGH_FIXTURE_DIR/data/postgresql.conf" <<-EOF
		listen_addresses = '$srv_a,$srv_b'
		tcp_keepalives_idle = 2
		tcp_keepalives_interval = 1
		tcp_keepalives_count = 2
		tcp_user_timeout = 3000
	EOF
	echo "host all all 192.0.2.0/24 trust" >>"$PGH_FIXTURE_DIR/data/pg_hba.conf"
	in_ns "$ns_s" "$PGH_FIXTURE" startserver "$PGH_FIXTURE_DIR" >/dev/null ||
		die "the server does not start in namespace $ns_s"
	PGH_WRAPPER="nsenter --net=/run/netns/$ns_c ${PGH_WRAPPER:-}"
	netns_conninfo="host=$srv_a port=$PGPORT dbname=$PGDATABASE user=$PGUSER"
}

# blackhole a|b, lift a|b: make a link silent, and bring it back.
blackhole() { in_ns "$ns_s" ip link set "pgs$1$$" down; }
lift() { in_ns "$ns_s" ip link set "pgs$1$$" up; }

# Run a command in the client namespace.
in_client() { in_ns "$ns_c" "$@"; }

# Sessions of application_name pghealthd that came over the network.
net_sessions() {
	q "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'pghealthd' AND client_addr IS NOT NULL"
}
