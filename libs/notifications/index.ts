/** The notifications context: CP-IS-style access notifications, from the read path's outbox to the responsible authority. */
export {
  ACCESS_NOTIFICATION_SCHEMA_VERSION,
  PROTECTION_KINDS,
  accessNotificationSchema,
  accessNotificationsGroupId,
  accessNotificationsTopic,
  type AccessNotification,
} from './notification';
export {
  accessNotificationOf,
  notifyIfNeeded,
  withinResponsibleAuthority,
  type ChronologyAccess,
  type NotifyOutcome,
} from './notify';
export {
  AccessNotificationRelay,
  type AccessNotificationRelayOptions,
  type AccessNotificationRelayStatus,
} from './relay';
export {
  AccessNotificationInbox,
  DEFAULT_LISTING,
  LISTING_ROLES,
  MAX_LISTING,
  listingAuthorityOf,
  listingPurposeOf,
  listingQueryOf,
  type KafkaPlace,
  type ListingQuery,
  type ListingReader,
  type NotificationListing,
  type ReceivedNotification,
} from './inbox';
export { migrateNotifications, notificationsMigrationsDirectory } from './schema';
export { ACCESS_NOTIFICATION_READS_CHAIN, verifyAccessNotificationReadsChain } from './audit-chain';
