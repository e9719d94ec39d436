import { Module, type OnApplicationShutdown, type Type } from '@nestjs/common';
import { AccessLog, AccessPolicyStore, BreakGlassGrants } from '@throughline/access';
import {
  ANALYSIS_READS,
  AnalysisQueryLog,
  DEFAULT_DISCLOSURE_RULES,
  GovernedAnalysis,
  type AnalysisReads,
  type DisclosureRules,
} from '@throughline/analysis';
import { IdentityLinker, IdentityReview } from '@throughline/identity';
import { FrameworkStore, OutcomeReads } from '@throughline/outcomes';
import { ReadinessChecks } from '@throughline/platform';
import { TimelineProjector, TimelineQueries } from '@throughline/timeline';
import { AnalysisController } from './analysis.controller';
import { AnalysisPageController } from './analysis-page.controller';
import { AuthController } from './auth.controller';
import { GovernanceController } from './governance.controller';
import { GovernanceFlowsController } from './governance-flows.controller';
import { GovernancePageController } from './governance-page.controller';
import { GovernanceReports } from './governance-reports';
import { IdentityController } from './identity.controller';
import { PageOidcClient } from './page-oidc-client';
import { PageSessions } from './page-session';
import { OutcomesController } from './outcomes.controller';
import { ProjectionController } from './projection.controller';
import { TimelinePageController } from './timeline-page.controller';
import { TimelineController } from './timeline.controller';

/**
 * The projection's HTTP face over a projector and queries built outside Nest. `onShutdown`
 * runs when the app closes (close() or a signal), so the subscription stops and the pools close.
 */
export function projectionHttpModule(
  parts: {
    readonly projector: TimelineProjector;
    readonly queries: TimelineQueries;
    readonly review: IdentityReview;
    readonly linker: IdentityLinker;
    readonly breakGlass: BreakGlassGrants;
    readonly policy: AccessPolicyStore;
    /** Flows per agreement and the access log, for information governance. */
    readonly reports: GovernanceReports;
    /** The page's sign-in: its OpenID client, its sessions, and the access log it records sign-ins in. */
    readonly pageClient: PageOidcClient;
    readonly pageSessions: PageSessions;
    readonly log: AccessLog;
    /** Outcomes, decisions and reviews due (decision 015), and the frameworks' versioned store. */
    readonly outcomes: OutcomeReads;
    readonly frameworks: FrameworkStore;
    /** The pseudonymised analysis model's measures (issue 15): exact results, disclosure control after. */
    readonly analysis?: AnalysisReads;
    /** The analysts' earlier answers (differencing rule); with `analysis`, the API at /v1/analysis answers. */
    readonly analysisQueryLog?: AnalysisQueryLog;
    /** ANALYSIS_SUPPRESSION_THRESHOLD, ANALYSIS_ROUNDING_BASE, ANALYSIS_MINIMUM_COHORT (disclosureRulesOf). */
    readonly disclosureRules?: DisclosureRules;
  },
  onShutdown: () => Promise<void>,
  readiness = new ReadinessChecks([]),
): Type<unknown> {
  const {
    projector,
    queries,
    review,
    linker,
    breakGlass,
    policy,
    reports,
    pageClient,
    pageSessions,
    log,
    outcomes,
    frameworks,
    analysis,
    analysisQueryLog,
    disclosureRules,
  } = parts;
  // Without the model (an instance that does not run it) the routes stay declared and answer 503.
  const governedAnalysis =
    analysis && analysisQueryLog
      ? new GovernedAnalysis(analysis, analysisQueryLog, disclosureRules ?? DEFAULT_DISCLOSURE_RULES)
      : undefined;
  @Module({
    controllers: [
      TimelineController,
      IdentityController,
      ProjectionController,
      GovernanceController,
      GovernanceFlowsController,
      TimelinePageController,
      GovernancePageController,
      AnalysisPageController,
      AuthController,
      OutcomesController,
      AnalysisController,
    ],
    providers: [
      { provide: TimelineProjector, useValue: projector },
      { provide: TimelineQueries, useValue: queries },
      { provide: IdentityReview, useValue: review },
      { provide: IdentityLinker, useValue: linker },
      { provide: BreakGlassGrants, useValue: breakGlass },
      { provide: AccessPolicyStore, useValue: policy },
      { provide: PageOidcClient, useValue: pageClient },
      { provide: PageSessions, useValue: pageSessions },
      { provide: AccessLog, useValue: log },
      { provide: GovernanceReports, useValue: reports },
      { provide: ReadinessChecks, useValue: readiness },
      { provide: OutcomeReads, useValue: outcomes },
      { provide: FrameworkStore, useValue: frameworks },
      ...(analysis ? [{ provide: ANALYSIS_READS, useValue: analysis }] : []),
      ...(governedAnalysis ? [{ provide: GovernedAnalysis, useValue: governedAnalysis }] : []),
    ],
  })
  class ProjectionHttpModule implements OnApplicationShutdown {
    async onApplicationShutdown(): Promise<void> {
      await onShutdown();
    }
  }
  return ProjectionHttpModule;
}
