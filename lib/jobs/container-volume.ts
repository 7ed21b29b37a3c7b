import { BootFailureReport, bootFailureTrap } from './boot-failure-report';

/** Where Docker keeps images, containers' writable layers and volumes on the ECS-optimized images. */
export const DOCKER_DATA_ROOT = '/var/lib/docker';

/** The device name of the job instances' container volume in their launch template. */
export const CONTAINER_VOLUME_DEVICE = '/dev/xvdb';

/**
 * Minutes a stopped job's container (its writable layer, its /input and /output) stays on the
 * instance before the ECS agent removes it; three hours by default, which lets a busy instance's
 * volume fill with the writable roots of jobs long ended.
 */
export const STOPPED_CONTAINER_MINUTES = 5;

export interface ContainerVolumeOptions {
  /** Bytes each container may write to its own root file system (Docker's `overlay2.size`). */
  readonly writableRootBytes: number;
  /** @default CONTAINER_VOLUME_DEVICE */
  readonly device?: string;
  /** @default DOCKER_DATA_ROOT */
  readonly dataRoot?: string;
  /** @default '/etc/docker/daemon.json' */
  readonly daemonConfig?: string;
  /** @default '/etc/ecs/ecs.config' */
  readonly ecsConfig?: string;
  /** Seconds to wait for the device to appear. @default 60 */
  readonly deviceWaitSeconds?: number;
  /** Where a failure is told before the instance shuts down. @default - nowhere */
  readonly bootFailures?: BootFailureReport;
}

/**
 * The boot script that gives every job container a writable root bounded in size: Docker's data
 * moves to the instance's container volume, formatted XFS and mounted with project quotas, and
 * Docker is told to cap each container's writable layer (`overlay2.size`, which only XFS with
 * project quotas supports; Batch cannot pass a per-container size). A container that reaches
 * the cap gets ENOSPC, and its layer is removed with it. It runs at every boot before Docker
 * starts (a volume already formatted is kept), and shuts the instance down if any step fails,
 * so no job runs with an unbounded root.
 */
export function containerVolumeScript(options: ContainerVolumeOptions): string {
  const device = options.device ?? CONTAINER_VOLUME_DEVICE;
  const dataRoot = options.dataRoot ?? DOCKER_DATA_ROOT;
  const daemonConfig = options.daemonConfig ?? '/etc/docker/daemon.json';
  const ecsConfig = options.ecsConfig ?? '/etc/ecs/ecs.config';
  const cleanup = `ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=${STOPPED_CONTAINER_MINUTES}m`;
  return [
    '#!/bin/bash',
    'set -eu',
    bootFailureTrap('container volume setup', options.bootFailures),
    `device=${device} data=${dataRoot}`,
    // NVMe volumes get their launch template name as a link from udev, which may come a moment late.
    `for _ in $(seq ${options.deviceWaitSeconds ?? 60}); do [ -b "$device" ] && break; sleep 1; done`,
    '[ -b "$device" ]',
    'if ! findmnt -n "$data" >/dev/null; then',
    '  blkid "$device" >/dev/null || mkfs.xfs -q "$device"',
    // Docker must not hold the old data root while the volume is mounted over it.
    '  if systemctl is-active --quiet docker 2>/dev/null; then systemctl stop docker.socket docker; restart=1; fi',
    '  mkdir -p "$data"',
    '  mount -o prjquota,noatime "$device" "$data"',
    'fi',
    // Docker refuses overlay2.size unless project quotas are on; check here rather than let it fail to start.
    'findmnt -n -o OPTIONS "$data" | tr , "\\n" | grep -qx prjquota',
    `mkdir -p "$(dirname ${daemonConfig})"`,
    `${daemonConfigMerge(daemonConfig, options.writableRootBytes)}`,
    `mkdir -p "$(dirname ${ecsConfig})"`,
    `grep -qx '${cleanup}' ${ecsConfig} 2>/dev/null || echo '${cleanup}' >> ${ecsConfig}`,
    'if [ -n "${restart:-}" ]; then systemctl start docker; fi',
    '',
  ].join('\n');
}

/**
 * A command that sets `overlay2.size` in Docker's daemon configuration and keeps everything else
 * in it (the NVIDIA images configure their runtime there); it can run twice.
 */
export function daemonConfigMerge(daemonConfig: string, writableRootBytes: number): string {
  const program = [
    'import json, os, sys',
    'path, size = sys.argv[1], sys.argv[2]',
    'config = json.load(open(path)) if os.path.exists(path) and os.path.getsize(path) else {}',
    'options = [o for o in config.get("storage-opts", []) if not o.startswith("overlay2.size=")]',
    'config["storage-opts"] = options + ["overlay2.size=" + size]',
    'open(path + ".new", "w").write(json.dumps(config, indent=2))',
    'os.replace(path + ".new", path)',
  ].join('\n');
  // Single-quoted for the shell: the program itself holds none.
  return `python3 -c '${program}' ${daemonConfig} ${writableRootBytes}`;
}
