import { describe, expect, it } from 'vitest';
import { capacityOf } from '../../infra/local/metering/dynamodb-capacity';

const answer = (units: number) => JSON.stringify({ ConsumedCapacity: { CapacityUnits: units } });

describe('read units of a request that finds nothing', () => {
  it('bills a Query, GetItem or Scan at least one unit, half of one when eventually consistent', () => {
    expect(capacityOf('Query', 200, answer(0), '{"ConsistentRead":true}').readUnits).toBe(1);
    expect(capacityOf('Query', 200, answer(0), '{}').readUnits).toBe(0.5);
    expect(capacityOf('GetItem', 200, answer(0), undefined).readUnits).toBe(0.5);
    expect(capacityOf('Scan', 200, answer(0), 'not json').readUnits).toBe(0.5);
  });

  it('keeps what the table reported above that, and adds nothing to writes', () => {
    expect(capacityOf('Query', 200, answer(3.5), '{"ConsistentRead":true}').readUnits).toBe(3.5);
    expect(capacityOf('PutItem', 200, answer(0), '{}')).toMatchObject({ readUnits: 0, writeUnits: 0 });
  });
});
