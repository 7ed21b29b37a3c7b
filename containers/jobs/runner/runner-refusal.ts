/**
 * The runner refusing to go on for a reason of the job's own (an output limit hit, a USER it will
 * not run as): its message is the reason the job ends with, as it is. Any other error of the
 * runner is reported as the job runner's failure.
 */
export class RunnerRefusal extends Error {}
