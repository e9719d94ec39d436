import type { AgencyEvent, RecordedBy, Subject } from '@throughline/contracts';
import { addDays, ageInYears, onWeekday } from './calendar';
import {
  caseHolderOn,
  caseOpenOn,
  type EventSink,
  subjectOn,
  type ChildProfile,
  type EducationRecord,
  type HealthRecord,
  type SocialCareRecord,
} from './history';
import { HEALTH_ORGANISATION, SYSTEMS } from './names';
import type { Random } from './random';
import { levelOn, progressOn, type StarDomain, type Track } from './trajectories';

/**
 * Outcome observations: the same child seen by the child, the family and professionals of
 * more than one agency, each with a narrative, often a rating and always a confidence, over
 * years, following the child's planned trajectories (trajectories.ts). Views drift apart on
 * purpose: a family rates safety well above the social worker at first, the child's view
 * changes before the adults', a school sees a domain better or worse than the social worker.
 * Where views differ, practitioners sometimes say so (`practice.views.differ`), also where
 * nothing was rated.
 */

type Confidence = 'low' | 'medium' | 'high';
type Perspective = 'child' | 'family' | 'professional';
type PractitionerAgency = 'health' | 'education' | 'social-care';

export interface ChildRecords {
  readonly health: HealthRecord;
  readonly education: readonly EducationRecord[];
  readonly socialCare?: SocialCareRecord;
}

/** The source and subject of an event recorded by an agency on a date, or undefined when it holds no record then. */
export function recordedAt(
  agency: PractitionerAgency,
  records: ChildRecords,
  isoDate: string,
): { source: AgencyEvent['source']; subject: Subject } | undefined {
  switch (agency) {
    case 'health':
      return {
        source: { agency: 'health', system: SYSTEMS.health, organisation: HEALTH_ORGANISATION },
        subject: subjectOn(records.health, isoDate),
      };
    case 'education': {
      const school = records.education.find(
        (record) => record.entryDate <= isoDate && (!record.leaving || isoDate < record.leaving.date),
      );
      return (
        school && {
          source: { agency: 'education', system: SYSTEMS.education, organisation: school.schoolUrn },
          subject: subjectOn(school, isoDate),
        }
      );
    }
    case 'social-care': {
      const record = records.socialCare;
      return (
        record && {
          source: {
            agency: 'social-care',
            system: SYSTEMS.socialCare,
            organisation: caseHolderOn(record, isoDate).laCode,
          },
          subject: subjectOn(record, isoDate),
        }
      );
    }
  }
}

/** Who records an account, and (when not their own agency's) the system they record it in. */
interface Recorder {
  readonly role: string;
  readonly agency: RecordedBy['agency'];
  readonly team?: string;
  readonly via?: PractitionerAgency;
}

const systemOf = (recorder: Recorder): PractitionerAgency =>
  recorder.via ?? (recorder.agency as PractitionerAgency);
const recordedByOf = ({ role, agency, team }: Recorder): RecordedBy => ({
  role,
  agency,
  ...(team ? { team } : {}),
});

interface Observer {
  readonly perspective: Perspective;
  readonly role: string;
  /** The observer's agency, for professionals. */
  readonly agency?: RecordedBy['agency'];
  /** The practitioner who records it (the observer, or who captured the family's or child's view). */
  readonly recorder: Recorder;
  /** How often this observer gives a rating beside the account. */
  readonly rates: number;
}

const band = (level: number) => (level < 0.4 ? 'low' : level < 0.7 ? 'mid' : 'high');

type Band = ReturnType<typeof band>;

const NARRATIVES: Readonly<
  Partial<Record<Track['domain'], Readonly<Record<string, Readonly<Record<Band, (name: string) => string>>>>>>
