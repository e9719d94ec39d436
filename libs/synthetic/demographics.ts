import { addDays, dayNumber, isoDateOf } from './calendar';
import type { PostcodeFrom, RecordedDemographics } from './history';
import { NEIGHBOURING_DISTRICTS, NICKNAMES, POSTCODE_DISTRICTS, POSTCODE_UNIT_LETTERS } from './names';
import type { Random } from './random';

/**
 * Who a child is as each agency records them: the same child, with the imperfections real
 * records have (an address out of date after a move, a misspelt or shortened name).
 */

export function drawPostcode(rng: Random, districts: readonly string[]): string {
  const letter = () => POSTCODE_UNIT_LETTERS[rng.int(0, POSTCODE_UNIT_LETTERS.length - 1)];
  return `${rng.pick(districts)} ${rng.int(1, 9)}${letter()}${letter()}`;
}

const districtOf = (postcode: string) => postcode.split(' ')[0];

/** A postcode in another district than `postcode`. */
export function drawPostcodeElsewhere(rng: Random, postcode: string): string {
  return drawPostcode(
    rng,
    POSTCODE_DISTRICTS.filter((district) => district !== districtOf(postcode)),
  );
}

/** Share of children whose family moves house once during the history. */
const MOVE_SHARE = 0.3;
/** Share of those moves that cross into another postcode district. */
const MOVE_ACROSS_DISTRICTS = 0.35;

export interface HomeOptions {
  /** The family moved to the neighbouring authority on this date (and stayed). */
  readonly leftAuthorityOn?: string;
  /** Live in none of these districts (cousins who share a name live apart). */
  readonly avoidDistricts?: readonly string[];
}

/** Where the child actually lived: a home from birth, perhaps a move. */
export function planHomes(
  rng: Random,
  dateOfBirth: string,
  horizon: string,
  options: HomeOptions = {},
): PostcodeFrom[] {
  const districts = POSTCODE_DISTRICTS.filter((d) => !options.avoidDistricts?.includes(d));
  const first = drawPostcode(rng, districts);
  const homes: PostcodeFrom[] = [{ from: dateOfBirth, postcode: first }];
  const firstDay = dayNumber(dateOfBirth) + 180;
  const lastDay = dayNumber(options.leftAuthorityOn ?? horizon) - 30;
  if (rng.chance(MOVE_SHARE) && firstDay < lastDay) {
    const from = isoDateOf(rng.int(firstDay, lastDay));
    const postcode = rng.chance(MOVE_ACROSS_DISTRICTS)
      ? drawPostcode(
          rng,
          districts.filter((d) => d !== districtOf(first)),
        )
      : `${districtOf(first)} ${drawPostcode(rng, districts).split(' ')[1]}`;
    if (postcode !== first) homes.push({ from, postcode });
  }
  if (options.leftAuthorityOn)
    homes.push({ from: options.leftAuthorityOn, postcode: drawPostcode(rng, NEIGHBOURING_DISTRICTS) });
  return homes;
}

/** How long an agency takes to record a new address. */
export type AddressLag = 'days' | 'next-september' | 'same-day' | 'never';

function learnedOn(movedOn: string, lag: AddressLag): string | undefined {
  switch (lag) {
    case 'same-day':
      return movedOn;
    case 'days':
      // A GP registration or child health record update follows within a couple of weeks.
      return addDays(movedOn, 14);
    case 'next-september': {
      // Schools check contact details at the start of the school year.
      const year = Number(movedOn.slice(0, 4));
      return movedOn < `${year}-09-01` ? `${year}-09-01` : `${year + 1}-09-01`;
    }
    case 'never':
      return undefined;
  }
}

/** The addresses an agency holds, given where the child lived and how quickly it hears of a move. */
export function recordedPostcodes(homes: readonly PostcodeFrom[], lag: AddressLag): PostcodeFrom[] {
  const [first, ...moves] = homes;
  const recorded: PostcodeFrom[] = [first];
  for (const move of moves) {
    const from = learnedOn(move.from, lag);
    if (from) recorded.push({ from, postcode: move.postcode });
  }
  return recorded;
}

/** Two neighbouring letters swapped, never the first (the commonest keying error). */
export function misspell(name: string, rng: Random): string {
  if (name.length < 4) return `${name}${name[name.length - 1]}`;
  const at = rng.int(1, name.length - 3);
  const swapped = `${name.slice(0, at)}${name[at + 1]}${name[at]}${name.slice(at + 2)}`;
  return swapped === name ? `${name}${name[name.length - 1]}` : swapped;
}

/** A nickname when the name has one (half the time), otherwise a misspelling. */
export function misrecordedName(name: string, rng: Random): string {
  const nickname = NICKNAMES[name];
  return nickname && rng.chance(0.5) ? nickname : misspell(name, rng);
}

export function recordedDemographics(
  name: { given: string; family: string },
  sex: 'female' | 'male',
  dateOfBirth: string,
  homes: readonly PostcodeFrom[],
  lag: AddressLag,
): RecordedDemographics {
  return {
    name: { ...name },
    sex: sex === 'female' ? '2' : '1',
    dateOfBirth,
    postcodes: recordedPostcodes(homes, lag),
  };
}
