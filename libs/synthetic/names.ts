/**
 * Built-in lists for synthetic identities and organisations. Family names are invented
 * compounds so no child can be mistaken for a real one; codes sit outside the ranges real
 * organisations use (LA codes 99x, school URNs 99xxxx, NHS numbers in the 999 test range).
 */

export const GIVEN_NAMES = {
  female: [
    'Juniper',
    'Marigold',
    'Wren',
    'Clementine',
    'Saffron',
    'Hazel',
    'Isla',
    'Nell',
    'Poppy',
    'Tansy',
    'Briar',
    'Lark',
  ],
  male: [
    'Bramble',
    'Fennel',
    'Rowan',
    'Alder',
    'Corin',
    'Jasper',
    'Ossian',
    'Pip',
    'Rook',
    'Tobin',
    'Linden',
    'Quill',
  ],
} as const;

export const FAMILY_NAMES = [
  'Quillfeather',
  'Thistledown',
  'Marchbank-Vole',
  'Pebblewick',
  'Hollowmere',
  'Fernsby-Tock',
  'Cobblethwaite',
  'Larkspindle',
  'Mossgrove',
  'Nettlecombe',
  'Ashbury-Finch',
  'Puddingstone',
  'Wickerby',
  'Tumbleford',
  'Owlcroft',
  'Brindlemoor',
] as const;

/** The fictional local authority of the cohort. */
export const LOCAL_AUTHORITY = { code: '991', name: 'Throughline Vale (synthetic)' } as const;

/** The authority some families move to; it takes the case on under its own id. */
export const NEIGHBOURING_AUTHORITY = { code: '992', name: 'Lowmere Fells (synthetic)' } as const;

/**
 * Postcode areas no real postcode uses (ZZ99 is the NHS pseudo-postcode, so it is avoided):
 * the cohort lives in districts ZZ1-ZZ6, the neighbouring authority in ZY1-ZY3.
 */
export const POSTCODE_DISTRICTS = ['ZZ1', 'ZZ2', 'ZZ3', 'ZZ4', 'ZZ5', 'ZZ6'] as const;
export const NEIGHBOURING_DISTRICTS = ['ZY1', 'ZY2', 'ZY3'] as const;
/** Letters a postcode's unit may use (C, I, K, M, O, V never appear there). */
export const POSTCODE_UNIT_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

/** Short forms one agency may record instead of the given name. */
export const NICKNAMES: Readonly<Record<string, string>> = {
  Juniper: 'Juno',
  Marigold: 'Goldie',
  Clementine: 'Clemmie',
  Saffron: 'Saffy',
  Isla: 'Izzy',
  Poppy: 'Pops',
  Bramble: 'Bram',
  Fennel: 'Fen',
  Jasper: 'Jas',
  Ossian: 'Ossie',
  Tobin: 'Toby',
  Linden: 'Lindy',
};

/** Given names for the planted twins: near-identical, so only their NHS numbers tell them apart. */
export const TWIN_NAMES = {
  female: ['Aimee', 'Amie'],
  male: ['Jayden', 'Jaden'],
} as const;

export interface SyntheticSchool {
  readonly urn: string;
  /** DfE establishment number: positions 5-8 of a UPN issued there. */
  readonly establishment: string;
  /** `alternative`: a pupil referral unit, for pupils permanently excluded from a school. */
  readonly phase: 'primary' | 'secondary' | 'alternative';
  readonly name: string;
}

export const SCHOOLS: readonly SyntheticSchool[] = [
  { urn: '990101', establishment: '2001', phase: 'primary', name: 'Bramblegate Primary' },
  { urn: '990102', establishment: '2002', phase: 'primary', name: 'Kestrel Lane Primary' },
  { urn: '990103', establishment: '2003', phase: 'primary', name: 'Orchard Vale Primary' },
  { urn: '990104', establishment: '2004', phase: 'primary', name: 'St Nowhere CE Primary' },
  { urn: '990105', establishment: '2005', phase: 'primary', name: 'Millpond Primary' },
  { urn: '990201', establishment: '4001', phase: 'secondary', name: 'Throughline Vale Academy' },
  { urn: '990202', establishment: '4002', phase: 'secondary', name: 'Heronsgate High' },
  { urn: '990203', establishment: '4003', phase: 'secondary', name: 'Saltmarsh School' },
  { urn: '990301', establishment: '1100', phase: 'alternative', name: 'Fellside Pupil Referral Unit' },
];

export const HEALTH_ORGANISATION = 'DEMO-CHS';
export const EMERGENCY_DEPARTMENT = 'DEMO-ED';
/** The acute trust's maternity unit and wards (its patient administration system). */
export const ACUTE_TRUST = 'DEMO-ACUTE';
export const SCREENING_LABORATORY = 'DEMO-LAB';
export const GP_PRACTICE = 'DEMO-GP';
export const MENTAL_HEALTH_TRUST = 'DEMO-MHT';

export const SYSTEMS = {
  health: 'child-health-system',
  emergency: 'ed-system',
  maternity: 'maternity-system',
  hearingScreening: 'newborn-hearing-screening',
  laboratory: 'screening-laboratory',
  gp: 'gp-system',
  pas: 'pas',
  mentalHealth: 'mental-health-ehr',
  education: 'school-mis',
  sen: 'sen-case-system',
  socialCare: 'case-system',
} as const;
