/**
 * Why a notification failed, as a closed set: the reason is a label, and a free-form string (an error
 * message, a status code) would make its cardinality unbounded.
 */
export const NOTIFICATION_FAILURE_REASONS = ['server_error', 'client_error', 'rate_limited', 'connection', 'timeout', 'other'] as const;
export type NotificationFailureReason = (typeof NOTIFICATION_FAILURE_REASONS)[number];

const REASONS: ReadonlySet<string> = new Set(NOTIFICATION_FAILURE_REASONS);

export function isNotificationFailureReason(s: string): s is NotificationFailureReason {
  return REASONS.has(s);
}
