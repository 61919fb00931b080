import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqsJournal, type SqsJournal } from '../../infra/local/sqs-journal';

/**
 * The SQS journal in front of a real local-aws-sqs server, driven by the SDK (JSON protocol) and by
 * hand-written Query requests (the old AWS CLI's protocol): what it holds as pending after sends,
 * receives, deletes and purges, and what a second journal opened on the same file finds without the
 * first being closed (as after `kill -9`).
 */

const servers: Server[] = [];
const clients: SQSClient[] = [];
const journals: SqsJournal[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const j of journals.splice(0)) j.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function journaledServer(file: string) {
  const { service, requestHandler } = createRequestHandler({ port: 0, hostname: '127.0.0.1' });
  const journal = openSqsJournal({ file, log: () => undefined });
  journals.push(journal);
  const handle = journal.wrap(requestHandler);
  const server = createServer((req, res) => void handle(req, res));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  service.PORT = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${service.PORT}`;
  const sqs = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  clients.push(sqs);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'work' }));
  return { journal, sqs, endpoint, url: String(QueueUrl) };
}

async function query(endpoint: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  expect(response.status).toBe(200);
  return response.text();
}

describe('the SQS journal', () => {
  it('keeps what was sent and not deleted, over the JSON protocol', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sqs-journal-')), 'journal.jsonl');
    const { journal, sqs, url } = await journaledServer(file);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'one',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'first' } },
      }),
    );
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'two' },
          { Id: 'b', MessageBody: 'three' },
          { Id: 'c', MessageBody: 'four' },
        ],
      }),
    );
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }),
    );
    expect(Messages).toHaveLength(4);
    const byBody = new Map(Messages.map((m) => [m.Body, m]));
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: byBody.get('two')?.ReceiptHandle }),
    );
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [{ Id: 'x', ReceiptHandle: byBody.get('three')?.ReceiptHandle }],
      }),
    );

    const pending = journal.pending().sort((a, b) => a.body.localeCompare(b.body));
    expect(pending.map((m) => [m.body, m.queue, m.receives])).toEqual([
      ['four', 'work', 1],
      ['one', 'work', 1],
    ]);
    expect(pending.find((m) => m.body === 'one')?.attributes).toEqual({
      kind: { DataType: 'String', StringValue: 'first' },
    });
    expect(pending.find((m) => m.body === 'one')?.id).toBe(byBody.get('one')?.MessageId);

    // Opened again without closing the first (an abrupt stop): the same pending messages.
    const reopened = openSqsJournal({ file, log: () => undefined });
    journals.push(reopened);
    expect(
      reopened
        .pending()
        .map((m) => m.body)
        .sort(),
    ).toEqual(['four', 'one']);
    // Compacted on open: one line per pending message.
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('understands the Query protocol (AWS CLI v1): sends, batch sends, receives, deletes and purges', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sqs-journal-')), 'journal.jsonl');
    const { journal, endpoint, url } = await journaledServer(file);
    await query(endpoint, {
      Action: 'SendMessage',
      QueueUrl: url,
      MessageBody: 'q-one',
      'MessageAttribute.1.Name': 'kind',
      'MessageAttribute.1.Value.DataType': 'String',
      'MessageAttribute.1.Value.StringValue': 'query',
    });
    await query(endpoint, {
      Action: 'SendMessageBatch',
      QueueUrl: url,
      'SendMessageBatchRequestEntry.1.Id': 'a',
      'SendMessageBatchRequestEntry.1.MessageBody': 'q-two',
      'SendMessageBatchRequestEntry.2.Id': 'b',
      'SendMessageBatchRequestEntry.2.MessageBody': 'q-three',
    });
    expect(
      journal
        .pending()
        .map((m) => m.body)
        .sort(),
    ).toEqual(['q-one', 'q-three', 'q-two']);
    expect(journal.pending().find((m) => m.body === 'q-one')?.attributes).toEqual({
      kind: { DataType: 'String', StringValue: 'query' },
    });
    const xml = await query(endpoint, {
      Action: 'ReceiveMessage',
      QueueUrl: url,
      MaxNumberOfMessages: '1',
      VisibilityTimeout: '30',
    });
    const handle = /<ReceiptHandle>([^<]+)<\/ReceiptHandle>/.exec(xml)?.[1] as string;
    const body = /<Body>([^<]+)<\/Body>/.exec(xml)?.[1];
    await query(endpoint, { Action: 'DeleteMessage', QueueUrl: url, ReceiptHandle: handle });
    expect(journal.pending().map((m) => m.body)).not.toContain(body);
    expect(journal.pending()).toHaveLength(2);
    await query(endpoint, { Action: 'PurgeQueue', QueueUrl: url });
    expect(journal.pending()).toEqual([]);
  });
});
