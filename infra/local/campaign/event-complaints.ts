/**
 * Finds the complaint an inbound `Complaint Reported` event became, so the drive can work it like an
 * HTTP one (agent actions, customer reply, survey). The producer gets no complaint id back from
 * PutEvents: the local runtime's bus tells when intake publishes `Complaint Received` for the
 * producer's system, the stored complaint's text carries the drive's marker, and the customer's
 * tracking token is derived as the service derives it (`trackingTokenOf`, the stack's KMS key).
 */

import { KMSClient } from '@aws-sdk/client-kms';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DETAIL_TYPES } from '../../../shared/events/names';
import { KmsServiceKeys } from '../../../shared/security/service-keys';
import { trackingTokenOf } from '../../../shared/services/idempotency';
import { complaintOfItem } from '../../../shared/storage/dynamodb-store';
import { LOCAL_CREDENTIALS } from '../dynamodb-local';
import type { LocalRuntime } from '../runtime';
import { MARKER_PATTERN, PRODUCER } from './drive';

export interface EventComplaints {
  /** The complaint and tracking token of the submission with `marker`, once intake has stored it. */
  lookUp(
    marker: string,
    timeoutMs?: number,
  ): Promise<{ complaintId: string; trackingToken: string } | undefined>;
  close(): void;
}

export function watchEventComplaints(
  runtime: Pick<LocalRuntime, 'onEvent' | 'endpoints'>,
  dynamodb: DynamoDBDocumentClient,
  tableName: string,
): EventComplaints {
  const keyArn = Object.entries(runtime.endpoints.kmsKeys).find(([id]) => id.includes('ServiceKey'))?.[1];
  if (keyArn === undefined)
    throw new Error('The stack has no service key (KMS): cannot derive tracking tokens');
  const kms = new KMSClient({
    endpoint: runtime.endpoints.kms,
    region: runtime.endpoints.region,
    credentials: LOCAL_CREDENTIALS,
  });
  const keys = new KmsServiceKeys(kms, keyArn);
  const found = new Map<string, string>();
  const waiting = new Map<string, () => void>();
  const unsubscribe = runtime.onEvent(({ event }) => {
    if (event['detail-type'] !== DETAIL_TYPES.complaintReceived) return;
    const data = (event.detail as { data?: { complaintId?: string; sourceSystem?: string } }).data;
    if (data?.sourceSystem !== PRODUCER || data.complaintId === undefined) return;
    const complaintId = data.complaintId;
    void dynamodb
      .send(new GetCommand({ TableName: tableName, Key: { pk: `C#${complaintId}`, sk: 'META' } }))
      .then(({ Item }) => {
        const record =
          Item === undefined
            ? undefined
            : (complaintOfItem(Item) as { submission?: { description?: unknown } });
        const marker = MARKER_PATTERN.exec(String(record?.submission?.description ?? ''))?.[1];
        if (marker === undefined) return;
        found.set(marker, complaintId);
        waiting.get(marker)?.();
      })
      .catch(() => undefined);
  });
  return {
    async lookUp(marker, timeoutMs = 90_000) {
      if (!found.has(marker)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          waiting.set(marker, () => {
            clearTimeout(timer);
            resolve();
          });
        });
        waiting.delete(marker);
      }
      const complaintId = found.get(marker);
      if (complaintId === undefined) return undefined;
      return { complaintId, trackingToken: (await trackingTokenOf(keys, complaintId)).token };
    },
    close() {
      unsubscribe();
      kms.destroy();
    },
  };
}
