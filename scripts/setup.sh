#!/usr/bin/env bash
# Installs everything beeline needs on Debian 12 (as root). Idempotent: only
# what is missing is installed, so a second run takes a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: compiler and BPF tooling, the lab's network tools, the
# lab's etcd and DNS server, and real traffic tools for tests.
PKGS=(clang llvm libbpf-dev bpftool iproute2 iptables nftables etcd-server etcd-client
      dnsmasq-base iperf3 sockperf curl jq dnsutils iputils-ping procps psmisc tcpdump)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: needs root (apt-get, bpffs, network namespaces)" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/beeline-apt.log 2>&1 \
    || { tail -20 /tmp/beeline-apt.log >&2; echo "setup: apt-get install failed (log: /tmp/beeline-apt.log)" >&2; exit 1; }
fi

# Node dependencies, exactly as locked.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi

# The CLI on PATH.
ln -sfn "$(pwd)/bin/beeline" /usr/local/bin/beeline
echo "setup: ok"
