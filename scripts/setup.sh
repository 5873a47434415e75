#!/usr/bin/env bash
# Installs everything beeline needs on Debian 12 (as root). Idempotent: only
# what is missing is installed, so a second run takes a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: compiler and BPF tooling, the lab's network tools, the
# lab's etcd and DNS server, and real traffic tools for tests and benchmarks
# (wrk generates the services and policy benchmarks' load; nginx-light is the
# server of the lab's nginx-native image, bin/beeline-nginx; tshark is the
# independent decoder the observability tests check flows against; haproxy is
# the reference HTTP engine of the L7 benchmark, bench/http-engine.ts, run
# only inside that benchmark's private network namespace; nghttp2-client's
# h2load is the HTTP/2 client of the node proxy's HTTP/2 tests; kcat, librdkafka's
# command-line client, is one of the two real Kafka clients the Kafka tests
# run against the test broker, test/lib/kafka-broker.ts; dnsperf generates the
# DNS proxy benchmark's queries, bench/dns-proxy.ts); chromium is the headless
# browser the web UI's end-to-end tests drive (playwright-core, pointed at
# /usr/bin/chromium: no browser can be downloaded here), with a font to render in.
# runc is the lab's OCI runtime: every pod container and `lab pod exec` runs
# under it (src/lab/oci.ts; crun 1.8 refuses this machine's hybrid cgroup
# layout), with tini as each container's pid 1 (signals passed on, orphans
# reaped, as `docker run --init`).
# podman (4.3, with conmon and its CNI backend's containernetworking-plugins) is
# the real container runtime the CNI plugin is tested against as a CNI client
# (test/privileged/podman-cni.test.ts, docs/cni.md#podman): run only inside a lab
# node's network namespace, with private storage and configuration; never in the
# machine's root namespace, so its systemd units (API socket, restart at boot,
# auto-update) are disabled below.
PKGS=(clang llvm libbpf-dev bpftool iproute2 iptables nftables etcd-server etcd-client
      dnsmasq-base iperf3 sockperf curl jq dnsutils iputils-ping procps psmisc tcpdump
      wrk nginx-light tshark haproxy nghttp2-client kcat dnsperf chromium fonts-dejavu-core
      runc tini podman)

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
  # wireshark-common (tshark's) would ask whether non-root users may capture
  # (a setuid dumpcap and a wireshark group): no; beeline captures as root.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  apt-get update -qq
  # nginx-light's postinst would start nginx as a system service listening on
  # the machine's port 80, haproxy's likewise its own; beeline only runs nginx
  # inside lab pods and haproxy inside a benchmark's namespace. Where nothing
  # already forbids service starts (a container's policy-rc.d), forbid those
  # two alone for this install (invoke-rc.d and deb-systemd-invoke pass the
  # service as $1), so every other package's services start as they always did.
  rcd=/usr/sbin/policy-rc.d own_rcd=
  if [ ! -e "$rcd" ]; then
    printf '#!/bin/sh\n# beeline setup: no nginx or haproxy system service (removed after the install)\ncase "$1" in nginx|nginx.service|haproxy|haproxy.service) exit 101;; esac\nexit 0\n' >"$rcd"
    chmod 755 "$rcd"
    own_rcd=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/beeline-apt.log 2>&1 \
    || { [ -z "$own_rcd" ] || rm -f "$rcd"; tail -20 /tmp/beeline-apt.log >&2; echo "setup: apt-get install failed (log: /tmp/beeline-apt.log)" >&2; exit 1; }
  [ -z "$own_rcd" ] || rm -f "$rcd"
  # Under systemd the packages also enable their units for the next boot: undo that.
  if [[ " ${missing[*]} " == *" nginx-light "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now nginx.service >/dev/null 2>&1 || true
  fi
  if [[ " ${missing[*]} " == *" haproxy "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now haproxy.service >/dev/null 2>&1 || true
  fi
  # podman's postinst enables them even without systemd running (systemctl edits the links offline).
  if [[ " ${missing[*]} " == *" podman "* ]]; then
    units=(podman.socket podman.service podman-restart.service podman-auto-update.service podman-auto-update.timer)
    systemctl disable "${units[@]}" >/dev/null 2>&1 || true
    [ ! -d /run/systemd/system ] || systemctl stop "${units[@]}" >/dev/null 2>&1 || true
  fi
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
