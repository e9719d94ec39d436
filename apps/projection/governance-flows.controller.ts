import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { Access, CurrentRequester, noteAccess, type Requester } from '@throughline/access';
import { toContractIssues } from '@throughline/contracts';
import { openApiSchemaOf, ValidationError } from '@throughline/platform';
import { toCsv, wantsCsv, type CsvColumn } from './csv';
import { periodOf } from './governance.controller';
import {
  GovernanceReports,
  type AccessRecordRow,
  type AccessReport,
  type FlowReport,
  type FlowRow,
} from './governance-reports';

const CHILD_KEY = /^ch_[0-9a-f]{20}$/;
export const DEFAULT_ACCESS_LIMIT = 1000;
export const MAX_ACCESS_LIMIT = 10_000;

const format = z.enum(['json', 'csv'], { message: 'json or csv' }).optional();
const datetime = z.iso.datetime({ offset: true, message: 'an ISO 8601 date-time with offset' }).optional();

const FLOWS_QUERY = z.strictObject({ from: datetime, to: datetime, format });

const ACCESS_QUERY = z.strictObject({
  from: datetime,
  to: datetime,
  format,
  child: z
    .string()
    .regex(CHILD_KEY, {
      message:
        'a child key (ch_ and 20 hexadecimal characters, as in /v1/children/{childKey}); NHS numbers, UPNs ' +
        'and record ids are not accepted here: look the child up first',
    })
    .optional(),
  user: z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, {
      message: "a user id as in the access log (the token's subject): 1-200 printable characters, no spaces",
    })
    .optional(),
  limit: z.coerce
    .number({ message: 'a whole number' })
    .int({ message: 'a whole number' })
    .min(1)
    .max(MAX_ACCESS_LIMIT)
    .optional(),
});

/** The query parsed, or a 400 naming each field and rule (query.<field>). */
function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.output<T> {
  const parsed = schema.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  const issues = toContractIssues(parsed.error.issues).map((issue) => ({
    ...issue,
    path: issue.path ? `query.${issue.path}` : 'query',
  }));
  throw new ValidationError(issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues);
}

const rulesText = (rules: Readonly<Record<string, number>>): string =>
  Object.entries(rules)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([rule, count]) => `${rule}=${count}`)
    .join('; ');

const FLOW_COLUMNS: readonly CsvColumn<FlowRow>[] = [
  { header: 'day', cell: (row) => row.day },
  { header: 'agreement', cell: (row) => row.agreement ?? '(none)' },
  { header: 'agreement_title', cell: (row) => row.agreementTitle },
  { header: 'providing_agency', cell: (row) => row.providingAgency },
  { header: 'source_organisation', cell: (row) => row.sourceOrganisation },
  { header: 'publisher', cell: (row) => row.publisher },
  { header: 'event_type', cell: (row) => row.eventType },
  { header: 'accepted', cell: (row) => row.accepted },
  { header: 'rejected', cell: (row) => row.rejected },
  { header: 'rejected_by_rule', cell: (row) => rulesText(row.rejectedByRule) },
  { header: 'dead_lettered', cell: (row) => row.deadLettered },
  { header: 'redriven', cell: (row) => row.redriven },
];

