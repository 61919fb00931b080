import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type IntakeResult, trackingPath } from '../services/intake';
import { json } from './http';

/** 202 for an accepted (or honestly replayed) complaint: what `POST /complaints` and `POST /agent/complaints` answer. */
export function complaintAccepted(result: IntakeResult): APIGatewayProxyStructuredResultV2 {
  return json(202, {
    complaintId: result.complaintId,
    number: result.number,
    status: result.status,
    trackingToken: result.trackingToken,
    trackingPath: trackingPath(result.trackingToken),
    acknowledgement: result.acknowledgement,
    replayed: result.replayed,
  });
}
