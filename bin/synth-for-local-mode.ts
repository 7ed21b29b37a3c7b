#!/usr/bin/env node
// Synthesizes the platform for local mode, which reads its IAM policies and its functions'
// environments from the templates: `synth-for-local-mode <config.json> <out.json>`. Run by
// local/iam/synthesized-platform.ts in a process of its own (local mode loads no CDK), without
// asset bundling, which changes no template but the assets' hashes.
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TABLES, TableName } from '../lambda/contracts/tables';
import { API_OPERATIONS } from '../lambda/deployments';
import { PlatformConfig } from '../lib/config/platform-config';
import { buildPlatform } from '../lib/platform';
import type { LogicalRef, SynthesizedPlatform } from '../local/iam/synthesized-platform';
import type { IConstruct } from 'constructs';

function main(): void {
  const [configFile, outFile] = process.argv.slice(2);
  if (!configFile || !outFile) throw new Error('usage: synth-for-local-mode <config.json> <out.json>');
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as PlatformConfig;
  const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const platform = buildPlatform(app, config);
  const assembly = app.synth();

  const ref = (construct: IConstruct): LogicalRef => {
    const element = (construct.node.defaultChild ?? construct) as CfnElement;
    return { stack: Stack.of(element).stackName, logicalId: Stack.of(element).getLogicalId(element) };
  };
  const functions: Record<string, SynthesizedPlatform['functions'][string]> = {};
  for (const operation of API_OPERATIONS) {
    const handler = platform.api.restApi.handlers.get(operation.operationId)!;
    functions[operation.handler] = { function: ref(handler.function), role: ref(handler.role) };
  }
  for (const [folder, triggered] of platform.api.triggeredFunctions) {
    const rule = triggered.node.tryFindChild('Trigger');
    functions[folder] = {
      function: ref(triggered.handler.function),
      role: ref(triggered.handler.role),
      ...(rule && { rule: ref(rule) }),
    };
  }
  const { data, compute } = platform;
  const model: SynthesizedPlatform = {
    templates: Object.fromEntries(assembly.stacks.map((stack) => [stack.stackName, stack.template])),
    tables: Object.fromEntries(
      (Object.keys(TABLES) as TableName[]).map((table) => [table, ref(data.tables.table(table))]),
    ) as SynthesizedPlatform['tables'],
    imagingBucket: ref(data.imagingBucket.bucket),
    platformKey: ref(data.platformKey.key),
    queues: {
      conversion: ref(data.conversionQueue.queue),
      conversionDeadLetters: ref(data.conversionQueue.deadLetterQueue),
      backgroundFailures: ref(data.backgroundFailures),
      builds: ref(data.buildQueue.queue),
      buildDeadLetters: ref(data.buildQueue.deadLetterQueue),
    },
    signingKeys: {
      secretNamePrefix: data.signingKeyPair.secretNamePrefix,
      currentKeySecret: ref(data.signingKeyPair.currentKeySecret),
      generations: data.signingKeyPair.trusted.map((g) => ({
        generation: g.generation,
        keyPair: ref(g.node.findChild('Resource')),
        publicKey: ref(g.publicKey),
      })),
    },
    sessionSigningKey: {
      secretNamePrefix: data.sessionSigningKey.secretNamePrefix,
      keyPair: ref(data.sessionSigningKey.node.findChild('Resource')),
    },
    distribution: ref(data.imagingDistribution.distribution),
    buildLogGroup: ref(platform.api.algorithmBuilds.project.logGroup),
    pageTokenKey: ref(data.pageTokenKey.secret),
    functions,
    converter: {
      jobDefinition: ref(compute.imageConverter.jobDefinition),
      jobRole: ref(compute.imageConverter.jobRole),
      executionRole: ref(compute.imageConverter.executionRole),
      logGroup: ref(compute.imageConverter.logGroup),
    },
    inputStager: {
      jobDefinition: ref(compute.inputStaging.jobDefinition),
      jobRole: ref(compute.inputStaging.jobRole),
      executionRole: ref(compute.inputStaging.executionRole),
      logGroup: ref(compute.inputStaging.logGroup),
    },
    algorithmJobs: {
      jobRole: ref(compute.algorithms.roles.jobRole),
      executionRole: ref(compute.algorithms.roles.executionRole),
      logGroup: ref(compute.algorithms.logGroup),
    },
  };
  fs.writeFileSync(outFile, JSON.stringify(model));
}

main();