> = {
  safety: {
    'social worker': {
      low: (n) =>
        `Worries remain high: the agreed safety plan is not being followed and ${n} has missed school again. What needs to happen: the safety network meets weekly and the parent engages with the drug and alcohol service.`,
      mid: (n) =>
        `Some things are working well: ${n} is attending school more often and the parent has kept most appointments. Worries: evenings are still unsupervised. Next: extend the safety network to the grandparent.`,
      high: (n) =>
        `The safety plan has held for three months; ${n} says home is calmer and school reports a settled child. Considering stepping down.`,
    },
    family: {
      low: (n) =>
        `It has been a hard few months. We know ${n} has seen things they shouldn't have and we want help with the evenings.`,
      mid: (n) =>
        `We don't agree that ${n} is unsafe. Things were bad last year but we have sorted it out and the social worker is looking at the past, not now.`,
      high: (n) =>
        `Home is much better. ${n} is sleeping properly and we eat together most nights; we'd like less involvement now.`,
    },
    child: {
      low: (n) =>
        `${n} drew the house of worries full: shouting at night, nobody to walk to school with. Said "I don't like going home on Fridays".`,
      mid: (n) =>
        `${n} said some days are good and some are bad. Likes that Nan picks them up on Wednesdays. Still worries about mum.`,
      high: (n) =>
        `${n} said home is "mostly happy now" and wants to do football club. The house of good things was the fullest it has been.`,
    },
    other: {
      low: (n) =>
        `${n} has come in hungry and tired three times this half term and was reluctant to go home on Friday. Logged and shared with the social worker.`,
      mid: (n) => `${n} is mostly settled; the odd Monday is difficult. Mum has started collecting on time.`,
      high: (n) =>
        `No worries from us this term: ${n} is settled, clean and fed, and talks happily about home.`,
    },
  },
  'stay-safe': {
    'social worker': {
      low: (n) =>
        `${n} has been missing twice this month and is spending time with older young people; exploitation screening done.`,
      mid: (n) => `${n} is keeping to the agreed curfew most nights; the family know the warning signs now.`,
      high: (n) =>
        `No missing episodes since the spring; ${n} has joined the youth club and has a trusted adult there.`,
    },
    'designated safeguarding lead': {
      low: (n) =>
        `Two disclosures this term about arguments at home; ${n} asked to stay late at school. Referred to the front door.`,
      mid: (n) =>
        `${n} checks in with the learning mentor every morning; fewer worries logged than last term.`,
      high: (n) => `Nothing logged for ${n} this term; they know who to go to in school if anything changes.`,
    },
    family: {
      low: () => `We are at our wits' end: we don't know where they are half the evenings.`,
      mid: (n) => `${n} is coming home on time more, but we still worry about who they are with.`,
      high: (n) => `${n} is safe; we've no worries now and want to be left alone.`,
    },
    child: {
      low: () => `I don't feel safe walking home. Some older boys wait by the shop.`,
      mid: () => `It's OK mostly. I tell my mentor if something happens.`,
      high: () => `I feel safe at home and at school now.`,
    },
  },
  'enjoy-and-achieve': {
    teacher: {
      low: (n) =>
        `${n} finds the classroom hard after weekends; reading age is two years behind. Responds well to one-to-one time with the teaching assistant.`,
      mid: (n) =>
        `${n} is making steady progress with support; writing is still the hardest part of the day.`,
      high: (n) =>
        `${n} has made real progress this year, especially in writing, and has a settled friendship group.`,
    },
    family: {
      low: (n) =>
        `${n} says school is boring and the teachers pick on them; getting them there in the morning is a battle.`,
      mid: (n) => `${n} likes their new teacher; homework is still a fight most nights.`,
      high: (n) => `${n} is proud of their reading and wants to go to school, even on Mondays.`,
    },
    child: {
      low: () => `Lessons go too fast and I get told off for asking. I hate the dinner hall.`,
      mid: () => `Maths is OK now. I still don't like writing.`,
      high: () => `I got a certificate for reading. My best thing is science club.`,
    },
  },
  'be-healthy': {
    'health visitor': {
      low: (n) =>
        `${n} has dropped across two weight centiles; language is well behind. Feeding plan and SALT referral agreed.`,
      mid: (n) =>
        `${n} is growing along their centile; language is emerging more slowly than expected. Parent keen to take up the funded nursery place.`,
      high: (n) => `${n} is thriving: growth on track, talking in short sentences, parent confident.`,
    },
    'school nurse': {
      low: (n) =>
        `${n} is tired at school and says they are not sleeping; dental decay untreated. Appointments missed twice.`,
      mid: (n) => `${n}'s sleep has improved with the routine agreed; still not registered with a dentist.`,
      high: (n) => `${n} is well: sleeping, eating and all health appointments kept.`,
    },
    family: {
      low: () => `They won't eat anything but cereal and they're up half the night.`,
      mid: () => `Sleep is better since we started the bedtime chart.`,
      high: () => `No worries about their health now; they're eating well.`,
    },
    child: {
      low: () => `I'm tired all the time.`,
      mid: () => `I sleep better now.`,
      high: () => `I feel good.`,
    },
  },
};

