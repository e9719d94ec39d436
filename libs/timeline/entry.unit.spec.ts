import { randomUUID } from 'node:crypto';
import {
  buildAttendanceSummarised,
  buildChildProtectionPlanStarted,
  buildEvent,
  buildHealthVisitorReviewCompleted,
  buildOutcomeObservationRecorded,
} from '@throughline/testing';
import { upcast } from '@throughline/contracts';
import { timelineEntryOf } from './entry';

const recorderLineage = {
  topic: 'education.events.v1',
  partition: 2,
  offset: '41',
  publisher: 'demo-school-mis',
  key: 'p-1',
};

describe('timelineEntryOf', () => {
  it('puts the attendance indicator beside the fact, with its lineage and both contract versions', () => {
    const event = buildAttendanceSummarised({
      data: { sessionsPossible: 114, authorisedAbsence: 6, unauthorisedAbsence: 4 },
    });
    expect(event.schemaVersion).toBe(1);
    const entry = timelineEntryOf(
      upcast(event),
      { position: 12n, streamId: 'education-p-1', metadata: recorderLineage },
      event.schemaVersion,
    );
    expect(entry.details).toEqual({
      kind: 'fact',
      indicators: [
        {
          name: 'attendance',
          label: 'Attendance',
          value: 91.2,
          unit: '%',
          thresholds: [{ value: 90, label: 'persistent absence at or below' }],
          period: { academicYear: event.data.academicYear, term: event.data.term },
          higherIsBetter: true,
        },
      ],
    });
    expect(entry.lineage).toEqual({
      eventId: event.eventId,
      topic: 'education.events.v1',
      partition: 2,
      offset: '41',
      storePosition: 12,
      publisher: 'demo-school-mis',
      sourceSystem: event.source.system,
      storedSchemaVersion: 1,
      schemaVersion: 2,
    });
    expect(entry.outcomeDomain).toEqual({ framework: 'ecm', domain: 'enjoy-and-achieve' });
  });

  it('keeps an observation as an observation: rating beside narrative, perspective and confidence', () => {
    const event = buildOutcomeObservationRecorded({
      data: {
        perspective: 'child',
        observerRole: 'the child',
        narrative: 'Synthetic: I like my new class.',
        rating: { scale: 'ten-point', value: 8, min: 1, max: 10 },
        confidence: 'high',
      },
    });
    const entry = timelineEntryOf(event, { position: 3n, streamId: 'health-x', metadata: {} });
    expect(entry.details).toEqual({
      kind: 'observation',
      indicators: [{ name: 'ten-point', value: 8, scale: { name: 'ten-point', min: 1, max: 10 } }],
      narrative: 'Synthetic: I like my new class.',
      perspective: 'child',
      observerRole: 'the child',
      recordedBy: { role: 'the child' },
      confidence: 'high',
      observedOn: event.data.observedOn,
      declaredOutcomeDomains: [{ framework: 'ecm', domain: 'be-healthy' }],
    });
    expect(entry.lineage).toEqual({
      eventId: event.eventId,
      storePosition: 3,
      sourceSystem: event.source.system,
      storedSchemaVersion: 1,
      schemaVersion: 1,
    });
  });

  it('carries a decision with its rationale and review date', () => {
    const event = buildChildProtectionPlanStarted({
      data: { rationale: 'Synthetic rationale.', reviewDate: '2030-01-01' },
    });
    const entry = timelineEntryOf(event, { position: 1n, streamId: 'social-care-c', metadata: {} });
    expect(entry.details).toEqual({
      kind: 'fact',
      narrative: 'Synthetic rationale.',
      reviewDate: '2030-01-01',
    });
  });
});

const at = (position: bigint, streamId = 'social-care-c') => ({ position, streamId, metadata: {} });

