import { CfnOutput, Fn, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A value of another stack as read through the output by which that stack publishes it, with
 * Fn::GetStackOutput: the weak reference that CDK would make itself, but written out now. CDK
 * writes its own reference expression only while synthesizing, so an IAM statement built from it
 * reads differently in the construct tree (where the tests run cdk-nag) than in `cdk synth`, and
 * no acknowledgement of its findings could name both.
 * @param producer a construct of the stack that holds `value`
 */
export function publishedValue(producer: IConstruct, value: string): string {
  const stack = Stack.of(producer);
  const wanted = JSON.stringify(stack.resolve(value));
  const output = stack.node
    .findAll()
    .find((c): c is CfnOutput => c instanceof CfnOutput && JSON.stringify(stack.resolve(c.value)) === wanted);
  if (!output) throw new Error(`stack ${stack.stackName} publishes no output with the value ${wanted}`);
  return Fn.getStackOutput(stack.stackName, stack.resolve(output.logicalId), stack.region);
}
