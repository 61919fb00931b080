import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import { Construct } from 'constructs';
import type { RegistrySchema } from '../../shared/events/registry-schema';

export interface EventSchemaRegistryProps {
  /** The documents to publish (`registrySchemas()`: one per event, version and source). */
  readonly schemas: readonly RegistrySchema[];
  /** Where the events are published, for the registry's description. */
  readonly busName: string;
}

/**
 * An EventBridge Schema Registry holding the service's event schemas (OpenAPI 3.0, the same documents
 * as `docs/events/registry/`), so consumers can browse them and download code bindings. Opt-in
 * (`-c eventSchemaRegistry=true`): the documents are also in the repository, and they add about
 * 210 KB to the template (of CloudFormation's 1 MB). The registry's name is generated (schema names are unique per registry).
 */
export class EventSchemaRegistry extends Construct {
  readonly registry: eventschemas.CfnRegistry;
  /** The schema resources by registry schema name. */
  readonly schemas: ReadonlyMap<string, eventschemas.CfnSchema>;

  constructor(scope: Construct, id: string, props: EventSchemaRegistryProps) {
    super(scope, id);
    this.registry = new eventschemas.CfnRegistry(this, 'Registry', {
      description: `Events of the complaint service on the bus ${props.busName} (generated from shared/events/schemas.ts)`,
    });
    const schemas = new Map<string, eventschemas.CfnSchema>();
    for (const schema of props.schemas) {
      if (schemas.has(schema.name)) throw new Error(`Event schema ${schema.name} is defined twice`);
      schemas.set(
        schema.name,
        new eventschemas.CfnSchema(this, schema.name.replaceAll(/[^A-Za-z0-9]/g, ''), {
          registryName: this.registry.attrRegistryName,
          schemaName: schema.name,
          type: 'OpenApi3',
          content: JSON.stringify(schema.document),
        }),
      );
    }
    this.schemas = schemas;
  }
}