describe('the entry keeps everything (decision 015)', () => {
  it('keeps a decision whole: uncertainty, options with why not, forum, team, expected outcomes (regression: issue 13)', () => {
    const event = buildEvent('practice.decision.recorded', {
      data: {
        decidedOn: '2025-01-10',
        decision: 'Offer a family group conference.',
        rationale: 'Synthetic: the wider family has offered support.',
        optionsConsidered: [
          { option: 'Child protection conference', whyNot: 'Threshold not met on current evidence.' },
          { option: 'No further action' },
        ],
        uncertainty: 'Synthetic: whether the father will take part.',
        confidence: 'low',
        decidedBy: { role: 'team manager', agency: 'social-care' },
        forum: 'supervision',
        reviewDate: '2025-03-10',
        team: 'Assessment team 2',
        expectedOutcomes: [
          { framework: 'ecm', domain: 'stay-safe', lookFor: 'Synthetic: a safety plan agreed.' },
        ],
      },
    });
    expect(timelineEntryOf(event, at(5n)).details).toEqual({
      kind: 'fact',
      narrative: 'Synthetic: the wider family has offered support.',
      perspective: 'professional',
      observerRole: 'team manager',
      observerAgency: 'social-care',
      recordedBy: { role: 'team manager', agency: 'social-care', team: 'Assessment team 2' },
      confidence: 'low',
      reviewDate: '2025-03-10',
      decision: {
        decidedOn: '2025-01-10',
        decision: 'Offer a family group conference.',
        options: [
          { option: 'Child protection conference', whyNot: 'Threshold not met on current evidence.' },
          { option: 'No further action' },
        ],
        uncertainty: 'Synthetic: whether the father will take part.',
        forum: 'supervision',
        team: 'Assessment team 2',
        expectedOutcomes: [
          { framework: 'ecm', domain: 'stay-safe', lookFor: 'Synthetic: a safety plan agreed.' },
        ],
        reviewDate: '2025-03-10',
      },
    });
  });

  it("keeps the child's words alone as the narrative, the interpretation, context and consent apart (regression: issue 13)", () => {
    const event = buildEvent('practice.voice-of-child.recorded', {
      data: {
        capturedOn: '2025-02-01',
        whatTheChildSaid: 'Synthetic: "I want to stay with Nan."',
        verbatim: true,
        capturedHow: 'own-words',
        capturedBy: { role: 'social worker', agency: 'social-care' },
        context: 'home visit',
        interpretation: 'Synthetic: said calmly, without prompting.',
        childAgreedToShare: false,
      },
    });
    const details = timelineEntryOf(event, at(6n)).details;
    expect(details.narrative).toBe('Synthetic: "I want to stay with Nan."');
    expect(details).toMatchObject({
      kind: 'observation',
      perspective: 'child',
      observerRole: 'social worker',
      observerAgency: 'social-care',
      recordedBy: { role: 'social worker', agency: 'social-care' },
      observedOn: '2025-02-01',
      voice: {
        verbatim: true,
        capturedHow: 'own-words',
        context: 'home visit',
        interpretation: 'Synthetic: said calmly, without prompting.',
        childAgreedToShare: false,
      },
    });
  });

  it("keeps an observer's agency, so one role in two agencies is two viewpoints (regression: issue 13)", () => {
    const event = buildOutcomeObservationRecorded({
      data: { perspective: 'professional', observerRole: 'social worker', observerAgency: 'youth-justice' },
    });
    expect(timelineEntryOf(event, at(7n)).details).toMatchObject({
      observerRole: 'social worker',
      observerAgency: 'youth-justice',
      recordedBy: { role: 'social worker', agency: 'youth-justice' },
    });
  });

  it('keeps correlation and causation ids, so a decision can be followed to what it caused (regression: issue 13)', () => {
    const correlationId = randomUUID();
    const causationId = randomUUID();
    const event = buildEvent('practice.decision.reviewed', { correlationId, causationId });
    expect(timelineEntryOf(event, at(8n)).details).toMatchObject({ correlationId, causationId });
  });

  it('keeps a review whole, its next review date as the entry review date', () => {
    const event = buildEvent('practice.decision.reviewed', {
      data: {
        outcome: 'revised',
        revisedDecision: 'Step down to a child in need plan.',
        reviewedOn: '2025-03-10',
        nextReviewDate: '2025-06-10',
      },
    });
    const details = timelineEntryOf(event, at(9n)).details;
    expect(details).toMatchObject({
      kind: 'fact',
      narrative: event.data.whatHappened,
      perspective: 'professional',
      observerRole: 'team manager',
      observerAgency: 'social-care',
      recordedBy: { role: 'team manager', agency: 'social-care', team: 'Assessment team 2' },
      confidence: 'medium',
      reviewDate: '2025-06-10',
    });
    expect(details.review).toEqual({
      decisionId: event.data.decisionId,
      reviewedOn: '2025-03-10',
      whatHappened: event.data.whatHappened,
      againstExpected: event.data.againstExpected,
      outcome: 'revised',
      revisedDecision: 'Step down to a child in need plan.',
      nextReviewDate: '2025-06-10',
      forum: 'supervision',
    });
  });

  it('keeps views that differ, with the entries they are about and their domain declared', () => {
    const event = buildEvent('practice.views.differ');
    const entry = timelineEntryOf(event, at(10n));
    expect(entry.details).toMatchObject({
      kind: 'observation',
      narrative: event.data.narrative,
      recordedBy: event.data.recordedBy,
      observedOn: event.data.recordedOn,
      viewsDiffer: {
        about: event.data.about,
        framework: 'ecm',
        domain: 'stay-safe',
        views: event.data.views,
      },
      declaredOutcomeDomains: [{ framework: 'ecm', domain: 'stay-safe' }],
    });
    expect(entry.outcomeDomain).toEqual({ framework: 'ecm', domain: 'stay-safe' });
  });

  it('takes the envelope recordedBy and outcomeDomains; a fact someone recorded is a professional account', () => {
    const event = buildAttendanceSummarised({
      recordedBy: { role: 'attendance officer', agency: 'education', team: 'Inclusion' },
      outcomeDomains: [
        { framework: 'ecm', domain: 'stay-safe' },
        { framework: 'local-partnership', domain: 'learning' },
      ],
      data: { narrative: 'Synthetic: absences follow weekend contact.' },
    });
    const entry = timelineEntryOf(upcast(event), at(11n, 'education-p'));
    expect(entry.details).toMatchObject({
      narrative: 'Synthetic: absences follow weekend contact.',
      perspective: 'professional',
      observerRole: 'attendance officer',
      observerAgency: 'education',
      recordedBy: { role: 'attendance officer', agency: 'education', team: 'Inclusion' },
      declaredOutcomeDomains: [
        { framework: 'ecm', domain: 'stay-safe' },
        { framework: 'local-partnership', domain: 'learning' },
      ],
    });
    // The practitioner's ECM domain overrides the type's (enjoy and achieve).
    expect(entry.outcomeDomain).toEqual({ framework: 'ecm', domain: 'stay-safe' });
  });

  it('gives the five ASQ-3 domain scores as indicators on the 0-60 scale, by a health visitor', () => {
    const event = buildHealthVisitorReviewCompleted({
      data: {
        asq3: { communication: 30, grossMotor: 55, fineMotor: 40, problemSolving: 45, personalSocial: 60 },
        notes: 'Synthetic: speech behind; parents reading daily.',
      },
    });
    const details = timelineEntryOf(event, at(12n, 'health-h')).details;
    const scale = { name: 'asq-3', min: 0, max: 60 };
    expect(details.indicators).toEqual([
      { name: 'asq3-communication', label: 'ASQ-3 communication', value: 30, scale, higherIsBetter: true },
      { name: 'asq3-gross-motor', label: 'ASQ-3 gross motor', value: 55, scale, higherIsBetter: true },
      { name: 'asq3-fine-motor', label: 'ASQ-3 fine motor', value: 40, scale, higherIsBetter: true },
      {
        name: 'asq3-problem-solving',
        label: 'ASQ-3 problem solving',
        value: 45,
        scale,
        higherIsBetter: true,
      },
      {
        name: 'asq3-personal-social',
        label: 'ASQ-3 personal-social',
        value: 60,
        scale,
        higherIsBetter: true,
      },
    ]);
    expect(details).toMatchObject({
      narrative: 'Synthetic: speech behind; parents reading daily.',
      perspective: 'professional',
      observerRole: 'health visitor',
      observerAgency: 'health',
      recordedBy: { role: 'health visitor', agency: 'health' },
    });
    const without = buildHealthVisitorReviewCompleted({ data: { review: '1-year', asq3: undefined } });
    expect(timelineEntryOf(without, at(13n, 'health-h')).details.indicators).toBeUndefined();
  });

  it('gives KS2 scaled scores as indicators on 80-120 with the expected standard, for the academic year', () => {
    const event = buildEvent('education.key-stage.assessed', {
      data: {
        academicYear: '2023/24',
        keyStage: 'KS2',
        ks2: { readingScaledScore: 104, mathsScaledScore: 97, writing: 'EXS' },
        ks4: undefined,
      },
    });
    const indicators = timelineEntryOf(event, at(14n, 'education-p')).details.indicators;
    const common = {
      scale: { name: 'ks2-scaled-score', min: 80, max: 120 },
      thresholds: [{ value: 100, label: 'expected standard' }],
      period: { academicYear: '2023/24' },
      higherIsBetter: true,
    };
    expect(indicators).toEqual([
      { name: 'ks2-reading', label: 'KS2 reading scaled score', value: 104, ...common },
      { name: 'ks2-maths', label: 'KS2 maths scaled score', value: 97, ...common },
    ]);
  });

  it('gives Attainment 8 on 0-90 and GCSE grades as numbers (U is 0, X is no indicator)', () => {
    const event = buildEvent('education.key-stage.assessed', {
      data: {
        academicYear: '2024/25',
        keyStage: 'KS4',
        ks2: undefined,
        ks4: { attainment8: 41.5, englishGrade: 'U', mathsGrade: 'X' },
      },
    });
    const indicators = timelineEntryOf(event, at(15n, 'education-p')).details.indicators;
    expect(indicators).toEqual([
      {
        name: 'attainment-8',
        label: 'Attainment 8',
        value: 41.5,
        scale: { name: 'attainment-8', min: 0, max: 90 },
        period: { academicYear: '2024/25' },
        higherIsBetter: true,
      },
      {
        name: 'gcse-english',
        label: 'GCSE English grade',
        value: 0,
        scale: { name: 'gcse-grade', min: 0, max: 9 },
        thresholds: [
          { value: 4, label: 'standard pass' },
          { value: 5, label: 'strong pass' },
        ],
        period: { academicYear: '2024/25' },
        higherIsBetter: true,
      },
    ]);
  });

  it('gives no attendance indicator when no sessions were possible', () => {
    const event = buildAttendanceSummarised({
      data: { sessionsPossible: 0, sessionsAttended: 0, authorisedAbsence: 0, unauthorisedAbsence: 0 },
    });
    expect(timelineEntryOf(upcast(event), at(16n, 'education-p')).details.indicators).toBeUndefined();
  });

  it('keeps the special categories beside the entry', () => {
    const event = buildEvent('health.camhs.referred');
    expect(timelineEntryOf(event, at(17n, 'health-m')).specialCategories).toEqual(['mental-health']);
  });
});

