import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeHipaaAndNist } from '../core/acknowledgements';

export interface GatewayPrefixListProps {
  readonly service: ec2.GatewayVpcEndpointAwsService;
  /** Log group of the lookup function, shared by every lookup of the stack (one function runs them all). */
  readonly logGroup: logs.ILogGroup;
}

/**
 * The id of the AWS-managed prefix list of a gateway endpoint's service (S3, DynamoDB) in the
 * stack's region, read at deploy time: CloudFormation returns no prefix list for a gateway
 * endpoint, and the id differs per region and partition. Security groups name it to allow
 * HTTPS to the service and nowhere else.
 */
export class GatewayPrefixList extends Construct {
  readonly prefixListId: string;

  constructor(scope: Construct, id: string, props: GatewayPrefixListProps) {
    super(scope, id);
    const lookup: cr.AwsSdkCall = {
      service: 'EC2',
      action: 'DescribeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [props.service.name] }] },
      physicalResourceId: cr.PhysicalResourceId.of(props.service.name),
      outputPaths: ['PrefixLists.0.PrefixListId'],
    };
    const resource = new cr.AwsCustomResource(this, 'Lookup', {
      onCreate: lookup,
      onUpdate: lookup,
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
      logGroup: props.logGroup,
    });
    this.prefixListId = resource.getResponseField('PrefixLists.0.PrefixListId');
    Validations.of(resource).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ec2:DescribeManagedPrefixLists supports no resource-level permissions (Service Authorization Reference); the lookup only reads the AWS-managed prefix list ids.',
    });
    acknowledgeHipaaAndNist(
      resource,
      'IAMNoInlinePolicy',
      'The policy is attached to the one role of the lookup function and holds only its one read-only call; a customer-managed policy would carry the same statement.',
    );
    acknowledgeLookupFunction(Stack.of(this));
  }
}

/** The function behind every AwsCustomResource of a stack is one singleton, acknowledged beside it. */
function acknowledgeLookupFunction(stack: Stack): void {
  const fn = stack.node.tryFindChild(`AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`);
  if (!fn) throw new Error('the AwsCustomResource function was not found beside its lookups');
  const reasons = {
    LambdaConcurrency:
      'CloudFormation invokes it once per deploy for each lookup; reserving concurrency fails to deploy in new accounts whose concurrency quota is 10.',
    LambdaDLQ:
      'CloudFormation invokes it synchronously through the custom resource and fails the deploy on an error; there is no asynchronous event to keep.',
    LambdaInsideVPC:
      'It calls the EC2 API once per deploy to read AWS-managed prefix list ids, which needs no network of the platform and touches no data.',
  };
  for (const [rule, reason] of Object.entries(reasons)) acknowledgeHipaaAndNist(fn, rule, reason);
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      'The AwsCustomResource function comes with this role from aws-cdk-lib; the managed policy only lets it write its own logs, and the function runs only at deploy time.',
  });
}
