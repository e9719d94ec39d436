import { Body, Controller, Get, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  Access,
  ACCESS_POLICY,
  AccessPolicyStore,
  BreakGlassGrants,
  CurrentRequester,
  noteAccess,
  parseAccessPolicy,
  type AccessPolicy,
  type BreakGlassGrant,
  type PolicyVersionView,
  type Requester,
} from '@throughline/access';
import { openApiSchemaOf, ValidationError } from '@throughline/platform';
import { toContractIssues } from '@throughline/contracts';
import { breakGlassGrant } from './http-schemas';

const POLICY_CHANGE = z.strictObject({
  reason: z
    .string()
    .trim()
    .min(10, { message: 'say why the policy changes (at least 10 characters)' })
    .max(2000),
  policy: z.unknown(),
});

const PERIOD = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issues = toContractIssues(parsed.error.issues).map((issue) => ({
    ...issue,
    path: issue.path ? `${where}.${issue.path}` : where,
  }));
  throw new ValidationError(issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues);
}

/** A period from the query: [from, to), the last 30 days by default; at most a year. */
export function periodOf(query: unknown): { from: Date; to: Date } {
  const { from, to } = parse(PERIOD, query, 'query');
  const end = to ? new Date(to) : new Date();
  const start = from ? new Date(from) : new Date(end.getTime() - 30 * 86_400_000);
  if (start >= end)
    throw new ValidationError('query.from must be before query.to', [
      { path: 'query.from', rule: 'before-to', message: 'must be before to' },
    ]);
  if (end.getTime() - start.getTime() > 366 * 86_400_000)
    throw new ValidationError('query: a period of at most 366 days', [
      { path: 'query.from', rule: 'max-period', message: 'at most 366 days before to' },
    ]);
  return { from: start, to: end };
}

const versionView = z.object({
  version: z.number().int(),
  sha256: z.string(),
  loadedAt: z.string(),
  loadedBy: z.string(),
  organisation: z.string().optional(),
  reason: z.string(),
  title: z.string(),
  agreements: z.number().int(),
}) satisfies z.ZodType<PolicyVersionView>;

/**
 * For information governance: the access policy in force and its history, changing it (a new
 * version, in force on every instance within ACCESS_POLICY_REFRESH_MS), and the break-glass grants.
 * Each call is itself in the access log.
 */
@ApiTags('governance')
@Controller('v1/governance')
export class GovernanceController {
  constructor(
    private readonly policy: AccessPolicyStore,
    private readonly breakGlass: BreakGlassGrants,
  ) {}

  @Get('policy')
  @Access('policy:read', 'policy-read')
  @ApiOperation({
    summary: 'The access policy in force: purposes, roles, event categories, data-sharing agreements',
  })
  @ApiOkResponse({ schema: openApiSchemaOf(z.object({ version: z.number().int(), policy: ACCESS_POLICY })) })
  current(): { version: number; policy: AccessPolicy } {
    const { version, document } = this.policy.current();
    return { version, policy: document };
  }

  @Get('policy/versions')
  @Access('policy:read', 'policy-versions')
  @ApiOperation({ summary: 'Every version of the access policy: when, by whom, why' })
  @ApiOkResponse({ schema: openApiSchemaOf(z.object({ versions: z.array(versionView) })) })
  async versions(): Promise<{ versions: PolicyVersionView[] }> {
    return { versions: await this.policy.history() };
  }

  @Put('policy')
  @Access('policy:change', 'policy-change')
  @ApiOperation({
    summary:
      'Replace the access policy with a new version (checked first: an invalid policy changes nothing). ' +
      'Body: { reason, policy }',
  })
  @ApiBody({
    schema: openApiSchemaOf(z.object({ reason: z.string(), policy: ACCESS_POLICY }), { io: 'input' }),
  })
  @ApiOkResponse({ schema: openApiSchemaOf(versionView) })
  async change(@CurrentRequester() requester: Requester, @Body() body: unknown): Promise<PolicyVersionView> {
    const { reason, policy } = parse(POLICY_CHANGE, body, 'body');
    // Checked here too, so that a refusal names the field as sent (body.policy.…).
    const view = await this.policy.replace(parseAccessPolicy(policy, 'body.policy'), {
      userId: requester.principal.userId,
      organisation: requester.principal.organisation?.code,
      reason,
    });
    noteAccess(requester, { extra: { policyVersion: view.version, sha256: view.sha256, reason } });
    return view;
  }

  @Get('break-glass')
  @Access('governance:read', 'break-glass-review')
  @ApiOperation({ summary: 'Break-glass grants in a period (default the last 30 days), newest first' })
  @ApiQuery({ name: 'from', required: false, schema: { type: 'string', format: 'date-time' } })
  @ApiQuery({ name: 'to', required: false, schema: { type: 'string', format: 'date-time' } })
  @ApiOkResponse({ schema: openApiSchemaOf(z.object({ grants: z.array(breakGlassGrant) })) })
  async breakGlassGrants(
    @CurrentRequester() requester: Requester,
    @Query() query: unknown,
  ): Promise<{ grants: BreakGlassGrant[] }> {
    const { from, to } = periodOf(query);
    const grants = await this.breakGlass.list(from, to);
    noteAccess(requester, {
      returned: grants.length,
      childKeys: [...new Set(grants.map((grant) => grant.childKey))],
      extra: { from: from.toISOString(), to: to.toISOString() },
    });
    return { grants };
  }
}
