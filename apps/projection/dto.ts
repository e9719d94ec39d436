import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { LINK_METHODS } from '@throughline/identity';

/** OpenAPI shapes only; requests are validated by the timeline context's zod parsers. */

export class ChildIdentifierDto {
  @ApiProperty({ enum: ['nhs-number', 'upn', 'record'] })
  type!: 'nhs-number' | 'upn' | 'record';

  @ApiProperty({
    description: 'NHS number (10 digits), UPN (13 characters) or the agency record id',
    example: '9434765919',
  })
  value!: string;

  @ApiPropertyOptional({
    enum: ['health', 'education', 'social-care'],
    description: 'required for type record',
  })
  agency?: 'health' | 'education' | 'social-care';
}

export class LookupRequestDto {
  @ApiProperty({ type: ChildIdentifierDto })
  identifier!: ChildIdentifierDto;
}

export class LookupResponseDto {
  @ApiProperty({ example: 'ch_3f2a9c0d1e4b5a6c7d8e' })
  childKey!: string;
}

export class OutcomeDomainDto {
  @ApiProperty({ example: 'ecm' }) framework!: string;
  @ApiProperty({ example: 'stay-safe' }) domain!: string;
  @ApiPropertyOptional({ example: 'Stay safe' }) label?: string;
}

export class IndicatorDto {
  @ApiProperty({ example: 'attendance' }) name!: string;
  @ApiProperty({ example: 91.2 }) value!: number;
  @ApiPropertyOptional({ example: '%' }) unit?: string;
  @ApiPropertyOptional({ example: { name: 'ten-point', min: 1, max: 10 } })
  scale?: { name: string; min: number; max: number };
}

export class LineageDto {
  @ApiProperty() eventId!: string;
  @ApiPropertyOptional() topic?: string;
  @ApiPropertyOptional() partition?: number;
  @ApiPropertyOptional() offset?: string;
  @ApiProperty() storePosition!: number;
  @ApiPropertyOptional() publisher?: string;
  @ApiProperty() sourceSystem!: string;
  @ApiPropertyOptional({
    description: 'The contract version the agency sent; the store keeps the event as sent.',
  })
  storedSchemaVersion?: number;
  @ApiPropertyOptional({
    description:
      'The contract version the entry was built from: the stored event upcast to the current version.',
  })
  schemaVersion?: number;
}

export class TimelineEntryDto {
  @ApiProperty() position!: number;
  @ApiProperty({ example: '2024-11-05T09:00:00+00:00' }) occurredAt!: string;
  @ApiProperty({ enum: ['health', 'education', 'social-care'] }) agency!: string;
  @ApiProperty({ example: 'social-care.referral.received' }) type!: string;
  @ApiProperty({ example: 'Referral received from Schools — primary need: Abuse or neglect' })
  summary!: string;
  @ApiProperty({ type: OutcomeDomainDto }) outcomeDomain!: OutcomeDomainDto;
  @ApiProperty({ enum: ['fact', 'observation'] }) kind!: 'fact' | 'observation';
  @ApiPropertyOptional({ type: IndicatorDto }) indicator?: IndicatorDto;
  @ApiPropertyOptional() narrative?: string;
  @ApiPropertyOptional({ enum: ['child', 'family', 'professional'] }) perspective?: string;
  @ApiPropertyOptional() observerRole?: string;
  @ApiPropertyOptional({ enum: ['low', 'medium', 'high'] }) confidence?: string;
  @ApiPropertyOptional() reviewDate?: string;
  @ApiProperty({ type: LineageDto }) lineage!: LineageDto;
}

export class SubjectIdentifierDto {
  @ApiProperty({ enum: ['nhs-number', 'upn', 'former-upn'] }) kind!: string;
  @ApiProperty() value!: string;
}

export class SubjectDto {
  @ApiProperty() streamId!: string;
  @ApiProperty() agency!: string;
  @ApiProperty() recordId!: string;
  @ApiProperty({ type: [SubjectIdentifierDto] }) identifiers!: SubjectIdentifierDto[];
  @ApiProperty({ enum: ['first-record', ...LINK_METHODS] }) linkedBy!: string;
  @ApiProperty() firstSeenPosition!: number;
  @ApiProperty() lastSeenPosition!: number;
}

export class ActorDto {
  @ApiProperty({ enum: ['linker', 'user'] }) type!: 'linker' | 'user';
  @ApiPropertyOptional() userId?: string;
  @ApiPropertyOptional() role?: string;
}

export class LinkDto {
  @ApiProperty({ description: 'the record the link was decided for' }) streamId!: string;
  @ApiProperty() linkedTo!: string;
  @ApiProperty({ enum: LINK_METHODS }) method!: string;
  @ApiProperty({ description: 'shared identifiers, the confirmed proposal and score, or the reason' })
  evidence!: Record<string, unknown>;
  @ApiProperty({ type: ActorDto }) by!: ActorDto;
  @ApiProperty() at!: string;
  @ApiProperty() linkedAtPosition!: number;
}

export class LinkHistoryEntryDto {
  @ApiProperty() position!: number;
  @ApiProperty({ example: 'identity.subject.unlinked' }) type!: string;
  @ApiProperty({ type: [String] }) subjects!: string[];
  @ApiProperty() at!: string;
  @ApiProperty({ type: ActorDto }) by!: ActorDto;
  @ApiPropertyOptional() method?: string;
  @ApiPropertyOptional() reason?: string;
  @ApiProperty() details!: Record<string, unknown>;
}

