#!/bin/sh
# Turns a debootstrapped Debian root into a test host image. Runs on the control machine as root;
# $1 is the image root, $2 the repo's test/hosts directory.
set -eu
root=$1
hosts=$2

cp -a "$hosts/image/rootfs/." "$root/"
chmod 0440 "$root/etc/sudoers.d/daniel"
# Host keys come from the harness at boot; none may be baked into the shared image.
rm -f "$root"/etc/ssh/ssh_host_*
mkdir -p "$root/etc/ssh/testhost-keys" "$root/etc/ssh/testhost-authorized"

chroot "$root" useradd --create-home --shell /bin/bash daniel
# The login prompt on the console is noise in the boot log.
chroot "$root" systemctl mask console-getty.service getty@.service systemd-networkd-wait-online.service >/dev/null 2>&1 || true
# nspawn names each host; libnss-myhostname resolves that name (sudo asks for it).
rm -f "$root/etc/hostname"

# The wheelhouse: the Prefect stand-in and PyYAML (from the image's own python3-yaml).
mkdir -p "$root/opt/wheelhouse" "$root/tmp/standin"
cp -a "$hosts/standin/." "$root/tmp/standin/"
chroot "$root" python3 /tmp/standin/build_wheels.py /tmp/standin /opt/wheelhouse
rm -rf "$root/tmp/standin"

# As bare as a fresh cloud image: what the setup installs goes (the wheels above needed PyYAML), and
# apt's only source is the local repository the harness mounts at /srv/apt-repo (the base's own
# .debs, see image.ts), with no package lists yet, as before a VM's first apt-get update.
chroot "$root" sh -c 'dpkg --purge python3-venv $(dpkg-query -W -f="\${Package}\n" "python3.*-venv") python3-pip-whl python3-setuptools-whl python3-yaml python3-apt git git-man' >/dev/null
echo 'deb [trusted=yes] file:/srv/apt-repo ./' > "$root/etc/apt/sources.list"
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/archives/"*.deb
mkdir -p "$root/srv/apt-repo"

# The user's project checkout, as the seed describes it.
mkdir -p "$root/home/daniel/projects"
cp -a "$hosts/image/project" "$root/home/daniel/projects/projections-v2"
chroot "$root" chown -R daniel:daniel /home/daniel/projects
