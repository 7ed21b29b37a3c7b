#!/usr/bin/env node
// `npm start`: the platform on this machine, on embedded defaults. Ctrl-C stops it.
import {
  localOptionsFromEnvironment,
  LocalService,
  NO_BUILD_ENGINE,
  NO_CONTAINER_ENGINE,
  SERVICE_NAMES,
} from '../local/local-options';
import { LocalPlatformError, startLocalPlatform } from '../local/local-platform';

async function main(): Promise<void> {
  const options = localOptionsFromEnvironment();
  const platform = await startLocalPlatform(options);

  const lines = [
    'Imaging platform running locally',
    ...(Object.keys(platform.urls) as LocalService[]).map(
      (service) => `  ${SERVICE_NAMES[service].padEnd(26)} ${platform.urls[service]}`,
    ),
    `  health                     ${platform.urls.api}/v1/health`,
    `  data folder                ${platform.dataDir}`,
    `  algorithm jobs             ${platform.jobs ? `run in ${platform.jobs.engine}` : NO_CONTAINER_ENGINE}`,
    `  algorithm builds           ${platform.jobs ? `run in ${platform.jobs.engine}, ${platform.builds.concurrency} at once at most (LOCAL_BUILD_CONCURRENCY)` : NO_BUILD_ENGINE}`,
    '  IAM                        every call checked against the synthesized policies (docs/local-iam.md)',
    `  queues and events          at least once, in no guaranteed order (seed ${platform.delivery.seed})`,
    '',
    'Development tokens (send as "Authorization: Bearer <token>"):',
    ...platform.devUsers.map(
      (user) =>
        `  ${user.token.padEnd(12)} ${user.claims.email}${user.claims['custom:verified'] === 'true' ? ' (verified)' : ''}`,
    ),
    '',
    'To point AWS SDKs and the AWS CLI at it, as the operator (allowed everything):',
    ...Object.entries(platform.environment).map(([name, value]) => `  export ${name}=${value}`),
    '',
    'Press Ctrl-C to stop.',
  ];
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal} received, stopping...`);
    platform.stop().then(
      () => {
        console.log('Stopped.');
        process.exit(0);
      },
      (err: Error) => {
        console.error(`Stopping failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: Error) => {
  console.error(err instanceof LocalPlatformError ? err.message : err.stack);
  process.exit(1);
});
