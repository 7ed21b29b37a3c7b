import { RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { algorithmImageLifecycle } from './algorithm-image-lifecycle';

export interface AlgorithmRepositoryProps {
  /** As `buildResourceNames` names it, so that the stateless stacks reach it by name. */
  readonly repositoryName: string;
  readonly encryptionKey: kms.IKey;
  /** Days that images of retired versions and of builds that became no version are kept. */
  readonly retiredImageDays: number;
}

/**
 * The ECR repository that algorithm builds push to and versions run from. It holds the images
 * that jobs run, so it is retained when its stack is deleted. Tags are immutable: a tag names one
 * image for good, so a version's tag can never be moved to another image.
 */
export class AlgorithmRepository extends Construct {
  readonly repository: ecr.Repository;

  constructor(scope: Construct, id: string, props: AlgorithmRepositoryProps) {
    super(scope, id);
    this.repository = new ecr.Repository(this, 'Repository', {
      repositoryName: props.repositoryName,
      encryption: ecr.RepositoryEncryption.KMS,
      encryptionKey: props.encryptionKey,
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Written as JSON: CDK's lifecycle rules know no `sinceImagePulled`.
    (this.repository.node.defaultChild as ecr.CfnRepository).lifecyclePolicy = {
      lifecyclePolicyText: JSON.stringify(algorithmImageLifecycle(props.retiredImageDays)),
    };
  }
}
