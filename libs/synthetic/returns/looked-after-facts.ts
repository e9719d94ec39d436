import type { EventOfType } from '@throughline/contracts';
import { addDays, addMonths, ageInYears } from '../calendar';
import {
  caseHolderOn,
  type ChildProfile,
  type EventSink,
  type LookedAfterPlan,
  type SocialCareRecord,
  subjectOn,
} from '../history';
import { LOCAL_AUTHORITY, SYSTEMS } from '../names';
import { hash32, type Random } from '../random';

/**
 * The SSDA903 facts of a period of care beyond its episodes, reviews and missing episodes:
 * previous permanence, social workers, OC2 outcomes at each 31 March after a year in care,
 * OC3 for care leavers around their 18th to 21st birthdays, UASC status and the adoption
 * decisions of the youngest children in care proceedings. Drawn from their own stream, so
 * they never shift another draw of the cohort; dated on the day the return would report them.
 */

type Data<T extends Parameters<EventSink['emit']>[0]> = EventOfType<T>['data'];

/** The 31 March ending the DfE collection year (1 April - 31 March) that holds `isoDate`. */
export function yearEndingOf(isoDate: string): string {
  const year = Number(isoDate.slice(0, 4));
  return `${isoDate.slice(5) >= '04-01' ? year + 1 : year}-03-31`;
}

/**
 * Whether a period of care is that of an unaccompanied asylum-seeking child: most children
 * starting to be looked after at 13 or older (UASC are mostly teenage entrants). Pure, so the episode's own flag and the UASC facts agree.
 */
export function isUnaccompaniedAsylumSeeking(profile: ChildProfile, care: LookedAfterPlan): boolean {
  return (
    ageInYears(profile.dateOfBirth, care.startDate) >= 13 &&
    hash32(profile.number, care.startDate, 'uasc') % 100 >= 30
  );
}

