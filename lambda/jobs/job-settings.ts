/** Job limits and where jobs go, set on the functions by the api stack from the configuration. */
export interface JobSettings {
  readonly activeJobsPerUser: number;
  readonly activeJobsPerAlgorithm: number;
  readonly activeJobsTotal: number;
  readonly gpuJobQueue: string;
  readonly cpuJobQueue: string;
  readonly bucket: string;
}

export function jobSettings(env: NodeJS.ProcessEnv = process.env): JobSettings {
  const positive = (name: string, fallback: number) => {
    const value = env[name] === undefined ? fallback : Number(env[name]);
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new Error(`${name} must be a positive whole number`);
    return value;
  };
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  return {
    activeJobsPerUser: positive('ACTIVE_JOBS_PER_USER', 16),
    activeJobsPerAlgorithm: positive('ACTIVE_JOBS_PER_ALGORITHM', 16),
    activeJobsTotal: positive('ACTIVE_JOBS_TOTAL', 128),
    gpuJobQueue: required('GPU_JOB_QUEUE'),
    cpuJobQueue: required('CPU_JOB_QUEUE'),
    bucket: required('IMAGING_BUCKET'),
  };
}
