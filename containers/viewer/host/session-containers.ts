import { randomBytes } from 'node:crypto';
import { EngineApi } from './engine-api';

/** The port a session's viewer listens on inside its container, and the one it tells its frame times on. */
export const SESSION_VIEWER_PORT = 8080;
export const SESSION_FRAMES_PORT = 8081;
/**
 * The header the host adds to everything it passes to a session's viewer, valued with a secret of
 * that viewer's own: a viewer answers nothing else, whatever reaches it on the network.
 */
export const HOST_TOKEN_HEADER = 'x-viewer-host-token';
/** The variable that gives a session's viewer its secret. */
export const HOST_TOKEN_VARIABLE = 'VIEWER_HOST_TOKEN';
/** Every container and network of a host carries this label, valued with the host's id. */
export const HOST_LABEL = 'imaging-platform.viewer-host';

export interface SessionContainersOptions {
  readonly engine: EngineApi;
  /** The image holding the session viewer (the host's own image). */
  readonly image: string;
  /** Names this host's containers and networks, so that they can be found and removed. */
  readonly hostId: string;
  /** Environment of every session viewer, by name. */
  readonly env: Readonly<Record<string, string>>;
  readonly memoryMiB: number;
  /** Thousandths of a vCPU. */
  readonly milliCpus: number;
  /** @default 256: Node's threads and a few children, not a fork bomb */
  readonly pidsLimit?: number;
  /** Resource limits the engine must set explicitly where its defaults are refused. @default - the engine's */
  readonly ulimits?: readonly { readonly Name: string; readonly Soft: number; readonly Hard: number }[];
  /** @default 30000 */
  readonly readyTimeoutMs?: number;
}

/** A session's viewer, in a container of its own. */
export interface SessionContainer {
  readonly name: string;
  /** Where the host reaches its viewer: the container's address on its own network. */
  readonly address: string;
  /** The secret the host shows it in `HOST_TOKEN_HEADER`. */
  readonly token: string;
  /** Settles when the container has stopped, with why. */
  readonly exited: Promise<{ exitCode: number; oomKilled: boolean }>;
  /** Stops and removes the container. */
  remove(): Promise<void>;
}

/**
 * Starts each session's viewer in a container of its own, from the host's image: its own memory
 * and CPU limits and process count, a read-only root, no capabilities, no privilege gain, the
 * image's unprivileged user, and a network of its own, so that no session reaches another's
 * viewer; egress stays open for the signed image URLs and the API. Networks are made once per
 * slot and reused.
 */
export class SessionContainers {
  private readonly freeNetworks: string[] = [];
  private networkCount = 0;
  private engineKind?: Promise<'podman' | 'docker'>;
  private closed = false;

  constructor(private readonly options: SessionContainersOptions) {}

  async start(): Promise<SessionContainer> {
    if (this.closed) throw new Error('the host is stopping: no session viewer is started');
    const { engine, hostId } = this.options;
    const network = await this.network();
    const name = `viewer-session-${hostId}-${randomBytes(4).toString('hex')}`;
    const token = randomBytes(32).toString('base64url');
    // Once watched, the watch removes the container and frees its network.
    let watched = false;
    try {
      await engine.call('POST', `/containers/create?name=${name}`, this.containerSpec(network, token));
      await engine.call('POST', `/containers/${name}/start`);
      const inspected = await engine.call<{
        NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
      }>('GET', `/containers/${name}/json`);
      const address = inspected.NetworkSettings.Networks[network]?.IPAddress;
      if (!address) throw new Error(`the container ${name} has no address on ${network}`);
      const exited = this.watch(name, network);
      watched = true;
      await this.ready(address, exited);
      // Started while the host stopped: removed by nothing else.
      if (this.closed) throw new Error('the host stopped as the session viewer started');
      return { name, address, token, exited, remove: () => this.remove(name) };
    } catch (err) {
      await this.remove(name);
      if (!watched) await this.releaseNetwork(network);
      throw err;
    }
  }

  /** Starts no more containers, and removes every one of this host. */
  async close(): Promise<void> {
    this.closed = true;
    await this.removeAll();
  }