/** Where a family is on each point of the Journey of Change star, at three stages of the journey. */
const STAR: Readonly<Record<StarDomain, Readonly<Record<Band, string>>>> = {
  'family-routine': {
    low: 'no set bedtime or mealtimes; mornings are chaos and the children are often late',
    mid: 'a bedtime routine most school nights, weekends still hard',
    high: 'routines that hold, even in the holidays',
  },
  'education-and-learning': {
    low: 'getting to school is a daily battle and nobody reads at home',
    mid: 'at school most days; reading together twice a week',
    high: 'at school every day and homework done with help',
  },
  wellbeing: {
    low: 'the parent is low and not seeing the GP; nobody is sleeping well',
    mid: 'the parent has seen the GP and started the talking therapy',
    high: 'the parent feels well enough to plan ahead; the children are sleeping',
  },
  'meeting-emotional-needs': {
    low: 'lots of shouting; the children go to their rooms to get away',
    mid: 'calmer evenings; one-to-one time with each child once a week',
    high: 'the family talks things through and the children say they feel listened to',
  },
  'keeping-children-safe': {
    low: 'the children are out late and nobody knows where',
    mid: 'the parent knows where the children are most evenings',
    high: 'clear rules about where the children go and who with, and they stick to them',
  },
  'boundaries-and-behaviour': {
    low: 'no rules that stick; the parent feels they have lost control',
    mid: 'a few rules that hold with praise for keeping them',
    high: 'consistent boundaries both parents agree on',
  },
  'home-and-money': {
    low: 'rent arrears and the electricity key running out',
    mid: 'a payment plan for the arrears and the right benefits in payment',
    high: 'bills on track and a little put by',
  },
};

function starNarrative(track: Track, observer: Observer, level: number, name: string): string {
  const where = STAR[track.domain as StarDomain][band(level)];
  switch (observer.perspective) {
    case 'family':
      return `Star completed with the family: they put themselves here because of ${where}.`;
    case 'child':
      return `${name} marked their own point on the star and said it was about ${where}.`;
    case 'professional':
      return `Family support worker's view: ${where}; the plan's next steps were agreed at the same visit.`;
  }
}

function narrativeOf(track: Track, observer: Observer, level: number, name: string): string {
  if (track.framework === 'journey-of-change') return starNarrative(track, observer, level, name);
  const byRole = NARRATIVES[track.domain]!;
  const key =
    observer.perspective !== 'professional'
      ? observer.perspective
      : byRole[observer.role]
        ? observer.role
        : track.domain === 'enjoy-and-achieve'
          ? 'teacher'
          : track.domain === 'safety'
            ? 'other'
            : Object.keys(byRole)[0];
  return byRole[key][band(level)](name);
}

interface Seen {
  readonly eventId: string;
  readonly observer: Observer;
  readonly value?: number;
  readonly level: number;
  readonly narrative: string;
}

const SOCIAL_WORKER = {
  role: 'social worker',
  agency: 'social-care',
  team: 'Children in need team 1',
} as const;

/**
 * The rounds of observation of each tracked domain: who looks, how often, through which agency.
 */