const ACCESS_COLUMNS: readonly CsvColumn<AccessRecordRow>[] = [
  { header: 'accessed_at', cell: (row) => row.accessedAt },
  { header: 'user', cell: (row) => row.user },
  { header: 'user_name', cell: (row) => row.userName },
  { header: 'organisation', cell: (row) => row.organisation },
  { header: 'organisation_type', cell: (row) => row.organisationType },
  { header: 'granted_roles', cell: (row) => row.grantedRoles },
  { header: 'purpose', cell: (row) => row.purpose },
  { header: 'action', cell: (row) => row.action },
  { header: 'requested_child_key', cell: (row) => row.requestedChildKey },
  { header: 'child_key', cell: (row) => row.childKey },
  { header: 'child_keys', cell: (row) => row.childKeys.join(' ') },
  { header: 'returned', cell: (row) => row.returned },
  {
    header: 'withheld',
    cell: (row) => row.withheld.map((item) => `${item.count} × ${item.reason}`).join('; '),
  },
  { header: 'agreements', cell: (row) => row.agreements.join(' ') },
  {
    header: 'break_glass',
    cell: (row) => (row.breakGlass ? `${row.breakGlass.id}: ${row.breakGlass.reason}` : null),
  },
  { header: 'policy_version', cell: (row) => row.policyVersion },
  { header: 'outcome', cell: (row) => row.outcome },
  { header: 'refusal', cell: (row) => row.refusal },
  { header: 'extra', cell: (row) => (row.extra ? JSON.stringify(row.extra) : null) },
  { header: 'seq', cell: (row) => row.seq },
];

const flowRow = z.object({
  day: z.string(),
  agreement: z.string().nullable(),
  agreementTitle: z.string().nullable(),
  providingAgency: z.string(),
  sourceOrganisation: z.string().nullable(),
  publisher: z.string().nullable(),
  eventType: z.string(),
  accepted: z.number().int(),
  rejected: z.number().int(),
  rejectedByRule: z.record(z.string(), z.number().int()),
  deadLettered: z.number().int(),
  redriven: z.number().int(),
});
const counts = z.object({
  accepted: z.number().int(),
  rejected: z.number().int(),
  deadLettered: z.number().int(),
  redriven: z.number().int(),
});
const period = z.object({ from: z.string(), to: z.string() });
const flowReport = z.object({
  period,
  policyVersion: z.number().int(),
  timeBasis: z.object({
    accepted: z.string(),
    rejected: z.string(),
    deadLettered: z.string(),
    redriven: z.string(),
  }),
  flows: z.array(flowRow),
  totals: counts,
  notes: z.array(z.string()),
});
const accessRecord = z.object({
  seq: z.string(),
  accessedAt: z.string(),
  user: z.string(),
  userName: z.string().nullable(),
  organisation: z.string().nullable(),
  organisationType: z.string().nullable(),
  principalKind: z.string().nullable(),
  grantedRoles: z.string().nullable(),
  purpose: z.string(),
  action: z.string(),
  requestedChildKey: z.string().nullable(),
  childKey: z.string().nullable(),
  childKeys: z.array(z.string()),
  returned: z.number().int(),
  withheld: z.array(z.object({ count: z.number().int(), reason: z.string() })),
  agreements: z.array(z.string()),
  breakGlass: z.object({ id: z.string(), reason: z.string(), expiresAt: z.string() }).nullable(),
  policyVersion: z.number().int().nullable(),
  outcome: z.string(),
  refusal: z.string().nullable(),
  extra: z.record(z.string(), z.unknown()).nullable(),
});
const accessReport = z.object({
  period,
  filters: z.object({ child: z.string().nullable(), user: z.string().nullable() }),
  records: z.array(accessRecord),
  truncated: z.boolean(),
});

const periodQueries = [
  ApiQuery({
    name: 'from',
    required: false,
    description: 'start of the period (inclusive); default 30 days before `to`; at most 366 days before it',
    schema: { type: 'string', format: 'date-time' },
  }),
  ApiQuery({
    name: 'to',
    required: false,
    description: 'end of the period (exclusive); default now',
    schema: { type: 'string', format: 'date-time' },
  }),
  ApiQuery({
    name: 'format',
    required: false,
    description: 'csv for a CSV download (as does Accept: text/csv); default json',
    schema: { type: 'string', enum: ['json', 'csv'] },
  }),
];

function applyAll(decorators: readonly MethodDecorator[]): MethodDecorator {
  return (target, key, descriptor) => {
    for (const decorate of decorators) decorate(target, key, descriptor);
  };
}

