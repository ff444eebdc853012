import { ArnFormat, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { AppFunction } from './app-function.js';

export interface FoundationModelProps {
  /** A Bedrock foundation model id, e.g. `amazon.nova-lite-v1:0`. */
  readonly modelId: string;
  /** Where the model is invoked. @default the function's stack's region */
  readonly region?: string;
}

/**
 * AI agents' answers (docs/automations.md, "AI agents"): the function may
 * invoke one Amazon Bedrock foundation model and no other
 * (`arn:{partition}:bedrock:{region}::foundation-model/{modelId}`; the Converse
 * API is authorised as `bedrock:InvokeModel`), and is told which and where in
 * `AI_MODEL_ID` and `AI_REGION`.
 */
export function bindFoundationModel(fn: AppFunction, props: FoundationModelProps): string {
  const stack = Stack.of(fn);
  const region = props.region ?? stack.region;
  const modelArn = stack.formatArn({
    service: 'bedrock',
    region,
    account: '',
    resource: 'foundation-model',
    resourceName: props.modelId,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  fn.fn.addToRolePolicy(new PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: [modelArn] }));
  fn.fn.addEnvironment('AI_MODEL_ID', props.modelId);
  fn.fn.addEnvironment('AI_REGION', region);
  return modelArn;
}
