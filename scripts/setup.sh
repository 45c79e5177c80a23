#!/bin/bash
# setup.sh [--bench]: install what goalloc-trace needs to build and test on
# Debian 12 (run as root).  clang, bpftool, libbpf-dev, libelf-dev and
# zlib1g-dev build the eBPF kernel view (run --bpf; cli/kview.bpf.c).
# The HTML report inlines chart.js and d3 that `npm ci` fetches at build
# time, and its test drives Debian's chromium: Node.js and npm come from
# Debian's nodejs and npm packages only when no npm is on the PATH (a
# machine may have a newer Node.js of its own; Debian 12's is 18, and the
# browser test pins playwright-core 1.57.0, which declares Node.js 18 or
# later, where 1.65 wants 20).
# --bench adds the peer allocators and tools the benchmarks compare against.
# Installs only what is missing.
set -euo pipefail
pkgs=(build-essential cmake g++ pkg-config libunwind-dev libdw-dev libbpf-dev libelf-dev zlib1g-dev
      clang bpftool libsqlite3-dev sqlite3 python3 libpython3.11-testsuite git jq perl
      redis-server redis-tools php-cli postgresql golang-go chromium)
if ! command -v npm >/dev/null; then
	pkgs+=(nodejs npm)
fi
if [ "${1:-}" = "--bench" ]; then
	pkgs+=(libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 heaptrack hyperfine time)
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: missing packages: ${missing[*]} (run as root, or install them)" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# redis-server's package starts a system instance; the tests start their own
# (postgresql's too, if it can: prog_postgres runs its own cluster on a
# socket in its scratch directory, as the user postgres the package makes).
if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then
	systemctl stop redis-server || true
fi
echo "setup: ok"
