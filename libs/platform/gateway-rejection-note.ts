import { z } from 'zod';
import { AGENCIES } from './kafka';

/**
 * The Kafka topic on which the agency services note each event they rejected, for the recorder
 * to keep (docs/decisions/012-gateway-rejections.md). Each agency principal may write it, only the
 * recorder may read it (infra/kafka.mjs accessBindings).
 */
export function gatewayRejectionsTopic(prefix = ''): string {
  return `${prefix}throughline.gateway-rejections.v1`;
}

/**
 * The recorder's consumer group for that topic: its own group plus a suffix, so that the events'
 * offsets and the notes' are never one group's (infra/kafka.mjs grants the recorder exactly this).
 */
export function gatewayRejectionsGroup(recorderGroupId: string): string {
  return `${recorderGroupId}.gateway-rejections`;
}

/** A rule name as the contracts give it (`required`, `not-authorised-for-publisher`, …). */
const RULE = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * One event an agency service rejected: who published it (the authenticated publisher), from
 * which source system and organisation, of which type, which rules failed at which field paths,
 * and when. Never the payload, never a value from it beyond those names: the gateway keeps a
 * field only when it cannot be an identifier (gateway-rejections.ts in libs/agency-gateway).
 */
export const GATEWAY_REJECTION_NOTE = z.strictObject({
  /** Unique per note: the recorder keeps a redelivered note once. */
  noteId: z.uuid(),
  agency: z.enum(AGENCIES),
  /** The publisher the agency service authenticated (its token's publisher id). */
  publisher: z.string().min(1).max(200),
  sourceSystem: z.string().min(1).max(100).nullable(),
  sourceOrganisation: z.string().min(1).max(20).nullable(),
  /** A type of the contracts, or `unknown` when the event named none of them. */
  eventType: z.string().min(1).max(100),
  schemaVersion: z.number().int().min(1).max(1000).nullable(),
  issues: z
    .array(z.strictObject({ path: z.string().max(300), rule: z.string().regex(RULE) }))
    .min(1)
    .max(50),
  rejectedAt: z.iso.datetime({ offset: true }),
});

export type GatewayRejectionNote = z.output<typeof GATEWAY_REJECTION_NOTE>;
