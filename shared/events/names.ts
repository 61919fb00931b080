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
  /** SLA timers, the backstop sweep, escalations. */
  sla: 'complaints.sla',
  /** Actions of agents, supervisors and admins through the agent API. */
  agent: 'complaints.agent',
  /** The customer's replies and survey answers. */
  customer: 'complaints.customer',
  survey: 'complaints.survey',
  /** Report aggregates and the periodic reports. */
  reporting: 'complaints.reporting',
  /** Erasure of personal data (requests and the retention run). */
  privacy: 'complaints.privacy',
} as const;

/** Prefix of every source this service publishes; inbound rules exclude it. */
export const OWN_SOURCE_PREFIX = 'complaints.';

export const DETAIL_TYPES = {
  /** Inbound: another service reports a complaint. */
  complaintReported: 'Complaint Reported',
  /** Inbound: the CRM changed a customer's profile (feeds the customer directory). */
  customerProfileUpdated: 'Customer Profile Updated',
  complaintReceived: 'Complaint Received',
  complaintClassified: 'Complaint Classified',
  complaintRejected: 'Complaint Rejected',
  complaintAssigned: 'Complaint Assigned',
  customerNotificationRequested: 'Customer Notification Requested',
  slaWarning: 'Complaint SLA Warning',
  slaBreached: 'Complaint SLA Breached',
  escalated: 'Complaint Escalated',
  acknowledged: 'Complaint Acknowledged',
  responded: 'Complaint Responded',
  infoRequested: 'Complaint Info Requested',
  customerReplied: 'Complaint Customer Replied',
  solutionProposed: 'Complaint Solution Proposed',
  solutionApproved: 'Complaint Solution Approved',
  solutionRejected: 'Complaint Solution Rejected',
  resolved: 'Complaint Resolved',
  reassigned: 'Complaint Reassigned',
  collaboratorAdded: 'Complaint Collaborator Added',
  closed: 'Complaint Closed',
  reopened: 'Complaint Reopened',
  reclassified: 'Complaint Reclassified',
  surveyRequested: 'Survey Requested',
  surveyAnswered: 'Survey Answered',
  reportGenerated: 'Complaint Report Generated',
  customerDataErased: 'Customer Data Erased',
} as const;

export type DetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];

/**
 * Detail-types other services may put on the bus (with their own, non-`complaints.*` sources). Every
 * other detail-type is internal: the bus policy refuses it from anyone but the service's own roles.
 * `Customer Profile Updated` is the CRM's feed of the customer directory.
 */
export const INBOUND_DETAIL_TYPES: readonly string[] = [
  DETAIL_TYPES.complaintReported,
  DETAIL_TYPES.customerProfileUpdated,
];

/** The detail-types only this service publishes (every {@link DETAIL_TYPES} value that is not inbound). */
export const INTERNAL_DETAIL_TYPES: readonly string[] = Object.values(DETAIL_TYPES).filter(
  (type) => !INBOUND_DETAIL_TYPES.includes(type),
);
