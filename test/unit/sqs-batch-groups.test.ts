import type { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { sqsGroupedBatchHandler } from '../../shared/handlers/sqs-batch';
import { PoisonMessageError } from '../../shared/services/context';
import { lambdaContext, sqsRecord } from '../support/lambda';

/** Records whose body is their group key (`!` for one whose key cannot be read). */
const batch = (...records: Array<[string, string]>): SQSEvent => ({
  Records: records.map(([id, key]) => sqsRecord(key, id)),
});

/** Collects what would go to the DLQ. */
function fakeSqs() {
  const sent: string[] = [];
  const sqs = {
    send: async (command: SendMessageCommand) => {
      sent.push(String(command.input.MessageAttributes?.OriginalMessageId?.StringValue));
      return {};
    },
  } as unknown as SQSClient;
  return { sqs, sent };
}

const keyOf = (r: SQSRecord) => {
  if (r.body === '!') throw new PoisonMessageError('no key');
  if (r.body === '?') throw new Error('could not read the key just now');
  return r.body;
};

describe('a batch handled in groups of records with the same key', () => {
  it('hands each group over once, in order, and takes each record’s own outcome', async () => {
    const { sqs, sent } = fakeSqs();
    const calls: string[][] = [];
    const handler = sqsGroupedBatchHandler(
      keyOf,
      async (records) => {
        calls.push(records.map((r) => r.messageId));
        return records.map((r) => (r.messageId === 'a2' ? new PoisonMessageError('implausible') : undefined));
      },
      { sqs, deadLetterQueueUrl: 'https://dlq', processInParallel: false },
    );
    const response = await handler(
      batch(['a1', 'A'], ['b1', 'B'], ['a2', 'A'], ['a3', 'A'], ['x', '!']),
      lambdaContext('groups'),
    );
    expect(calls).toEqual([['a1', 'a2', 'a3'], ['b1']]);
    expect(response.batchItemFailures).toEqual([]);
    expect(sent.sort()).toEqual(['a2', 'x']);
  });

  it('fails every record of a group whose handling failed, and only those', async () => {
    const { sqs, sent } = fakeSqs();
    const handler = sqsGroupedBatchHandler(
      keyOf,
      async (records) => {
        if (records[0]?.body === 'A') throw new Error('conflict after every attempt');
        return records.map(() => undefined);
      },
      { sqs, deadLetterQueueUrl: 'https://dlq', processInParallel: false },
    );
    const response = await handler(
      batch(['a1', 'A'], ['b1', 'B'], ['a2', 'A'], ['q', '?']),
      lambdaContext('groups'),
    );
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['a1', 'a2', 'q']);
    expect(sent).toEqual([]);
  });
});
