#!/bin/sh
# deps.sh: install the Debian packages Fresco needs to build, test and
# benchmark. Idempotent and quiet when everything is there.
set -e
PACKAGES="gcc make binutils libc6-dev linux-libc-dev pkg-config musl-tools \
check python3 python3-pytest qemu-system-x86 cpio clang-format cppcheck \
clang libclang-rt-14-dev \
e2fsprogs time busybox-static \
libyaml-dev nettle-dev libjansson-dev libslirp-dev curl wrk iproute2 iputils-ping \
iptables libnetfilter-queue-dev dnsmasq-base"
missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || {
		echo "deps: need root to install$missing; run as root or install sudo" >&2
		exit 1
	}
	SUDO=sudo
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
