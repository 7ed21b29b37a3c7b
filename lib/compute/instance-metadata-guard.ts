import * as ec2 from 'aws-cdk-lib/aws-ec2';

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
 * If any step fails the instance shuts down (and, by its launch template, terminates) before the
 * agent starts, so no job ever runs on an instance without the guard.
 */
export function instanceMetadataGuardScript(): string {
  const address = `${INSTANCE_METADATA_ADDRESS}/32`;
  const awsvpcSetting = 'ECS_AWSVPC_BLOCK_IMDS=true';
  return [
    '#!/bin/bash',
    'set -eu',
    `trap 'echo "instance metadata guard failed: shutting down before any job runs" >&2; shutdown -h now' ERR`,
    insertFirstOnce('OUTPUT', `-d ${address} -m owner ! --uid-owner 0 -j DROP`),
    'iptables -N DOCKER-USER 2>/dev/null || true',
    insertFirstOnce('DOCKER-USER', `-d ${address} -j DROP`),
    'mkdir -p /etc/ecs',
    `grep -qx '${awsvpcSetting}' /etc/ecs/ecs.config 2>/dev/null || echo '${awsvpcSetting}' >> /etc/ecs/ecs.config`,
    '',
  ].join('\n');
}

/** Puts a rule at the top of its chain unless the chain already has it. */
function insertFirstOnce(chain: string, rule: string): string {
  return `iptables -C ${chain} ${rule} 2>/dev/null || iptables -I ${chain} 1 ${rule}`;
}

/**
 * User data for the job instances' launch template. Batch accepts only MIME multipart user data,
 * which it merges with its own; a cloud-boothook part runs at every boot, early, unlike a shell
 * script part that runs once, late.
 */
export function jobInstanceUserData(): ec2.MultipartUserData {
  const userData = new ec2.MultipartUserData();
  userData.addPart(
    ec2.MultipartBody.fromRawBody({
      contentType: ec2.MultipartBody.CLOUD_BOOTHOOK,
      body: instanceMetadataGuardScript(),
    }),
  );
  return userData;
}