export class ChildTimelineDto {
  @ApiProperty() childKey!: string;
  @ApiProperty({ type: [String] }) mergedChildKeys!: string[];
  @ApiProperty({ type: [SubjectDto] }) subjects!: SubjectDto[];
  @ApiProperty({ type: [LinkDto] }) links!: LinkDto[];
  @ApiProperty({
    type: [LinkHistoryEntryDto],
    description: 'links, unlinks, proposals, decisions and conflicts',
  })
  linkHistory!: LinkHistoryEntryDto[];
  @ApiProperty({ type: [TimelineEntryDto] }) entries!: TimelineEntryDto[];
}

export class ProjectionStatusDto {
  @ApiProperty() projection!: string;
  @ApiProperty({ description: 'last store position in the read models' }) checkpoint!: number;
  @ApiProperty({ description: 'highest committed store position' }) head!: number;
  @ApiProperty({ description: 'head − checkpoint' }) lag!: number;
  @ApiProperty() running!: boolean;
  @ApiProperty({ description: 'stored events that were not valid contracts' }) skippedEvents!: number;
  @ApiPropertyOptional() lastError?: string;
}

export class ProjectionHealthDto {
  @ApiProperty({ enum: ['ok', 'unavailable'] }) status!: 'ok' | 'unavailable';
  @ApiProperty({ enum: ['running', 'stopped'] }) subscription!: 'running' | 'stopped';
  @ApiProperty({ enum: ['running', 'stopped'], description: 'the identity linker' }) linker!:
    'running' | 'stopped';
  @ApiProperty({ enum: ['reachable', 'unreachable'] }) database!: 'reachable' | 'unreachable';
}

export class FieldEvidenceDto {
  @ApiProperty({ example: 'date-of-birth' }) field!: string;
  @ApiProperty({ enum: ['agree', 'partial', 'disagree', 'missing'] }) outcome!: string;
  @ApiProperty({ description: 'bits: log2 of the likelihood ratio', example: 11.6 }) weight!: number;
  @ApiPropertyOptional() detail?: string;
}

export class ProposalDto {
  @ApiProperty({ format: 'uuid' }) proposalId!: string;
  @ApiProperty({ example: 'health-chs-1' }) subject!: string;
  @ApiProperty({ example: 'education-pupil-7' }) candidate!: string;
  @ApiProperty({ description: 'bits (sum of the field weights)' }) score!: number;
  @ApiProperty({ description: 'the score at which a pair is proposed' }) threshold!: number;
  @ApiProperty({ type: [FieldEvidenceDto] }) evidence!: FieldEvidenceDto[];
  @ApiProperty({ enum: ['open', 'confirmed', 'rejected', 'superseded'] }) status!: string;
  @ApiProperty() proposedAt!: string;
  @ApiPropertyOptional({ type: ActorDto }) decidedBy?: ActorDto;
  @ApiPropertyOptional() decidedAt?: string;
  @ApiPropertyOptional() reason?: string;
}

export class ProposalListDto {
  @ApiProperty({ type: [ProposalDto] }) proposals!: ProposalDto[];
}

export class ConflictDto {
  @ApiProperty({ format: 'uuid' }) conflictId!: string;
  @ApiProperty() subject!: string;
  @ApiProperty({ type: [String] }) others!: string[];
  @ApiProperty({
    enum: ['contradicting-identifiers', 'bridges-contradicting-records', 'bridges-separated-records'],
  })
  rule!: string;
  @ApiProperty({ description: 'identifiers shared, each with the record it is shared with' })
  shared!: Record<string, unknown>[];
  @ApiProperty({ description: 'what contradicts: kind, the two values, between which records' })
  conflicts!: Record<string, unknown>[];
  @ApiProperty() flaggedAt!: string;
}

export class ConflictListDto {
  @ApiProperty({ type: [ConflictDto] }) conflicts!: ConflictDto[];
}

export class ProposalDecisionDto {
  @ApiPropertyOptional({ description: 'why (free text, kept in the event)' }) reason?: string;
}

export class RejectionDto {
  @ApiProperty({ description: 'why the records are not the same child' }) reason!: string;
}

export class UnlinkRequestDto {
  @ApiProperty({ enum: ['health', 'education', 'social-care'] }) agency!: string;
  @ApiProperty({ example: 'chs-000123' }) recordId!: string;
  @ApiProperty() reason!: string;
}

export class LinkRequestDto extends UnlinkRequestDto {
  @ApiProperty({ example: 'ch_3f2a9c0d1e4b5a6c7d8e' }) childKey!: string;
}

export class IdentityCommandResultDto {
  @ApiProperty() streamId!: string;
  @ApiProperty({ format: 'uuid' }) eventId!: string;
  @ApiProperty() type!: string;
  @ApiProperty({
    description: 'store position of the event; the change is visible once the projection passes it',
  })
  position!: number;
}

export class LinkerStatusDto {
  @ApiProperty({ example: 'identity-linker' }) linker!: string;
  @ApiProperty({ description: 'last store position the linker has linked' }) checkpoint!: number;
  @ApiProperty({ description: 'highest committed store position' }) head!: number;
  @ApiProperty({ description: 'head − checkpoint' }) lag!: number;
  @ApiProperty() running!: boolean;
  @ApiProperty({ description: 'identity events appended since start' }) appendedEvents!: number;
  @ApiPropertyOptional() lastError?: string;
}
