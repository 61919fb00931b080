import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { resourcesOfType, type SynthesizedStack, single, synthesizeStack } from './template-helpers';

const topicArn = 'arn:aws:sns:eu-west-1:123456789012:complaint-alarms';
let synthesized: SynthesizedStack;

beforeAll(() => {
  synthesized = synthesizeStack(
    {
      alarmTopicArn: topicArn,
      corsAllowOrigins: ['https://complaints.example.com'],
      apiThrottle: { rateLimit: 5, burstLimit: 10 },
    },
    { bundle: false },
  );
}, 60_000);

describe('stack options', () => {
  it('notifies the given SNS topic on alarm and on recovery', () => {
    const alarms = [...resourcesOfType(synthesized.template, 'AWS::CloudWatch::Alarm').values()];
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([topicArn]);
      expect(alarm.Properties.OKActions).toEqual([topicArn]);
    }
  });

  it('enables CORS for the given origins only, for POST', () => {
    const api = single(resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Api').values(), 'API');
    expect(api.Properties.CorsConfiguration).toMatchObject({
      AllowOrigins: ['https://complaints.example.com'],
      AllowMethods: ['POST'],
    });
  });

  it('applies the given throttle to the stage', () => {
    synthesized.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
    });
  });

  it('stays free of unacknowledged cdk-nag findings', () => {
    expect(new AwsSolutionsChecks().validateScope(synthesized.stack).violations).toEqual([]);
  });
});
