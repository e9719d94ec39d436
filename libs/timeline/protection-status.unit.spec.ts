import {
  decidingEpisode,
  episodesOf,
  protectionStatusFrom,
  scopeStart,
  type EpisodeEntry,
} from './protection-status';

const NOW = new Date('2025-06-15T12:00:00Z');
const at = (iso: string) => new Date(iso);
const entry = (type: string, iso: string, organisation = '991'): EpisodeEntry => ({
  type: `social-care.${type}`,
  occurredAt: at(iso),
  organisation,
});

describe('CP-IS scope from a child’s social-care entries', () => {
  it('counts a plan started and not ended as current, with its start and authority', () => {
    const episodes = episodesOf([entry('child-protection-plan.started', '2025-01-10T09:00:00Z')]);
    expect(decidingEpisode(episodes, NOW)).toEqual({
      kind: 'child-protection-plan',
      since: at('2025-01-10T09:00:00Z'),
      organisation: '991',
    });
  });

  it('keeps a plan ended within 12 months in scope and drops one ended before', () => {
    const ended = (endIso: string) =>
      decidingEpisode(
        episodesOf([
          entry('child-protection-plan.started', '2023-01-10T09:00:00Z'),
          entry('child-protection-plan.reviewed', '2023-04-10T09:00:00Z'),
          entry('child-protection-plan.ended', endIso),
        ]),
        NOW,
      );
    expect(ended('2024-06-16T09:00:00Z')).toEqual({
      kind: 'child-protection-plan',
      since: at('2023-01-10T09:00:00Z'),
      endedAt: at('2024-06-16T09:00:00Z'),
      organisation: '991',
    });
    expect(ended('2024-06-14T09:00:00Z')).toBeUndefined();
    expect(scopeStart(NOW)).toEqual(at('2024-06-15T12:00:00Z'));
  });

  it('follows a period of care through its changes and reviews, and prefers a current status to an ended one', () => {
    const episodes = episodesOf([
      entry('child-protection-plan.started', '2024-09-01T09:00:00Z'),
      entry('child-protection-plan.ended', '2025-01-05T09:00:00Z'),
      entry('looked-after-episode.started', '2025-01-05T10:00:00Z'),
      entry('looked-after-episode.changed', '2025-03-01T10:00:00Z'),
      entry('looked-after-review.held', '2025-04-01T10:00:00Z'),
    ]);
    expect(decidingEpisode(episodes, NOW)).toEqual({
      kind: 'looked-after',
      since: at('2025-01-05T10:00:00Z'),
      organisation: '991',
    });
  });

  it('names the authority holding the case now when it moved to another one', () => {
    const episodes = episodesOf([
      entry('looked-after-episode.started', '2024-09-01T09:00:00Z', '991'),
      entry('looked-after-episode.changed', '2025-02-01T09:00:00Z', '992'),
    ]);
    expect(decidingEpisode(episodes, NOW)?.organisation).toBe('992');
  });

  it('takes an end whose start the chronology lacks, and a change before any start, as episodes without a start', () => {
    expect(
      decidingEpisode(episodesOf([entry('child-protection-plan.ended', '2025-02-01T09:00:00Z')]), NOW),
    ).toEqual({ kind: 'child-protection-plan', endedAt: at('2025-02-01T09:00:00Z'), organisation: '991' });
    expect(
      decidingEpisode(episodesOf([entry('looked-after-episode.changed', '2025-02-01T09:00:00Z')]), NOW),
    ).toEqual({ kind: 'looked-after', organisation: '991' });
  });

  it('does not reopen an ended period of care for a review recorded after its end', () => {
    const episodes = episodesOf([
      entry('looked-after-episode.started', '2022-01-01T09:00:00Z'),
      entry('looked-after-episode.ended', '2023-01-01T09:00:00Z'),
      entry('looked-after-review.held', '2023-02-01T09:00:00Z'),
    ]);
    expect(decidingEpisode(episodes, NOW)).toBeUndefined();
  });

  it('ignores other social-care events and finds no status without a plan or care', () => {
    expect(
      decidingEpisode(
        episodesOf([
          entry('referral.received', '2025-01-01T09:00:00Z'),
          entry('cin-plan.started', '2025-02-01T09:00:00Z'),
        ]),
        NOW,
      ),
    ).toBeUndefined();
  });
});

describe('CP-IS status from the chronology the read already holds', () => {
  const records = [
    { streamId: 'social-care-SC1', agency: 'social-care', recordId: 'SC1' },
    { streamId: 'social-care-SC2', agency: 'social-care', recordId: 'SC2' },
    { streamId: 'health-H1', agency: 'health', recordId: 'H1' },
  ];
  const chronology = (type: string, iso: string, streamId: string, organisation?: string) => ({
    streamId,
    agency: streamId.startsWith('social-care') ? 'social-care' : 'health',
    type,
    occurredAt: iso,
    ...(organisation ? { sourceOrganisation: organisation } : {}),
  });

  it('names the authority of the open plan and only its own social-care records', () => {
    const status = protectionStatusFrom(
      [
        chronology('health.immunisation.given', '2024-01-01T09:00:00Z', 'health-H1', 'A81001'),
        chronology(
          'social-care.child-protection-plan.started',
          '2024-03-01T09:00:00+01:00',
          'social-care-SC2',
          '991',
        ),
        chronology('social-care.referral.received', '2024-02-01T09:00:00Z', 'social-care-SC1', '992'),
      ],
      records,
      NOW,
    );
    expect(status).toEqual({
      kind: 'child-protection-plan',
      since: '2024-03-01T08:00:00.000Z',
      responsibleLocalAuthority: '991',
      recordIds: ['SC2'],
    });
  });

  it('ignores entries after now, without an organisation, or from another agency', () => {
    expect(
      protectionStatusFrom(
        [
          chronology(
            'social-care.child-protection-plan.started',
            '2025-07-01T09:00:00Z',
            'social-care-SC1',
            '991',
          ),
          chronology('social-care.looked-after-episode.started', '2025-01-01T09:00:00Z', 'social-care-SC1'),
          {
            ...chronology(
              'social-care.child-protection-plan.started',
              '2025-01-01T09:00:00Z',
              'health-H1',
              '991',
            ),
          },
        ],
        records,
        NOW,
      ),
    ).toBeUndefined();
  });
});
