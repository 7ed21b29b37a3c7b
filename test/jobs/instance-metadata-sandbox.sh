#!/usr/bin/env bash
# Runs a job instance's boot hook in network namespaces laid out as on EC2, and reports who reaches
# the metadata service before and after it. Run as root inside `unshare --net --mount`:
#   instance-metadata-sandbox.sh <scratch dir> <boot hook script> <node binary>
# Layout: the "host" is the current namespace; the metadata service answers on 169.254.169.254 in
# a namespace of its own, one routed hop away; a bridged container sits behind docker0.
set -eu
scratch=$1 hook=$2 node=$3

# Writes to /etc (the hook's ecs.config) land in the scratch dir, not on this machine.
mount --make-rprivate /
mkdir -p "$scratch/upper" "$scratch/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$scratch/upper,workdir=$scratch/work" /etc
mount -t tmpfs tmpfs /run
# The hook shuts the instance down when it fails: here that only leaves a note.
mkdir -p "$scratch/bin"
printf '#!/bin/sh\necho "shutdown $*" >> "%s/shutdowns"\n' "$scratch" > "$scratch/bin/shutdown"
chmod +x "$scratch/bin/shutdown"
export PATH="$scratch/bin:$PATH"
touch "$scratch/shutdowns"

ip link set lo up
ip netns add metadata
ip link add imds type veth peer name imds-peer netns metadata
ip addr add 169.254.0.1/30 dev imds
ip link set imds up
ip -n metadata link set lo up
ip -n metadata addr add 169.254.169.254/32 dev imds-peer
ip -n metadata link set imds-peer up
ip -n metadata route add 169.254.0.1/32 dev imds-peer
ip -n metadata route add default via 169.254.0.1 dev imds-peer onlink
ip route add 169.254.169.254/32 dev imds

ip netns add container
ip link add docker0 type veth peer name eth0 netns container
ip addr add 172.17.0.1/16 dev docker0
ip link set docker0 up
ip -n container addr add 172.17.0.2/16 dev eth0
ip -n container link set eth0 up
ip -n container route add default via 172.17.0.1
sysctl -qw net.ipv4.ip_forward=1

ip netns exec metadata "$node" -e \
  'require("http").createServer((q, r) => r.end("credentials")).listen(80, "169.254.169.254")' &
server=$!
# A service on the host's loopback, as the ECS agent's credential endpoint is in host mode.
"$node" -e 'require("http").createServer((q, r) => r.end("local")).listen(8080, "127.0.0.1")' &
local_server=$!
trap 'kill $server $local_server' EXIT
probe='const q = require("http").get("http://169.254.169.254/", { timeout: 1500 }, () => { console.log("reached"); process.exit(0); });
q.on("timeout", () => { console.log("blocked"); process.exit(0); });
q.on("error", (e) => { console.log("failed " + e.code); process.exit(0); });'
for _ in $(seq 50); do [ "$("$node" -e "$probe")" = reached ] && break; sleep 0.1; done

loopback=$(echo "$probe" | sed 's#http://169.254.169.254/#http://127.0.0.1:8080/#')
for _ in $(seq 50); do [ "$("$node" -e "$loopback")" = reached ] && break; sleep 0.1; done

probes() {
  echo "$1 host root: $("$node" -e "$probe")"
  echo "$1 host user: $(setpriv --reuid 65534 --regid 65534 --clear-groups "$node" -e "$probe")"
  echo "$1 container root: $(ip netns exec container "$node" -e "$probe")"
  echo "$1 host user loopback: $(setpriv --reuid 1000 --regid 1000 --clear-groups "$node" -e "$loopback")"
  echo "$1 algorithm loopback: $(setpriv --reuid 1000 --regid 1000 --groups 1000,61000 "$node" -e "$loopback")"
}

probes before
# At boot, twice: it must add nothing the second time.
bash "$hook"
bash "$hook"
# Then Docker starts: it keeps DOCKER-USER as found, ends it with RETURN and jumps to it first.
iptables -A DOCKER-USER -j RETURN
iptables -I FORWARD 1 -j DOCKER-USER
probes after

echo "OUTPUT rules: $(iptables -S OUTPUT | grep -c 169.254.169.254)"
echo "group rules: $(iptables -S OUTPUT | grep -c 'gid-owner 61000')"
echo "DOCKER-USER rules: $(iptables -S DOCKER-USER | grep -c 169.254.169.254)"
echo "ecs.config lines: $(grep -c '^ECS_AWSVPC_BLOCK_IMDS=true$' /etc/ecs/ecs.config)"
echo "task role lines: $(grep -c '^ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=true$' /etc/ecs/ecs.config)"
echo "shutdowns: $(wc -l < "$scratch/shutdowns")"

# A hook that cannot set its rules shuts the instance down and goes no further.
rm -rf /etc/ecs
mkdir -p "$scratch/broken"
printf '#!/bin/sh\nexit 1\n' > "$scratch/broken/iptables"
chmod +x "$scratch/broken/iptables"
status=0
PATH="$scratch/broken:$PATH" bash "$hook" 2>/dev/null || status=$?
echo "broken exit: $status"
echo "broken shutdowns: $(cat "$scratch/shutdowns")"
echo "broken ecs.config: $([ -e /etc/ecs/ecs.config ] && echo written || echo absent)"
