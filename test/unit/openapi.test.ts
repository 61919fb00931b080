import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AGENT_ROUTES } from '../../infra/constructs/agent-api';
import { CUSTOMER_ROUTES } from '../../infra/constructs/customer-api';
import { COMPLAINTS_ROUTE } from '../../infra/constructs/intake-service';
import { PRIVACY_ROUTES } from '../../infra/constructs/privacy-service';
import { REPORTS_ROUTE } from '../../infra/constructs/reporting-service';
import { buildOpenApiDocument } from '../../shared/api/openapi';
import { API_ROUTES } from '../../shared/api/schemas';
import { AGENT_ACTIONS } from '../../shared/auth/authorization';

type Json = Record<string, any>;
const document = buildOpenApiDocument() as Json;
const operation = (method: string, path: string): Json | undefined => document.paths?.[path]?.[method];

describe('OpenAPI document', () => {
  it('matches the committed docs/openapi.json (run `npm run openapi` after changing the API)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(committed, 'docs/openapi.json is stale: run `npm run openapi`').toEqual(document);
  });

  it('documents every route the stack deploys, and nothing else', () => {
    const deployed = [
      COMPLAINTS_ROUTE,
      ...AGENT_ROUTES,
      ...CUSTOMER_ROUTES,
      REPORTS_ROUTE,
      ...PRIVACY_ROUTES,
    ].map((r) => `${String(r.method).toUpperCase()} ${r.path}`);
    const listed = API_ROUTES.map((r) => r.key);
    expect([...listed].sort()).toEqual([...deployed].sort());
    const documented = Object.entries(document.paths as Json).flatMap(([path, methods]) =>
      Object.keys(methods as Json).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual([...deployed].sort());
  });

  it('puts the JWT scheme on the agent routes only, with their error responses', () => {
    expect(document.components.securitySchemes.jwt).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    for (const route of API_ROUTES) {
      const op = operation(route.method, route.path);
      expect(op, route.key).toBeDefined();
      expect(op?.operationId).toBe(route.operationId);
      expect(op?.responses['503'], route.key).toBeDefined();
      if (route.auth === 'jwt') {
        expect(op?.security, route.key).toEqual([{ jwt: [] }]);
        for (const code of ['401', '403']) expect(op?.responses[code], `${route.key} ${code}`).toBeDefined();
      } else {
        expect(op?.security, route.key).toEqual([]);
      }
    }
    const action = operation('post', '/complaints/{id}/actions');
    for (const code of ['200', '400', '404', '409']) expect(action?.responses[code], code).toBeDefined();
  });

  it('describes one request body per action and the four 409 shapes', () => {
    const schemas = document.components.schemas as Json;
    const actions = (schemas.ActionRequest.oneOf as Json[]).map((s) => s.properties.action.const);
    expect(actions).toEqual([...AGENT_ACTIONS]);
    const conflicts = (schemas.ActionConflict.oneOf as Json[]).map((s) => s.$ref);
    expect(conflicts).toEqual([
      '#/components/schemas/IllegalTransitionError',
      '#/components/schemas/VersionConflictError',
      '#/components/schemas/ApprovalRequiredError',
      '#/components/schemas/CapReachedError',
    ]);
    expect(schemas.CapReachedError.required).toEqual(expect.arrayContaining(['cap', 'limit']));
    expect(schemas.IllegalTransitionError.required).toEqual(
      expect.arrayContaining(['error', 'status', 'allowedActions']),
    );
    expect(schemas.VersionConflictError.required).toEqual(expect.arrayContaining(['currentVersion']));
    expect(schemas.ValidationError.properties.errors.items.required).toEqual(['field', 'reason']);
    expect(schemas.ComplaintSubmission.required).toEqual(['channel', 'customer', 'description']);
  });

  it('has no dangling references', () => {
    const refs = JSON.stringify(document).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const name = ref.replace(/^"\$ref":"#\/components\/schemas\//, '').replace(/"$/, '');
      expect(document.components.schemas[name], ref).toBeDefined();
    }
  });

  it('keeps internal fields out of the customer view schema', () => {
    const keys = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node !== null && typeof node === 'object') {
        const properties = (node as Json).properties;
        if (properties !== undefined) for (const key of Object.keys(properties)) keys.add(key);
        Object.values(node).forEach(walk);
      }
    };
    walk(document.components.schemas.CustomerView);
    expect(keys.size).toBeGreaterThan(10);
    for (const internal of [
      'assignee',
      'note',
      'actor',
      'customer',
      'matchedKeywords',
      'severityRules',
      'clockLog',
      'escalationLevel',
      'rootCause',
      'id',
    ]) {
      expect(keys, internal).not.toContain(internal);
    }
  });
});
