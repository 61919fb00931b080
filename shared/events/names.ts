/**
 * Event sources and detail-types: the public contract of the bus.
 *
 * Imported by the CDK rules (infra) and by the publishers and consumers (functions),
 * so a rename cannot silently break a subscription.
 */
export const SOURCES = {
  intake: 'complaints.intake',
  classification: 'complaints.classification',
  assignment: 'complaints.assignment',
} as const;

/** Prefix of every source this service publishes; inbound rules exclude it. */
export const OWN_SOURCE_PREFIX = 'complaints.';

export const DETAIL_TYPES = {
  /** Inbound: another service reports a complaint. */
  complaintReported: 'Complaint Reported',
  complaintReceived: 'Complaint Received',
  complaintClassified: 'Complaint Classified',
  complaintRejected: 'Complaint Rejected',
  complaintAssigned: 'Complaint Assigned',
  customerNotificationRequested: 'Customer Notification Requested',
} as const;

export type DetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];