export function generateOutcomeObservations(
  profile: ChildProfile,
  records: ChildRecords,
  tracks: readonly Track[],
  rng: Random,
  sink: EventSink,
): void {
  const name = profile.givenName;
  const clamp = (value: number, min: number, max: number) => Math.max(min, Math.min(max, value));

  const observe = (
    track: Track,
    on: string,
    observer: Observer,
    level: number,
    confidence: Confidence,
  ): Seen | undefined => {
    const at = recordedAt(systemOf(observer.recorder), records, on);
    if (!at) return undefined;
    const noisy = clamp(level + 0.05 * rng.normal(), 0, 1);
    const { min, max } = track.scale;
    const rated = rng.chance(observer.rates);
    const value = Math.round(min + noisy * (max - min));
    const narrative = narrativeOf(track, observer, noisy, name);
    const eventId = sink.emitOn('outcome.observation.recorded', on, rng, {
      ...at,
      recordedBy: recordedByOf(observer.recorder),
      data: {
        framework: track.framework,
        domain: track.domain,
        perspective: observer.perspective,
        observerRole: observer.role,
        ...(observer.agency ? { observerAgency: observer.agency } : {}),
        observedOn: on,
        narrative,
        ...(rated ? { rating: { ...track.scale, value } } : {}),
        confidence,
      },
    });
    return { eventId, observer, level: noisy, narrative, ...(rated ? { value } : {}) };
  };

  /** The views of a round that differ by 0.3 of the scale or more, recorded as differing by `recorder`. */
  const differ = (track: Track, on: string, seen: readonly (Seen | undefined)[], recorder: Recorder) => {
    const views = seen.filter((s): s is Seen => s !== undefined);
    for (let i = 0; i < views.length; i++)
      for (let j = i + 1; j < views.length; j++) {
        const [a, b] = [views[i], views[j]];
        if (Math.abs(a.level - b.level) < 0.3) continue;
        // Said where nothing is rated more often: a rating gap shows itself on the page.
        const unrated = a.value === undefined || b.value === undefined;
        if (!rng.chance(unrated ? 0.6 : 0.25)) continue;
        const recordedOn = addDays(on, rng.int(1, 6));
        const at = recordedAt(systemOf(recorder), records, recordedOn);
        if (!at) return;
        sink.emitOn('practice.views.differ', recordedOn, rng, {
          ...at,
          recordedBy: recordedByOf(recorder),
          data: {
            recordedOn,
            about: [a.eventId, b.eventId],
            framework: track.framework,
            domain: track.domain,
            views: [a, b].map((s) => ({
              perspective: s.observer.perspective,
              role: s.observer.role,
              ...(s.observer.agency ? { agency: s.observer.agency } : {}),
              view: s.narrative,
            })),
            narrative: rng.pick([
              `Both views go to the next meeting in full; the family is offered an advocate and time with the chair beforehand.`,
              `Discussed in supervision: we will ask ${name} directly, with the trusted adult at school, before the review.`,
              `The difference is part of the plan: the safety network will agree what each of us needs to see to score it higher.`,
            ]),
            recordedBy: recordedByOf(recorder),
          },
        });
        return;
      }
  };

  for (const track of tracks) {
    const last = track.until < profile.horizon ? track.until : profile.horizon;
    const childLevel = (on: string) => levelOn(track, addDays(on, track.childLeadDays));
    const familyLevel = (on: string) =>
      levelOn(track, on) + track.familyGap * (1 - 0.7 * progressOn(track, on));
    const otherLevel = (on: string) => levelOn(track, on) + track.otherGap;
    const age = (on: string) => ageInYears(profile.dateOfBirth, on);

    switch (track.domain) {
      case 'safety': {
        // Scaling at core group or review meetings, every three to five months while the case is open.
        const familyMember = rng.pick(['mother', 'father', 'grandmother', 'kinship carer']);
        for (let on = track.from; on <= last; on = onWeekday(addDays(on, rng.int(90, 150)))) {
          const seen: (Seen | undefined)[] = [];
          seen.push(
            observe(
              track,
              on,
              {
                perspective: 'professional',
                role: 'social worker',
                agency: 'social-care',
                recorder: SOCIAL_WORKER,
                rates: 0.9,
              },
              levelOn(track, on),
              rng.pick(['medium', 'high'] as const),
            ),
          );
          seen.push(
            observe(
              track,
              on,
              { perspective: 'family', role: familyMember, recorder: SOCIAL_WORKER, rates: 0.85 },
              familyLevel(on),
              rng.pick(['medium', 'high'] as const),
            ),
          );
          if (age(on) >= 6 && rng.chance(0.8))
            seen.push(
              observe(
                track,
                on,
                { perspective: 'child', role: 'child (three houses)', recorder: SOCIAL_WORKER, rates: 0.7 },
                childLevel(on),
                rng.pick(['low', 'medium'] as const),
              ),
            );
          // Another agency's professional in the safety network scales it too.
          if (rng.chance(0.7)) {
            const atSchool = recordedAt('education', records, on) !== undefined;
            const other: Observer = atSchool
              ? {
                  perspective: 'professional',
                  role: 'designated safeguarding lead',
                  agency: 'education',
                  recorder: { role: 'designated safeguarding lead', agency: 'education' },
                  rates: 0.5,
                }
              : {
                  perspective: 'professional',
                  role: age(on) < 5 ? 'health visitor' : 'school nurse',
                  agency: 'health',
                  recorder: {
                    role: age(on) < 5 ? 'health visitor' : 'school nurse',
                    agency: 'health',
                    team: '0-19 team',
                  },
                  rates: 0.5,
                };
            seen.push(observe(track, on, other, otherLevel(on), 'medium'));
          }
          differ(track, on, seen, SOCIAL_WORKER);
        }
        break;
      }
      case 'enjoy-and-achieve': {
        // The school's view each December and June; the family's and the child's at the summer review.
        const firstYear = Number(track.from.slice(0, 4));
        for (let year = firstYear; `${year}-01-01` <= last; year++) {
          for (const month of ['06', '12'] as const) {
            const on = onWeekday(`${year}-${month}-${String(rng.int(3, 20)).padStart(2, '0')}`);
            if (on < track.from || on > last) continue;
            const role = age(on) >= 11 ? 'head of year' : rng.chance(0.5) ? 'SENCO' : 'class teacher';
            const senco = { role: 'SENCO', agency: 'education' as const };
            const seen: (Seen | undefined)[] = [
              observe(
                track,
                on,
                {
                  perspective: 'professional',
                  role,
                  agency: 'education',
                  recorder: { role, agency: 'education' },
                  rates: 0.75,
                },
                levelOn(track, on),
                'medium',
              ),
            ];
            if (month === '06') {
              seen.push(
                observe(
                  track,
                  on,
                  { perspective: 'family', role: 'parent', recorder: senco, rates: 0.7 },
                  familyLevel(on),
                  'medium',
                ),
              );
              if (age(on) >= 7)
                seen.push(
                  observe(
                    track,
                    on,
                    { perspective: 'child', role: 'pupil (own review)', recorder: senco, rates: 0.6 },
                    childLevel(on),
                    rng.pick(['low', 'medium'] as const),
                  ),
                );
            }
            differ(track, on, seen, senco);
          }
        }
        break;
      }
      case 'be-healthy': {
        // The health visitor, then the school nurse, about each birthday; the family at the same contact.
        for (let year = age(track.from) + 1; ; year++) {
          const on = onWeekday(addDays(profile.dateOfBirth, Math.round(year * 365.25) + rng.int(0, 40)));
          if (on > last) break;
          if (on < track.from) continue;
          const role = year < 5 ? 'health visitor' : 'school nurse';
          const recorder = { role, agency: 'health' as const, team: '0-19 team' };
          const seen = [
            observe(
              track,
              on,
              { perspective: 'professional', role, agency: 'health', recorder, rates: 0.6 },
              levelOn(track, on),
              'medium',
            ),
            observe(
              track,
              on,
              { perspective: 'family', role: 'parent', recorder, rates: 0.7 },
              familyLevel(on),
              'medium',
            ),
          ];
          differ(track, on, seen, recorder);
        }
        break;
      }
      case 'stay-safe': {
        // The school's safeguarding lead each term; the social worker while the case is open; the family and child yearly.
        const firstYear = Number(track.from.slice(0, 4));
        for (let year = firstYear; `${year}-01-01` <= last; year++) {
          for (const month of ['03', '11'] as const) {
            const on = onWeekday(`${year}-${month}-${String(rng.int(3, 24)).padStart(2, '0')}`);
            if (on < track.from || on > last) continue;
            const dsl = { role: 'designated safeguarding lead', agency: 'education' as const };
            const seen: (Seen | undefined)[] = [
              observe(
                track,
                on,
                { perspective: 'professional', ...dsl, recorder: dsl, rates: 0.6 },
                otherLevel(on),
                'medium',
              ),
            ];
            if (caseOpenOn(profile.socialCare, on))
              seen.push(
                observe(
                  track,
                  on,
                  {
                    perspective: 'professional',
                    role: 'social worker',
                    agency: 'social-care',
                    recorder: SOCIAL_WORKER,
                    rates: 0.8,
                  },
                  levelOn(track, on),
                  'high',
                ),
              );
            if (month === '11') {
              seen.push(
                observe(
                  track,
                  on,
                  { perspective: 'family', role: 'parent', recorder: dsl, rates: 0.6 },
                  familyLevel(on),
                  'medium',
                ),
              );
              if (age(on) >= 8)
                seen.push(
                  observe(
                    track,
                    on,
                    { perspective: 'child', role: 'young person', recorder: dsl, rates: 0.5 },
                    childLevel(on),
                    'low',
                  ),
                );
            }
            differ(track, on, seen, dsl);
          }
        }
        break;
      }
      default: {
        // The star is completed with the family at the start of the early help plan, every two or three months, and at the end.
        const worker = {
          role: 'family support worker',
          agency: 'early-help' as const,
          team: 'Early help hub',
        };
        const recorder: Recorder = { ...worker, via: 'social-care' };
        for (let on = track.from; ; on = onWeekday(addDays(on, rng.int(56, 84)))) {
          const at = on > track.until ? track.until : on;
          if (at > last) break;
          const seen: (Seen | undefined)[] = [
            observe(
              track,
              at,
              { perspective: 'family', role: 'parent', recorder, rates: 0.95 },
              familyLevel(at),
              'medium',
            ),
            observe(
              track,
              at,
              { perspective: 'professional', role: worker.role, agency: 'early-help', recorder, rates: 0.8 },
              levelOn(track, at),
              'medium',
            ),
          ];
          if (age(at) >= 8 && rng.chance(0.5))
            seen.push(
              observe(
                track,
                at,
                { perspective: 'child', role: 'young person', recorder, rates: 0.6 },
                childLevel(at),
                'low',
              ),
            );
          differ(track, at, seen, recorder);
          if (at === track.until) break;
        }
        break;
      }
    }
  }
}
