import {
  buildAttendanceSummarised,
  buildChildProtectionPlanStarted,
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
      indicator: { name: 'attendance', value: 91.2, unit: '%' },
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
      indicator: { name: 'ten-point', value: 8, scale: { name: 'ten-point', min: 1, max: 10 } },
      narrative: 'Synthetic: I like my new class.',
      perspective: 'child',
      observerRole: 'the child',
      confidence: 'high',
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