describe('timelineEntryOf an imported event', () => {
  it('keeps its provenance, names the fields the return did not hold, and which identifiers were held back and why', () => {
    const started = buildChildProtectionPlanStarted();
    const { rationale: _rationale, ...withoutRationale } = started.data as typeof started.data & {
      rationale?: string;
    };
    const event = {
      ...started,
      subject: {
        ...started.subject,
        upn: undefined,
        quarantinedIdentifiers: [
          {
            field: 'upn' as const,
            value: 'A123456789012',
            rule: 'upn-check-letter',
            message: 'UPN fails its check letter',
          },
        ],
      },
      provenance: {
        kind: 'statutory-return' as const,
        format: 'cin-census' as const,
        collectionYear: '2024-25',
        fileSha256: 'c'.repeat(64),
        location: 'Message/Children/Child[4]/CINdetails[1]/ChildProtectionPlans[1]',
      },
      data: withoutRationale,
    };
    const entry = timelineEntryOf(upcast(event as typeof started), {
      position: 3n,
      streamId: 'social-care-x',
      metadata: {},
    });
    expect(entry.details.imported).toEqual({
      kind: 'statutory-return',
      format: 'cin-census',
      collectionYear: '2024-25',
      fileSha256: 'c'.repeat(64),
      location: 'Message/Children/Child[4]/CINdetails[1]/ChildProtectionPlans[1]',
    });
    expect(entry.details.notInReturn).toContain('rationale');
    // The value stays in the store; the entry says which identifier and which rule, not the value.
    expect(entry.details.quarantinedIdentifiers).toEqual([{ field: 'upn', rule: 'upn-check-letter' }]);
    expect(JSON.stringify(entry.details)).not.toContain('A123456789012');
  });

  it('says nothing of imports for an event recorded as it happened', () => {
    const entry = timelineEntryOf(upcast(buildChildProtectionPlanStarted()), {
      position: 4n,
      streamId: 's',
      metadata: {},
    });
    expect(entry.details).not.toHaveProperty('imported');
    expect(entry.details).not.toHaveProperty('notInReturn');
  });
});