/** Sends CSV as a download (no-store: the access report names child keys and staff). */
function csvReply(
  reply: FastifyReply,
  name: string,
  period: { from: string; to: string },
  body: string,
): string {
  const day = (iso: string) => iso.slice(0, 10);
  void reply.headers({
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="throughline-${name}-${day(period.from)}-to-${day(period.to)}.csv"`,
    'cache-control': 'no-store',
  });
  return body;
}

/**
 * For information-sharing teams: what flowed under each data-sharing agreement, and who read
 * what under which. Both as JSON or CSV, both need governance:read (purpose
 * information-governance), and each call is itself in the access log with its filters.
 */
@ApiTags('governance')
@Controller('v1/governance')
export class GovernanceFlowsController {
  constructor(private readonly reports: GovernanceReports) {}

  @Get('flows')
  @Access('governance:read', 'governance-flows')
  @ApiOperation({
    summary:
      'Events accepted, rejected at the gateway (by rule), dead-lettered and re-driven, per data-sharing ' +
      'agreement, providing agency, publisher, event type and day (UTC)',
    description:
      'Accepted events count by the time the event store recorded them (not when they occurred); rejections ' +
      "by the agency service's clock; dead letters when dead-lettered; re-drives when first re-driven. A flow " +
      'is listed once per agreement of the policy in force that shares it on that day, or once with agreement ' +
      'null when none does; totals count each event once.',
  })
  @applyAll(periodQueries)
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ schema: openApiSchemaOf(flowReport) })
  async flows(
    @CurrentRequester() requester: Requester,
    @Query() query: unknown,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FlowReport | string> {
    const { from, to, format: asked } = parseQuery(FLOWS_QUERY, query);
    const range = periodOf({ from, to });
    const csv = wantsCsv(asked, accept);
    const report = await this.reports.flows(range, requester.policy);
    noteAccess(requester, {
      returned: report.flows.length,
      extra: { from: report.period.from, to: report.period.to, format: csv ? 'csv' : 'json' },
    });
    return csv ? csvReply(reply, 'flows', report.period, toCsv(report.flows, FLOW_COLUMNS)) : report;
  }

  @Get('access')
  @Access('governance:read', 'governance-access')
  @ApiOperation({
    summary:
      'The access log: who read what, why, under which agreement, what was withheld, and the outcome; ' +
      'newest first',
    description:
      'Filter by child (a child key, never an NHS number or other identifier) and/or by user (the ' +
      "token's subject). At most `limit` records (default 1000, at most 10000); `truncated` says when " +
      'more matched. Refused requests are listed too.',
  })
  @applyAll(periodQueries)
  @ApiQuery({ name: 'child', required: false, schema: { type: 'string', pattern: CHILD_KEY.source } })
  @ApiQuery({ name: 'user', required: false, schema: { type: 'string', maxLength: 200 } })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_ACCESS_LIMIT, default: DEFAULT_ACCESS_LIMIT },
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ schema: openApiSchemaOf(accessReport) })
  async access(
    @CurrentRequester() requester: Requester,
    @Query() query: unknown,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AccessReport | string> {
    const { from, to, format: asked, child, user, limit } = parseQuery(ACCESS_QUERY, query);
    const range = periodOf({ from, to });
    const csv = wantsCsv(asked, accept);
    const report = await this.reports.access({ ...range, child, user, limit: limit ?? DEFAULT_ACCESS_LIMIT });
    noteAccess(requester, {
      // Reading a child's access history is an access about that child: it shows in the child's own history.
      ...(child ? { requestedChildKey: child, childKey: child } : {}),
      returned: report.records.length,
      extra: {
        from: report.period.from,
        to: report.period.to,
        ...(child ? { child } : {}),
        ...(user ? { user } : {}),
        limit: limit ?? DEFAULT_ACCESS_LIMIT,
        truncated: report.truncated,
        format: csv ? 'csv' : 'json',
      },
    });
    return csv ? csvReply(reply, 'access', report.period, toCsv(report.records, ACCESS_COLUMNS)) : report;
  }
}
