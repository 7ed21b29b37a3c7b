#!/usr/bin/env bash
# Runs the job instances' container volume boot hook on a loop device standing in for the EBS
# volume, with Docker's and the ECS agent's configuration in a scratch folder, and reports what it
# left. Run as root inside `unshare --mount`:
#   container-volume-sandbox.sh <scratch dir> <boot hook> <loop device>
set -eu
scratch=$1 hook=$2 device=$3
mount --make-rprivate /
# No instance to stop, no Docker to restart: both only leave a note.
mkdir -p "$scratch/bin"
printf '#!/bin/sh\necho "shutdown $*" >> "%s/shutdowns"\n' "$scratch" > "$scratch/bin/shutdown"
printf '#!/bin/sh\necho "systemctl $*" >> "%s/systemctl"\nexit 3\n' "$scratch" > "$scratch/bin/systemctl"
chmod +x "$scratch/bin/shutdown" "$scratch/bin/systemctl"
# Kernels built without XFS quotas (CONFIG_XFS_QUOTA) refuse prjquota: there, mount without it
# and let findmnt show the option the hook asked for, so the rest of the hook runs as on EC2.
probe="$scratch/probe"
mkdir -p "$probe"
truncate -s 320M "$scratch/probe.img"
mkfs.xfs -q "$scratch/probe.img"
if mount -o loop,prjquota "$scratch/probe.img" "$probe" 2>/dev/null; then
  umount "$probe"
else
  cat > "$scratch/bin/mount" <<WRAP
#!/bin/sh
echo "\$*" >> "$scratch/mount-requests"
exec /usr/bin/mount \$(echo "\$*" | sed 's/prjquota,//')
WRAP
  cat > "$scratch/bin/findmnt" <<WRAP
#!/bin/sh
if [ "\$3" = OPTIONS ] && grep -q prjquota "$scratch/mount-requests" 2>/dev/null; then
  echo "\$(/usr/bin/findmnt "\$@"),prjquota"
else
  exec /usr/bin/findmnt "\$@"
fi
WRAP
  chmod +x "$scratch/bin/mount" "$scratch/bin/findmnt"
fi
export PATH="$scratch/bin:$PATH"
touch "$scratch/shutdowns"

report() { echo "$1: $2"; }
if ! bash "$hook" > "$scratch/first.log" 2>&1; then
  report "first run" "failed $(tr '\n' ' ' < "$scratch/first.log")"
  report "shutdowns" "$(wc -l < "$scratch/shutdowns")"
  exit 0
fi
report "first run" ok
report "file system" "$(findmnt -n -o FSTYPE "$scratch/docker")"
report "quota" "$(findmnt -n -o OPTIONS "$scratch/docker" | tr , '\n' | grep -x prjquota || echo none)"
report "daemon config" "$(tr -d ' \n' < "$scratch/etc/docker/daemon.json")"
touch "$scratch/docker/kept"
bash "$hook" > "$scratch/second.log" 2>&1 && report "second run" ok || report "second run" "failed $(cat "$scratch/second.log")"
report "kept across runs" "$([ -e "$scratch/docker/kept" ] && echo yes || echo no)"
report "ecs config" "$(tr '\n' ';' < "$scratch/etc/ecs/ecs.config")"
report "daemon config after second run" "$(tr -d ' \n' < "$scratch/etc/docker/daemon.json")"
report "shutdowns" "$(wc -l < "$scratch/shutdowns")"
umount "$scratch/docker"
