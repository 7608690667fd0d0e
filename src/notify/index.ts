/** The notification layer: config validation, notifiers, routing and the delivery pipeline. */
export * from './types.js';
export { validateNotifyConfig, notifySecrets, NOTIFY_DEFAULTS } from './config.js';
export type { NotifyConfig, ReceiverConfig, SlackReceiverConfig, EmailReceiverConfig, WebhookReceiverConfig, AlertmanagerReceiverConfig } from './config.js';
export { buildNotifiers, buildNotifier, closeNotifiers, type BuildNotifiersOptions } from './factory.js';
export { Dispatcher, DEFAULT_RETRY, DEFAULT_HISTORY_RETENTION_MS, parseAlert, type DispatcherOptions, type RetryPolicy } from './dispatcher.js';
export { notifySnapshotSchema, notifySnapshotEntrySchema, type NotifySnapshot, type NotifySnapshotEntry, type DeliverySnapshot, type NotifiedSnapshot } from './snapshot.js';
export { routeAlert, EMPTY_ROUTE, ROUTE_DEFAULTS, type RouteNode, type RouteTarget } from './route.js';
export { parseMatchers, matches, type Matcher, type MatchOp } from './matchers.js';
export { systemClock, ManualClock, type Clock, type TimerHandle } from '../util/clock.js';
export { testReceivers, formatTestReport, sampleAlert, type TestReceiverResult } from './testReceivers.js';
export { SlackNotifier, slackPayload } from './slack.js';
export { EmailNotifier, emailMessage } from './email.js';
export { WebhookNotifier, webhookPayload } from './webhook.js';
export { AlertmanagerNotifier, postableAlert } from './alertmanager.js';
export { redactUrl, NotifyError } from './redact.js';
