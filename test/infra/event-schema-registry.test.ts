import { readFileSync } from 'node:fs';
import { CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ComplaintServiceStack } from '../../infra/complaint-service-stack';
import { registrySchemas } from '../../shared/events/registry-schema';
import { NO_BUNDLING, resourcesOfType, single, testApp } from './template-helpers';

/** The opt-in Schema Registry (`-c eventSchemaRegistry=true`): the documents of docs/events/registry. */

const stackWith = (context: Record<string, unknown>, id = 'Schemas') =>
  new ComplaintServiceStack(testApp({ ...NO_BUNDLING, ...context }), id);

describe('event schema registry (-c eventSchemaRegistry=true)', () => {
  it('is off by default', () => {
    const stack = stackWith({});
    expect(stack.eventSchemas).toBeUndefined();
    const types = stack.node
      .findAll()
      .filter((c): c is CfnResource => c instanceof CfnResource)
      .map((r) => r.cfnResourceType);
    expect(types.filter((t) => t.startsWith('AWS::EventSchemas::'))).toEqual([]);
  });

  it('publishes every registry document of docs/events/registry as an OpenAPI 3.0 schema', () => {
    const stack = stackWith({ eventSchemaRegistry: 'true' });
    const template = Template.fromStack(stack);
    const registryId = single(resourcesOfType(template, 'AWS::EventSchemas::Registry').keys(), 'registry');
    const resources = [...resourcesOfType(template, 'AWS::EventSchemas::Schema').values()];
    const expected = registrySchemas();
    expect(resources.map((r) => r.Properties.SchemaName).sort()).toEqual(expected.map((s) => s.name).sort());
    for (const schema of expected) {
      const resource = resources.find((r) => r.Properties.SchemaName === schema.name);
      expect(resource?.Properties).toMatchObject({
        Type: 'OpenApi3',
        RegistryName: { 'Fn::GetAtt': [registryId, 'RegistryName'] },
      });
      const committed = readFileSync(new URL(`../../docs/${schema.file}`, import.meta.url), 'utf8');
      expect(JSON.parse(resource?.Properties.Content as string), schema.name).toEqual(JSON.parse(committed));
    }
    expect(template.findOutputs('EventSchemaRegistryName').EventSchemaRegistryName?.Value).toEqual({
      'Fn::GetAtt': [registryId, 'RegistryName'],
    });
    // CloudFormation takes templates up to 1 MB (from S3); the schemas add about 210 KB.
    expect(JSON.stringify(template.toJSON()).length).toBeLessThan(1_000_000);
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  }, 60_000);

  it('takes eventSchemaRegistry as true or false only', () => {
    expect(stackWith({ eventSchemaRegistry: 'false' }).eventSchemas).toBeUndefined();
    expect(() => stackWith({ eventSchemaRegistry: 'yes' })).toThrow(/eventSchemaRegistry/);
  });
});