export function generateLookedAfterReturnFacts(
  profile: ChildProfile,
  record: SocialCareRecord,
  rng: Random,
  sink: EventSink,
): void {
  const on = (date: string) => ({
    source: {
      agency: 'social-care' as const,
      system: SYSTEMS.socialCare,
      organisation: caseHolderOn(record, date).laCode,
    },
    subject: subjectOn(record, date),
  });

  for (const episode of profile.socialCare ?? []) {
    const care = episode.lookedAfter;
    if (!care) continue;
    const until = care.end?.date ?? profile.horizon;
    const eighteen = addMonths(profile.dateOfBirth, 18 * 12);
    const ageAtStart = ageInYears(profile.dateOfBirth, care.startDate);

    const startYear = yearEndingOf(care.startDate);
    const option = rng.weighted<Data<'social-care.previous-permanence.recorded'>['option']>([
      ['Z1', 70],
      ['P4', 15],
      ['P2', 8],
      ['P3', 7],
    ]);
    const orderYear = Number(care.startDate.slice(0, 4)) - rng.int(1, 5);
    sink.emitOn('social-care.previous-permanence.recorded', startYear, rng, {
      ...on(startYear),
      data: {
        yearEnding: startYear,
        option,
        ...(option === 'P2' || option === 'P3'
          ? {
              arrangedBy: rng.chance(0.7) ? LOCAL_AUTHORITY.code : '999',
              // The return knows only the year, or the month and year, of an old order.
              orderDate: option === 'P2' ? String(orderYear) : `${orderYear}-0${rng.int(1, 9)}`,
            }
          : {}),
      },
    });

    // Social workers: one from the start, changed every 8-20 months.
    let worker = `SW${rng.int(100, 160)}`;
    let from = care.startDate;
    sink.emitOn('social-care.social-worker.allocated', from, rng, {
      ...on(from),
      data: { workerId: worker, startDate: from },
    });
    for (;;) {
      const change = addMonths(from, rng.int(8, 20));
      if (change >= until) break;
      sink.emitOn('social-care.social-worker.allocation-ended', change, rng, {
        ...on(change),
        data: {
          workerId: worker,
          startDate: from,
          endDate: change,
          reason: rng.weighted([
            ['LEFTRL', 35],
            ['ORGRST', 20],
            ['TSPROC', 20],
            ['ABSENC', 10],
            ['OTHERS', 15],
          ] as const),
        },
      });
      worker = `SW${rng.int(100, 160)}`;
      from = change;
      sink.emitOn('social-care.social-worker.allocated', from, rng, {
        ...on(from),
        data: { workerId: worker, startDate: from },
      });
    }
    if (care.end)
      sink.emitOn('social-care.social-worker.allocation-ended', care.end.date, rng, {
        ...on(care.end.date),
        data: { workerId: worker, startDate: from, endDate: care.end.date },
      });

    // OC2: looked after continuously for 12 months at 31 March.
    for (let yearEnd = yearEndingOf(addDays(care.startDate, 365)); yearEnd <= until;) {
      const age = ageInYears(profile.dateOfBirth, yearEnd);
      const sdq = age >= 4 && age <= 16 && rng.chance(0.85);
      const older = age >= 10;
      const misuse = older && rng.chance(0.08);
      sink.emitOn('social-care.looked-after-outcomes.recorded', yearEnd, rng, {
        ...on(yearEnd),
        specialCategories: ['substance-misuse', 'criminal-offence'],
        data: {
          yearEnding: yearEnd,
          ...(sdq
            ? { sdqScore: rng.int(4, 28) }
            : { sdqReason: age < 4 || age > 16 ? 'SDQ1' : rng.pick(['SDQ2', 'SDQ4', 'SDQ5'] as const) }),
          ...(older ? { convicted: rng.chance(0.06) } : {}),
          healthCheck: rng.chance(0.9),
          immunisations: rng.chance(0.85),
          teethCheck: rng.chance(0.8),
          healthAssessment: rng.chance(0.9),
          ...(older ? { substanceMisuse: misuse } : {}),
          ...(misuse ? { interventionReceived: rng.chance(0.6), interventionOffered: rng.chance(0.2) } : {}),
        },
      });
      yearEnd = `${Number(yearEnd.slice(0, 4)) + 1}-03-31`;
    }

    // OC3: a care leaver who left at 18, around their 18th to 21st birthdays.
    if (care.end && care.end.date >= eighteen) {
      for (let age = 18; age <= 21; age++) {
        const yearEnd = yearEndingOf(addMonths(profile.dateOfBirth, age * 12));
        const inTouch = rng.weighted([
          ['YES', 80],
          ['NO', 8],
          ['REFU', 6],
          ['NREQ', 6],
        ] as const);
        const known = inTouch === 'YES';
        sink.emitOn('social-care.care-leaver.contacted', yearEnd, rng, {
          ...on(yearEnd),
          data: {
            yearEnding: yearEnd,
            inTouch,
            activity: known
              ? rng.weighted([
                  ['F2', 30],
                  ['F5', 20],
                  ['F4', 10],
                  ['F1', 8],
                  ['G5', 22],
                  ['G4', 6],
                  ['G6', 4],
                ] as const)
              : '0',
            accommodation: known
              ? rng.weighted([
                  [care.end.reason === 'E17' ? 'Z1' : 'U1', 45],
                  ['D1', 25],
                  ['B1', 15],
                  ['E1', 8],
                  ['S2', 3],
                  ['W2', 4],
                ] as const)
              : '0',
          },
        });
      }
    }

    if (isUnaccompaniedAsylumSeeking(profile, care)) {
      sink.emitOn('social-care.uasc-status.recorded', startYear, rng, {
        ...on(startYear),
        data: { yearEnding: startYear },
      });
      if (eighteen <= until)
        sink.emitOn('social-care.uasc-status.ceased', eighteen, rng, {
          ...on(eighteen),
          data: { ceasedDate: eighteen },
        });
    }

    // Younger children in care proceedings: a plan for adoption, matched or reversed.
    if (care.route === 'care-proceedings' && ageAtStart < 8) {
      const decisionDate = addMonths(care.startDate, rng.int(5, 9));
      if (decisionDate >= until) continue;
      sink.emitOn('social-care.placement-for-adoption.decided', decisionDate, rng, {
        ...on(decisionDate),
        data: { decisionDate },
      });
      const later = addMonths(decisionDate, rng.int(3, 8));
      if (later >= until) continue;
      // A child who went home had the plan reversed; one still in care was matched.
      if (care.end) {
        sink.emitOn('social-care.placement-for-adoption.reversed', later, rng, {
          ...on(later),
          data: {
            decisionDate,
            reversedDate: later,
            reason: care.end ? 'RD1' : rng.pick(['RD2', 'RD3', 'RD4'] as const),
          },
        });
      } else {
        const couple = rng.chance(0.8);
        sink.emitOn('social-care.adoption-match.recorded', later, rng, {
          ...on(later),
          data: {
            decisionDate,
            matchedDate: later,
            adoptedByFosterCarers: rng.chance(0.15),
            numberOfAdopters: couple ? 2 : 1,
            adopterSex: couple
              ? rng.weighted([
                  ['MF', 80],
                  ['FF', 12],
                  ['MM', 8],
                ] as const)
              : 'F1',
            adopterLegalStatus: couple
              ? rng.weighted([
                  ['L11', 70],
                  ['L3', 15],
                  ['L12', 10],
                  ['L2', 5],
                ] as const)
              : 'L0',
          },
        });
      }
    }
  }
}
