#!/usr/bin/env bash
# Installs the Debian packages the lab needs on the machine that runs it (root or sudo), and
# pip, which installs uv where it is missing.
set -euo pipefail
# gcc, libc6-dev and libseccomp-dev: the bundle builds runc, the one cgo program it holds.
# openssh-server: the sshd of benchmarks/drift_scale.py's stand-in hosts (on a systemd machine
# the package also enables its own ssh service).
packages=(qemu-system-x86 qemu-utils debootstrap vde2 openssh-client e2fsprogs iproute2 python3-pip
          gcc libc6-dev libseccomp-dev openssh-server)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi
