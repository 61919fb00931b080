/**
 * A journal of the local SQS server's messages, so a restart of the runtime loses none.
 *
 * local-aws-sqs keeps its messages in private fields and has no snapshot API, so the journal sits in
 * front of its request handler and records what each *successful* answer acknowledges, before the
 * answer leaves:
 * - `SendMessage` / `SendMessageBatch`: the message (body, attributes, group and deduplication ids),
 *   under the id the server answered with;
 * - `ReceiveMessage`: which messages were received (receipt handle → message id; the receive count,
 *   and a message seen in another queue than the one it was sent to has been moved there by redrive);
 * - `DeleteMessage` / `DeleteMessageBatch` (by receipt handle) and `PurgeQueue`: gone.
 * Both protocols are understood: the SDK's JSON protocol and the older Query/XML one (AWS CLI v1).
 *
 * Each record is appended with a synchronous write before the server's answer is sent, so a message
 * the sender was told is queued is in the file even if the process is then killed (`kill -9`): an
 * abrupt stop loses no acknowledged send and no acknowledged delete; only an operating-system crash
 * could lose the last records (no fsync per record). What the journal cannot know is the visibility
 * state: at restart every pending message is visible again at once (in flight or not), with the
 * receive count it had, and a message that had used up its `maxReceiveCount` goes to its DLQ, as its
 * next visibility timeout would have sent it.
 *
 * The file (`<stateDir>/sqs/journal.jsonl`) is rewritten with only the pending messages at start and
 * whenever it has grown well past them.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { queueNameOfUrl } from './aws-request-actions';

/** A message attribute in the JSON protocol's shape (binary values base64). */
export interface JournalAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface JournaledMessage {
  id: string;
  /** The queue it is in now (name). */
  queue: string;
  body: string;
  attributes?: Record<string, JournalAttribute>;
  groupId?: string;
  deduplicationId?: string;
  /** Epoch ms of the send. */
  sentAt: number;
  delaySeconds?: number;
  /** Receives in its current queue. */
  receives: number;
}

type Record_ =
  | ({ op: 'send' } & JournaledMessage)
  | { op: 'recv'; id: string; queue: string }
  | { op: 'del'; id: string }
  | { op: 'purge'; queue: string };

export interface SqsJournal {
  /** The pending messages (sent, not deleted). */
  pending(): JournaledMessage[];
  /** Moves a pending message to another queue (a redrive decided at restore), resetting its count. */
  move(id: string, queue: string): void;
  /** Rewrites the file with the pending messages only. */
  compact(): void;
  /** Wraps local-aws-sqs's request handler (see the module comment). */
  wrap(
    handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  ): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** Records written since the start. */
  records(): number;
  close(): void;
}

/** Opens (or creates) the journal at `file` and replays it. */
export function openSqsJournal(options: { file: string; log: (message: string) => void }): SqsJournal {
  const { file, log } = options;
  mkdirSync(dirname(file), { recursive: true });
  const messages = new Map<string, JournaledMessage>();
  /** Receipt handle → message id (from ReceiveMessage answers). */
  const handles = new Map<string, string>();
  const handlesOf = new Map<string, string[]>();

  const apply = (record: Record_) => {
    switch (record.op) {
      case 'send': {
        const { op: _, ...message } = record;
        messages.set(message.id, { ...message, receives: message.receives ?? 0 });
        return;
      }
      case 'recv': {
        const message = messages.get(record.id);
        if (message === undefined) return;
        if (message.queue !== record.queue) {
          message.queue = record.queue;
          message.receives = 0;
        }
        message.receives += 1;
        return;
      }
      case 'del':
        forget(record.id);
        return;
      case 'purge':
        for (const message of [...messages.values()]) if (message.queue === record.queue) forget(message.id);
        return;
    }
  };
  const forget = (id: string) => {
    messages.delete(id);
    for (const handle of handlesOf.get(id) ?? []) handles.delete(handle);
    handlesOf.delete(id);
  };

  if (existsSync(file)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    let damaged = 0;
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        apply(JSON.parse(line) as Record_);
      } catch {
        // A line cut short by a crash mid-write: everything before it holds.
        damaged += 1;
      }
    }
    if (damaged > 0) log(`local runtime: SQS journal: ${damaged} damaged record(s) skipped in ${file}`);
  }

  let fd = -1;
  let written = 0;
  let sinceCompaction = 0;
  const compact = () => {
    if (fd >= 0) closeSync(fd);
    const temporary = `${file}.tmp`;
    const text = [...messages.values()].map((m) => `${JSON.stringify({ op: 'send', ...m })}\n`).join('');
    writeFileSync(temporary, text);
    renameSync(temporary, file);
    fd = openSync(file, 'a');
    sinceCompaction = 0;
  };
  compact();

  const write = (record: Record_) => {
    apply(record);
    writeSync(fd, `${JSON.stringify(record)}\n`);
    written += 1;
    sinceCompaction += 1;
    if (sinceCompaction > 20_000 && sinceCompaction > 4 * messages.size) compact();
  };

  const idOfHandle = (handle: unknown): string | undefined => {
    if (typeof handle !== 'string') return undefined;
    return handles.get(handle) ?? idInHandle(handle);
  };

  const observe = (action: string, request: Request, response: string | undefined, json: boolean) => {
    const queue = queueName(request.QueueUrl);
    if (queue === undefined) return;
    switch (action) {
      case 'SendMessage': {
        const id = json
          ? (parseJson(response)?.MessageId as string | undefined)
          : xmlField(response, 'MessageId');
        if (id !== undefined) write({ op: 'send', ...messageOf(id, queue, request) });
        return;
      }
      case 'SendMessageBatch': {
        const entries = batchEntries(request, 'SendMessageBatchRequestEntry');
        for (const { Id, MessageId } of succeeded(response, json, 'SendMessageBatchResultEntry')) {
          const entry = entries.find((e) => String(e.Id) === Id);
          if (entry !== undefined && MessageId !== undefined)
            write({ op: 'send', ...messageOf(MessageId, queue, entry) });
        }
        return;
      }
      case 'ReceiveMessage': {
        for (const { MessageId, ReceiptHandle } of received(response, json)) {
          if (MessageId === undefined) continue;
          if (ReceiptHandle !== undefined) {
            handles.set(ReceiptHandle, MessageId);
            handlesOf.set(MessageId, [...(handlesOf.get(MessageId) ?? []), ReceiptHandle]);
          }
          write({ op: 'recv', id: MessageId, queue });
        }
        return;
      }
      case 'DeleteMessage': {
        const id = idOfHandle(request.ReceiptHandle);
        if (id !== undefined) write({ op: 'del', id });
        return;
      }
      case 'DeleteMessageBatch': {
        const entries = batchEntries(request, 'DeleteMessageBatchRequestEntry');
        for (const { Id } of succeeded(response, json, 'DeleteMessageBatchResultEntry')) {
          const id = idOfHandle(entries.find((e) => String(e.Id) === Id)?.ReceiptHandle);
          if (id !== undefined) write({ op: 'del', id });
        }
        return;
      }
      case 'PurgeQueue':
        write({ op: 'purge', queue });
        return;
    }
  };

  return {
    pending: () => [...messages.values()].map((m) => ({ ...m })),
    move(id, queue) {
      const message = messages.get(id);
      if (message === undefined) return;
      message.queue = queue;
      message.receives = 0;
    },
    compact,
    records: () => written,
    close() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
    wrap: (handler) => async (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      res.end = ((...args: unknown[]) => {
        try {
          if (res.statusCode === 200 && fd >= 0) {
            const json = String(req.headers['content-type'] ?? '').includes('json');
            const text = Buffer.concat(chunks).toString('utf8');
            const request = json ? (parseJson(text) ?? {}) : nest(new URLSearchParams(text));
            const action = json
              ? String(req.headers['x-amz-target'] ?? '').split('.')[1]
              : (request.Action as string | undefined);
            const body =
              typeof args[0] === 'string'
                ? args[0]
                : Buffer.isBuffer(args[0])
                  ? args[0].toString()
                  : undefined;
            if (action !== undefined) observe(action, request, body, json);
          }
        } catch (error) {
          log(`local runtime: SQS journal: ${error instanceof Error ? error.message : String(error)}`);
        }
        return end(...args);
      }) as typeof res.end;
      await handler(req, res);
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: request bodies are untyped JSON or decoded query strings.
type Request = Record<string, any>;

function parseJson(text: string | undefined): Request | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

const queueName = (url: unknown) => (typeof url === 'string' ? queueNameOfUrl(url) : undefined);

/** `a.1.b=x` → `{ a: { 1: { b: 'x' } } }` (the Query protocol's flattened members). */
function nest(params: URLSearchParams): Request {
  const root: Request = {};
  for (const [key, value] of params) {
    const path = key.split('.');
    let node = root;
    path.forEach((segment, i) => {
      if (i === path.length - 1) node[segment] = value;
      else {
        node[segment] ??= {};
        node = node[segment];
      }
    });
  }
  return root;
}

/** The entries of a batch request, in either protocol (`Entries` array, or `XEntry.N.*`). */
function batchEntries(request: Request, queryName: string): Request[] {
  if (Array.isArray(request.Entries)) return request.Entries;
  const members = request[queryName];
  return members && typeof members === 'object' ? Object.values(members) : [];
}

/** Message attributes in the JSON shape, from a JSON request or a Query one (`MessageAttribute.N`). */
function attributesOf(request: Request): Record<string, JournalAttribute> | undefined {
  if (request.MessageAttributes && typeof request.MessageAttributes === 'object') {
    return request.MessageAttributes as Record<string, JournalAttribute>;
  }
  if (request.MessageAttribute && typeof request.MessageAttribute === 'object') {
    const out: Record<string, JournalAttribute> = {};
    for (const member of Object.values(request.MessageAttribute) as Request[]) {
      if (typeof member?.Name !== 'string' || member.Value === undefined) continue;
      out[member.Name] = {
        DataType: String(member.Value.DataType),
        ...(member.Value.StringValue !== undefined ? { StringValue: String(member.Value.StringValue) } : {}),
        ...(member.Value.BinaryValue !== undefined ? { BinaryValue: String(member.Value.BinaryValue) } : {}),
      };
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return undefined;
}

function messageOf(id: string, queue: string, request: Request): JournaledMessage {
  const attributes = attributesOf(request);
  const delay = request.DelaySeconds === undefined ? undefined : Number(request.DelaySeconds);
  return {
    id,
    queue,
    body: String(request.MessageBody ?? ''),
    ...(attributes ? { attributes } : {}),
    ...(request.MessageGroupId !== undefined ? { groupId: String(request.MessageGroupId) } : {}),
    ...(request.MessageDeduplicationId !== undefined
      ? { deduplicationId: String(request.MessageDeduplicationId) }
      : {}),
    sentAt: Date.now(),
    ...(delay !== undefined && Number.isFinite(delay) && delay > 0 ? { delaySeconds: delay } : {}),
    receives: 0,
  };
}

const xmlField = (xml: string | undefined, tag: string) =>
  xml === undefined ? undefined : new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1]?.trim();
const xmlBlocks = (xml: string | undefined, tag: string) =>
  xml === undefined
    ? []
    : [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1] ?? '');
const unescapeXml = (text: string | undefined) =>
  text
    ?.replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');

function succeeded(
  response: string | undefined,
  json: boolean,
  xmlTag: string,
): { Id: string; MessageId?: string }[] {
  if (json)
    return (parseJson(response)?.Successful as { Id: string; MessageId?: string }[] | undefined) ?? [];
  return xmlBlocks(response, xmlTag).map((block) => {
    const messageId = xmlField(block, 'MessageId');
    return {
      Id: String(xmlField(block, 'Id')),
      ...(messageId !== undefined ? { MessageId: messageId } : {}),
    };
  });
}

function received(
  response: string | undefined,
  json: boolean,
): { MessageId?: string; ReceiptHandle?: string }[] {
  if (json) return (parseJson(response)?.Messages as { MessageId?: string; ReceiptHandle?: string }[]) ?? [];
  return xmlBlocks(response, 'Message').map((block) => {
    const id = xmlField(block, 'MessageId');
    const handle = unescapeXml(xmlField(block, 'ReceiptHandle'));
    return {
      ...(id !== undefined ? { MessageId: id } : {}),
      ...(handle !== undefined ? { ReceiptHandle: handle } : {}),
    };
  });
}

/**
 * The message id local-aws-sqs puts in its receipt handles (base64 of a random prefix and
 * `{"date","MessageId","QueueName"}`): the fallback when a handle was received before this journal
 * saw it (a receive answered just before a restart).
 */
function idInHandle(handle: string): string | undefined {
  try {
    const text = Buffer.from(handle, 'base64').toString('utf8');
    const parsed = JSON.parse(text.slice(text.indexOf('{'))) as { MessageId?: unknown };
    return typeof parsed.MessageId === 'string' ? parsed.MessageId : undefined;
  } catch {
    return undefined;
  }
}
