/** The Auto Scaling call that protects an instance from scale-in (the SDK's `AutoScaling` client has it). */
export interface ProtectionCalls {
  setInstanceProtection(input: {
    AutoScalingGroupName: string;
    InstanceIds: string[];
    ProtectedFromScaleIn: boolean;
  }): Promise<unknown>;
}

export interface ScaleInProtectionOptions {
  readonly autoScaling: ProtectionCalls;
  readonly groupName: string;
  readonly instanceId: string;
  /** Whether the host holds a session now. */
  readonly busy: () => boolean;
  /** @default 5000 */
  readonly intervalMs?: number;
  readonly log?: (message: string) => void;
}

/**
 * Keeps the instance protected from scale-in while it holds a session, and unprotected while it
 * holds none, so that Auto Scaling, removing hosts, picks only empty ones and never cuts a
 * session (the lifecycle hook drains hosts removed otherwise). Read every few seconds; a call
 * that fails is made again at the next reading.
 */
export function protectWhileBusy(options: ScaleInProtectionOptions): { stop(): void } {
  const log = options.log ?? ((message: string) => console.error(message));
  let protectedNow: boolean | undefined;
  let calling = false;
  const check = async () => {
    const wanted = options.busy();
    if (wanted === protectedNow || calling) return;
    calling = true;
    try {
      await options.autoScaling.setInstanceProtection({
        AutoScalingGroupName: options.groupName,
        InstanceIds: [options.instanceId],
        ProtectedFromScaleIn: wanted,
      });
      protectedNow = wanted;
    } catch (err) {
      log(`scale-in protection ${wanted ? 'on' : 'off'} failed: ${(err as Error).message}`);
    } finally {
      calling = false;
    }
  };
  void check();
  const timer = setInterval(() => void check(), options.intervalMs ?? 5000);
  return { stop: () => clearInterval(timer) };
}
