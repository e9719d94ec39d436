import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

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
  @ApiProperty({ enum: ['first-record', 'shared-nhs-number', 'shared-upn'] }) linkedBy!: string;
  @ApiProperty() firstSeenPosition!: number;
  @ApiProperty() lastSeenPosition!: number;
}

export class LinkDto {
  @ApiProperty() streamId!: string;
  @ApiProperty({ enum: ['first-record', 'shared-nhs-number', 'shared-upn'] }) method!: string;
  @ApiPropertyOptional() evidenceValue?: string;
  @ApiProperty() linkedAtPosition!: number;
  @ApiPropertyOptional({
    description: 'the child key this record had before its child was merged into this one',
  })
  mergedFrom?: string;
}

export class ChildTimelineDto {
  @ApiProperty() childKey!: string;
  @ApiProperty({ type: [String] }) mergedChildKeys!: string[];
  @ApiProperty({ type: [SubjectDto] }) subjects!: SubjectDto[];
  @ApiProperty({ type: [LinkDto] }) links!: LinkDto[];
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
  @ApiProperty({ enum: ['reachable', 'unreachable'] }) database!: 'reachable' | 'unreachable';
}
