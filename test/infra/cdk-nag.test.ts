import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { synthApp } from '../support/cdk.js';

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in either stack (each acknowledgement is justified where it is made)', () => {
    const { app } = synthApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // Findings fail synthesis with a report naming each rule and construct.
    let report = '';
    try {
      app.synth();
    } catch (error) {
      report = (error as Error).message;
    }
    expect(report).toBe('');
  });
});