  /** Removes every container and network of this host: as it stops, or left by one before it. */
  async removeAll(): Promise<void> {
    const { engine, hostId } = this.options;
    const filters = encodeURIComponent(JSON.stringify({ label: [`${HOST_LABEL}=${hostId}`] }));
    const containers = await engine.call<{ Id: string }[]>(
      'GET',
      `/containers/json?all=true&filters=${filters}`,
    );
    await Promise.all(containers.map((c) => this.remove(c.Id)));
    const networks = await engine.call<{ Name: string }[]>('GET', `/networks?filters=${filters}`);
    await Promise.all(
      networks.map((n) => engine.call('DELETE', `/networks/${n.Name}`).catch(() => undefined)),
    );
    this.freeNetworks.length = 0;
  }

  private containerSpec(network: string, token: string) {
    const { image, hostId, env, memoryMiB, milliCpus, pidsLimit, ulimits } = this.options;
    const memory = memoryMiB * 1024 * 1024;
    return {
      Image: image,
      Cmd: ['session'],
      // The image's own unprivileged user, named here so that an image without one cannot run as root.
      User: 'node',
      Env: Object.entries({ ...env, [HOST_TOKEN_VARIABLE]: token }).map(([key, value]) => `${key}=${value}`),
      Labels: { [HOST_LABEL]: hostId },
      HostConfig: {
        Memory: memory,
        // No swap: past its memory the session's viewer is stopped, not the host slowed.
        MemorySwap: memory,
        NanoCpus: milliCpus * 1_000_000,
        PidsLimit: pidsLimit ?? 256,
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=16m' },
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        NetworkMode: network,
        ...(ulimits && { Ulimits: ulimits }),
      },
    };
  }

  /** A network of its own for the next container: one left free by an ended session, or a new one. */
  private async network(): Promise<string> {
    const free = this.freeNetworks.pop();
    if (free) return free;
    const name = `viewer-sessions-${this.options.hostId}-${++this.networkCount}`;
    // Docker keeps bridge networks apart from each other; podman does so when asked to isolate.
    const options = (await this.kind()) === 'podman' ? { isolate: 'true' } : {};
    await this.options.engine.call('POST', '/networks/create', {
      Name: name,
      Driver: 'bridge',
      Options: options,
      Labels: { [HOST_LABEL]: this.options.hostId },
    });
    return name;
  }

  private kind(): Promise<'podman' | 'docker'> {
    this.engineKind ??= this.options.engine
      .call<{ Components?: { Name: string }[] }>('GET', '/version')
      .then((version) => (version.Components?.some((c) => /podman/i.test(c.Name)) ? 'podman' : 'docker'));
    return this.engineKind;
  }

  /** Waits for the container to stop, reads why, removes it and frees its network. */
  private async watch(name: string, network: string): Promise<{ exitCode: number; oomKilled: boolean }> {
    const { engine } = this.options;
    let exitCode = -1;
    let oomKilled = false;
    try {
      const waited = await engine.call<{ StatusCode: number }>(
        'POST',
        `/containers/${name}/wait`,
        undefined,
        0,
      );
      exitCode = waited.StatusCode;
      const inspected = await engine.call<{ State: { OOMKilled: boolean } }>(
        'GET',
        `/containers/${name}/json`,
      );
      oomKilled = inspected.State.OOMKilled;
    } catch {
      // Removed while waited on, or the engine went away: it has stopped all the same.
    }
    await this.remove(name);
    await this.releaseNetwork(network);
    return { exitCode, oomKilled };
  }

  private async ready(address: string, exited: Promise<unknown>): Promise<void> {
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 30_000);
    let stopped = false;
    void exited.then(() => (stopped = true));
    while (Date.now() < deadline) {
      if (stopped || this.closed) throw new Error('the session viewer stopped as it started');
      const answered = await fetch(`http://${address}:${SESSION_VIEWER_PORT}/ping`, {
        signal: AbortSignal.timeout(1000),
      }).then(
        (response) => response.status === 204,
        () => false,
      );
      if (answered) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('the session viewer did not answer in time');
  }

  /** Kept for the next container; removed once the host is stopping. */
  private async releaseNetwork(network: string): Promise<void> {
    if (!this.closed) return void this.freeNetworks.push(network);
    await this.options.engine.call('DELETE', `/networks/${network}`).catch(() => undefined);
  }

  private async remove(name: string): Promise<void> {
    await this.options.engine.call('DELETE', `/containers/${name}?force=true`).catch(() => undefined);
  }
}
