import { NETWORK_DENIED_GID } from '../../containers/jobs/runner/algorithm-identity';
import { BootFailureReport, bootFailureTrap } from './boot-failure-report';

/** The instance metadata service, which hands out the instance role's credentials. */
export const INSTANCE_METADATA_ADDRESS = '169.254.169.254';

/**
 * The boot script that keeps containers away from the instance metadata service while the ECS
 * agent, which runs as root on the host, keeps using it. It runs at every boot, before Docker and
 * the agent start, and can run twice without adding anything twice.
 *
 * Each network mode needs its own rule:
 * - host, which Batch gives every single-container job on EC2: containers share the host's
 *   network stack, so only the socket's owner tells them apart; every user but root is dropped,
 *   and algorithm images must not run as root;
 * - bridge (docker0, ECS bridges): traffic is forwarded, and Docker sends every forwarded packet
 *   through DOCKER-USER first, a chain it keeps as found when it starts (AWS's documented rule,
 *   here for every bridge rather than docker0 only);
 * - awsvpc (task ENIs, multi-node parallel jobs): the agent blocks the address in each task's
 *   namespace when `ECS_AWSVPC_BLOCK_IMDS` is set.
 *
 * And algorithms get no network at all: the job runner starts every algorithm process with the
 * supplementary group NETWORK_DENIED_GID, which a process without CAP_SETGID cannot leave, and
 * every packet of that group is dropped, loopback and DNS included. The runner itself, root and
 * outside the group, reaches the job role's credentials (which the agent serves to host-mode
 * tasks when `ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST` is set) and S3.
 *
 * If any step fails the instance shuts down (and, by its launch template, terminates) before the
 * agent starts, so no job ever runs on an instance without the guard; with `report`, it tells the
 * boot failure log group first.
 */
export function instanceMetadataGuardScript(report?: BootFailureReport): string {
  const address = `${INSTANCE_METADATA_ADDRESS}/32`;
  const settings = ['ECS_AWSVPC_BLOCK_IMDS=true', 'ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=true'];
  return [
    '#!/bin/bash',
    'set -eu',
    bootFailureTrap('instance metadata guard', report),
    insertFirstOnce('OUTPUT', `-d ${address} -m owner ! --uid-owner 0 -j DROP`),
    insertFirstOnce('OUTPUT', `-m owner --gid-owner ${NETWORK_DENIED_GID} --suppl-groups -j DROP`),
    'iptables -N DOCKER-USER 2>/dev/null || true',
    insertFirstOnce('DOCKER-USER', `-d ${address} -j DROP`),
    'mkdir -p /etc/ecs',
    ...settings.map(
      (setting) =>
        `grep -qx '${setting}' /etc/ecs/ecs.config 2>/dev/null || echo '${setting}' >> /etc/ecs/ecs.config`,
    ),
    '',
  ].join('\n');
}

/** Puts a rule at the top of its chain unless the chain already has it. */
function insertFirstOnce(chain: string, rule: string): string {
  return `iptables -C ${chain} ${rule} 2>/dev/null || iptables -I ${chain} 1 ${rule}`;
}
