export { AgencyGatewayModule } from './agency-gateway.module';
export { acceptImportUploads, agencyPort, createAgencyApp, type RunningAgencyApp } from './agency-app';
export {
  MAX_BATCH_EVENTS,
  type AcceptedResult,
  type EventResult,
  type Publisher,
  headersOf,
  type PublishResponse,
  type RejectedResult,
} from './publication';
export {
  GatewayRejectionNotes,
  RejectionNoteQueue,
  maskedPath,
  rejectionNotesOf,
  type NoteSender,
  type RejectionNoteOptions,
} from './gateway-rejections';
