import type { EventOfType } from '@throughline/contracts';
import { ageInYears } from './calendar';
import { Random } from './random';

/**
 * Practice events: decisions with their rationale, the options weighed and what is uncertain,
 * and the voice of the child kept apart from anyone's reading of it. The social-care and SEN
 * histories call these at the moments a practitioner would record them.
 */

type DecisionData = EventOfType<'practice.decision.recorded'>['data'];
type VoiceData = EventOfType<'practice.voice-of-child.recorded'>['data'];
type Practitioner = DecisionData['decidedBy'];

export type DecisionKind =
  | 'start-section-47'
  | 'assessment-no-further-action'
  | 'assessment-early-help'
  | 'assessment-child-in-need'
  | 'accommodate-section-20'
  | 'issue-care-proceedings'
  | 'end-protection-plan'
  | 'step-down-protection-plan'
  | 'ehc-assess'
  | 'ehc-do-not-assess';

const TEAM_MANAGER: Practitioner = { role: 'team manager', agency: 'social-care' };
const HEAD_OF_SERVICE: Practitioner = { role: 'head of service', agency: 'social-care' };
const CONFERENCE_CHAIR: Practitioner = { role: 'independent conference chair', agency: 'social-care' };
const SEN_PANEL_CHAIR: Practitioner = { role: 'SEN panel chair', agency: 'education' };

type ExpectedOutcome = NonNullable<DecisionData['expectedOutcomes']>[number];

const expectIn = (framework: string, domain: string, lookFor: string): ExpectedOutcome => ({
  framework,
  domain,
  lookFor,
});

/**
 * What the decision-makers expect each kind of decision to change, and how they will know; and
 * the team that holds its review. An SEN panel expects change in learning (enjoy and achieve),
 * not in safety.
 */
const EXPECTED: Readonly<
  Record<DecisionKind, { team: string; outcomes: (name: string) => ExpectedOutcome[] }>
> = {
  'start-section-47': {
    team: 'Assessment team 2',
    outcomes: (name) => [
      expectIn(
        'signs-of-safety',
        'safety',
        `${name} seen alone within 24 hours and an account of the injury; a safety plan agreed with the family before ${name} goes home.`,
      ),
      expectIn(
        'ecm',
        'stay-safe',
        'No further injury; school and health report no new worries while the enquiry runs.',
      ),
    ],
  },
  'assessment-no-further-action': {
    team: 'Assessment team 2',
    outcomes: () => [
      expectIn('ecm', 'stay-safe', 'No new contact about the family in the next three months.'),
      expectIn('ecm', 'enjoy-and-achieve', 'Attendance stays above 90% and the school raises no new worry.'),
    ],
  },
  'assessment-early-help': {
    team: 'Early help hub',
    outcomes: (name) => [
      expectIn(
        'ecm',
        'be-healthy',
        `Bedtime and morning routines in place most days; ${name} arrives at school fed and on time.`,
      ),
      expectIn('ecm', 'enjoy-and-achieve', 'Attendance back above 90% within a term.'),
      expectIn(
        'journey-of-change',
        'family-routine',
        "The family's own star score for routines moves up by two points by the end of the plan.",
      ),
    ],
  },
  'assessment-child-in-need': {
    team: 'Children in need team 1',
    outcomes: (name) => [
      expectIn(
        'ecm',
        'be-healthy',
        `The parent's own health support in place; ${name}'s health appointments kept.`,
      ),
      expectIn(
        'ecm',
        'enjoy-and-achieve',
        `${name} in school every day; the class teacher sees them settled.`,
      ),
      expectIn(
        'signs-of-safety',
        'safety',
        'Scaling from the family and the network moves up by two points or more.',
      ),
    ],
  },
  'accommodate-section-20': {
    team: 'Children in care team',
    outcomes: (name) => [
      expectIn('ecm', 'stay-safe', `${name} settled in the placement, no missing episodes.`),
      expectIn(
        'signs-of-safety',
        'safety',
        'Family time goes well and the safety network agrees a plan for a return home, or says why not.',
      ),
    ],
  },
  'issue-care-proceedings': {
    team: 'Children in care team',
    outcomes: (name) => [
      expectIn('ecm', 'stay-safe', `${name} safe and settled in foster care; no missing episodes.`),
      expectIn(
        'ecm',
        'be-healthy',
        'Initial health assessment within 20 working days; sleeping and eating well.',
      ),
      expectIn('ecm', 'enjoy-and-achieve', `${name} stays at the same school, attending every day.`),
    ],
  },
  'end-protection-plan': {
    team: 'Child protection team',
    outcomes: () => [
      expectIn(
        'signs-of-safety',
        'safety',
        'Scaling stays at 7 or above from the family, the child and the network for the next three months.',
      ),
    ],
  },
  'step-down-protection-plan': {
    team: 'Children in need team 1',
    outcomes: (name) => [
      expectIn(
        'signs-of-safety',
        'safety',
        'The safety plan keeps working with fewer visits; scaling does not drop below 6.',
      ),
      expectIn('ecm', 'enjoy-and-achieve', `${name}'s attendance and engagement at school hold up.`),
    ],
  },
  'ehc-assess': {
    team: 'SEN team',
    outcomes: (name) => [
      expectIn(
        'ecm',
        'enjoy-and-achieve',
        `Advice from the educational psychologist on ${name}'s learning; progress in reading and communication against the school's targets.`,
      ),
    ],
  },
  'ehc-do-not-assess': {
    team: 'SEN team',
    outcomes: (name) => [
      expectIn(
        'ecm',
        'enjoy-and-achieve',
        `${name} makes progress at SEN support with the outreach advice: reading age and engagement at the next two reviews.`,
      ),
    ],
  },
};

/** The kind of a recorded decision, from its text (every kind's text is fixed); undefined for other decisions. */
export function kindOfDecision(decision: string): DecisionKind | undefined {
  return KIND_BY_TEXT.get(decision);
}

/** The content of a decision of that kind about the named child; the caller dates it and sets its review date. */
export function decisionOf(
  kind: DecisionKind,
  name: string,
  rng: Random,
): Omit<DecisionData, 'decidedOn' | 'reviewDate'> {
  const content = decisionContent(kind, name, rng);
  const expected = EXPECTED[kind];
  return { ...content, expectedOutcomes: expected.outcomes(name), team: expected.team };
}

function decisionContent(
  kind: DecisionKind,
  name: string,
  rng: Random,
): Omit<DecisionData, 'decidedOn' | 'reviewDate'> {
  const confidence = rng.pick(['low', 'medium', 'medium', 'high'] as const);
  switch (kind) {
    case 'start-section-47':
      return {
        decision:
          'Start a section 47 enquiry, jointly with the police; the child is seen alone within 24 hours.',
        rationale: `There is reasonable cause to suspect ${name} is suffering, or likely to suffer, significant harm: an injury without a consistent explanation and a history of domestic incidents at the address.`,
        optionsConsidered: [
          {
            option: 'Continue the child and family assessment without an enquiry',
            whyNot: 'The threshold for a section 47 enquiry is met; waiting would leave the worry untested.',
          },
          {
            option: 'Single-agency police investigation',
            whyNot: "The concern is about the child's care at home, not only a possible offence.",
          },
        ],
        uncertainty: `We do not yet know how ${name}'s injury happened or who else was at home. An account from the child and a medical opinion would change the picture.`,
        confidence,
        decidedBy: TEAM_MANAGER,
        forum: 'strategy discussion',
      };
    case 'assessment-no-further-action':
      return {
        decision:
          'No further action by children’s social care; the family is signposted to universal services.',
        rationale: `The assessment found ${name}'s needs are met at home; the parent has support from family and engaged well.`,
        optionsConsidered: [
          {
            option: 'Child in need plan',
            whyNot: 'No unmet need a plan would address; the family did not want further involvement.',
          },
        ],
        uncertainty:
          'The assessment relied on the parent’s account of the incident; school will share any new worry.',
        confidence,
        decidedBy: TEAM_MANAGER,
        forum: 'assessment sign-off',
      };
    case 'assessment-early-help':
      return {
        decision: 'Close to social care and offer an early help plan led by the family support worker.',
        rationale: `Needs are real but below the threshold for a child in need plan; the parent wants help with routines and ${name}'s behaviour.`,
        optionsConsidered: [
          {
            option: 'Child in need plan',
            whyNot: 'Needs can be met by early help with the family’s consent.',
          },
          { option: 'No further action', whyNot: 'The family asked for help and would benefit from it.' },
        ],
        uncertainty: 'Whether the family keeps engaging once statutory involvement ends.',
        confidence,
        decidedBy: TEAM_MANAGER,
        forum: 'assessment sign-off',
      };
    case 'assessment-child-in-need':
      return {
        decision: 'Child in need plan under section 17, reviewed every three months.',
        rationale: `${name} is a child in need: without services their health or development is likely to be impaired. The parent accepts the worries and wants help.`,
        optionsConsidered: [
          {
            option: 'Early help plan',
            whyNot: 'The needs are complex and need a social worker to coordinate.',
          },
          {
            option: 'Strategy discussion',
            whyNot: 'No reasonable cause to suspect significant harm at this point.',
          },
        ],
        uncertainty: 'The parent’s own health is the main unknown; a relapse would raise the level of worry.',
        confidence,
        decidedBy: TEAM_MANAGER,
        forum: 'assessment sign-off',
      };
    case 'accommodate-section-20':
      return {
        decision:
          'Accommodate under section 20 with the parent’s agreement, in foster care, while the family works on returning home.',
        rationale: `Relationships at home have broken down and ${name} cannot safely stay there tonight; the parent agrees to accommodation and keeps parental responsibility.`,
        optionsConsidered: [
          {
            option: 'Family and friends care',
            whyNot: 'No relative able to offer a safe home at short notice.',
          },
          {
            option: 'Apply for an interim care order',
            whyNot: 'The parent agrees; an order is not necessary or proportionate now.',
          },
        ],
        uncertainty:
          'Whether the agreement holds; if the parent withdraws consent we would return to legal planning.',
        confidence,
        decidedBy: HEAD_OF_SERVICE,
        forum: 'legal gateway meeting',
      };
    case 'issue-care-proceedings':
      return {
        decision: 'Issue care proceedings and seek an interim care order; place in foster care.',
        rationale: `Despite the child protection plan, ${name} continues to suffer significant harm; the safety plan has not held and the parent has not engaged with the agreed support.`,
        optionsConsidered: [
          {
            option: 'Continue the child protection plan',
            whyNot: 'Twelve months of the plan have not reduced the risk enough.',
          },
          {
            option: 'Pre-proceedings (public law outline letter)',
            whyNot: 'Tried: the parent did not engage within the period set.',
          },
          {
            option: 'Kinship placement',
            whyNot: 'Assessed grandparent was not able to keep the child safe from the parent.',
          },
        ],
        uncertainty:
          'The court may not agree the threshold is crossed; the parent’s recent engagement could change the plan.',
        confidence,
        decidedBy: HEAD_OF_SERVICE,
        forum: 'legal planning meeting',
      };
    case 'end-protection-plan':
      return {
        decision:
          'End the child protection plan: the child is no longer at continuing risk of significant harm.',
        rationale: `The safety plan has held for six months; ${name} says home is calmer and school reports a settled child.`,
        optionsConsidered: [
          {
            option: 'Continue the plan for a further review',
            whyNot: 'Every agency agreed the risk has reduced; the plan would no longer be proportionate.',
          },
        ],
        uncertainty:
          'The change is recent; a return of the former partner to the household would raise the worry again.',
        confidence,
        decidedBy: CONFERENCE_CHAIR,
        forum: 'review child protection conference',
      };
    case 'step-down-protection-plan':
      return {
        decision: 'End the child protection plan and step down to a child in need plan.',
        rationale: `Risk of significant harm has reduced, but ${name} still needs coordinated support at home and at school.`,
        optionsConsidered: [
          { option: 'Continue the plan', whyNot: 'The threshold for a plan is no longer met.' },
          { option: 'Close the case', whyNot: 'The family still needs support to keep the changes going.' },
        ],
        uncertainty: 'Whether the changes last once contact with the social worker is less frequent.',
        confidence,
        decidedBy: CONFERENCE_CHAIR,
        forum: 'review child protection conference',
      };
    case 'ehc-assess':
      return {
        decision: 'Carry out an EHC needs assessment.',
        rationale: `${name} may have special educational needs that need provision beyond what the school can make from its own resources at SEN support.`,
        optionsConsidered: [
          {
            option: 'Continue at SEN support with an outreach plan',
            whyNot: 'Two cycles of assess, plan, do, review have not closed the gap.',
          },
        ],
        uncertainty: 'The educational psychologist’s advice will decide whether a plan is needed.',
        confidence,
        decidedBy: SEN_PANEL_CHAIR,
        forum: 'SEN panel',
      };
    case 'ehc-do-not-assess':
      return {
        decision:
          'Not to carry out an EHC needs assessment at this time; the school continues SEN support with specialist advice.',
        rationale: `The evidence shows ${name}'s needs can be met from the school's resources with advice from the outreach service.`,
        optionsConsidered: [
          {
            option: 'Carry out an EHC needs assessment',
            whyNot: 'The graduated approach has not yet been tried with specialist advice.',
          },
        ],
        uncertainty:
          'If progress stalls over the next two terms the school or parent may request again; the parent may appeal.',
        confidence,
        decidedBy: SEN_PANEL_CHAIR,
        forum: 'SEN panel',
      };
  }
}

const DECISION_KINDS: readonly DecisionKind[] = [
  'start-section-47',
  'assessment-no-further-action',
  'assessment-early-help',
  'assessment-child-in-need',
  'accommodate-section-20',
  'issue-care-proceedings',
  'end-protection-plan',
  'step-down-protection-plan',
  'ehc-assess',
  'ehc-do-not-assess',
];

// The decision text holds no name, so one draw per kind gives its fixed text.
const KIND_BY_TEXT = new Map(
  DECISION_KINDS.map((kind) => [decisionContent(kind, '', new Random(0)).decision, kind] as const),
);

export type VoiceSetting = 'assessment' | 'protection-visit' | 'care-review' | 'ehc-assessment';

interface Said {
  readonly text: string;
  readonly verbatim: boolean;
  readonly how: VoiceData['capturedHow'];
}

function saidAt(setting: VoiceSetting, age: number, name: string): readonly Said[] {
  const young = age < 5;
  const middle = age >= 5 && age < 11;
  switch (setting) {
    case 'assessment':
      if (young)
        return [
          {
            text: `${name} played with the dolls' house, put the grown-up figures in separate rooms and said "shouty" when asked about bedtime.`,
            verbatim: false,
            how: 'play',
          },
          {
            text: `${name} stayed close to their parent at first, then showed me their bedroom and favourite teddy and said "my room".`,
            verbatim: false,
            how: 'observation',
          },
        ];
      if (middle)
        return [
          {
            text: `${name} drew the family with everyone smiling except themself, standing at the edge of the page: "that's me when they argue".`,
            verbatim: false,
            how: 'drawing',
          },
          {
            text: 'I make my own breakfast when mum is still asleep. I want her to stop being sad.',
            verbatim: true,
            how: 'own-words',
          },
        ];
      return [
        {
          text: "I'm fine. I just don't want to be at home when he's there. School's the only place that's normal.",
          verbatim: true,
          how: 'own-words',
        },
        {
          text: "I don't want social workers coming to school. Everyone will know.",
          verbatim: true,
          how: 'own-words',
        },
      ];
    case 'protection-visit':
      if (middle)
        return [
          {
            text: "It's better now. Nan picks me up on Wednesdays and there's no shouting at night.",
            verbatim: true,
            how: 'own-words',
          },
          {
            text: `${name}'s house of worries had two things in it this time (the dog barking, a boy in class); the house of good things was full.`,
            verbatim: false,
            how: 'drawing',
          },
        ];
      return [
        {
          text: 'Things are calmer but I still check the doors are locked at night.',
          verbatim: true,
          how: 'own-words',
        },
        {
          text: `${name} scored home 7 out of 10 on the safety app: "better than last time, not perfect".`,
          verbatim: false,
          how: 'app-or-questionnaire',
        },
      ];
    case 'care-review':
      if (young)
        return [
          {
            text: `${name} ran to the foster carer for comfort during the visit and chatted happily at tea; settled routines, sleeping well.`,
            verbatim: false,
            how: 'observation',
          },
        ];
      if (middle)
        return [
          {
            text: 'I like living here, she does my hair for school. I want to see my brother more than once a month.',
            verbatim: true,
            how: 'own-words',
          },
          {
            text: `${name} asked the advocate to tell the review they want to keep going to the same school and to see their nan.`,
            verbatim: false,
            how: 'advocate',
          },
        ];
      return [
        {
          text: 'I want to stay where I am until I finish Year 11. Please stop moving me.',
          verbatim: true,
          how: 'own-words',
        },
        {
          text: 'I want to go home. Nobody listens to me about that.',
          verbatim: true,
          how: 'own-words',
        },
        {
          text: `${name} asked the advocate to say they want more say in contact arrangements and their own phone.`,
          verbatim: false,
          how: 'advocate',
        },
      ];
    case 'ehc-assessment':
      if (young)
        return [
          {
            text: `${name} was happiest on the trampoline, used a picture card for "more" and covered their ears when the hall got noisy.`,
            verbatim: false,
            how: 'observation',
          },
        ];
      if (middle)
        return [
          {
            text: 'I like Lego and maths. I don’t like the dinner hall, it’s too loud. I want a quiet place when my head gets too full.',
            verbatim: true,
            how: 'own-words',
          },
          {
            text: `${name} chose symbols on the communication board: happy at the sensory room, sad at "change", "help" for writing.`,
            verbatim: false,
            how: 'interpreter',
          },
        ];
      return [
        {
          text: 'I want to do animal care at college. Lessons go too fast and I get told off for asking.',
          verbatim: true,
          how: 'own-words',
        },
      ];
  }
}

const CAPTURED_BY: Readonly<Record<VoiceSetting, Practitioner>> = {
  assessment: { role: 'social worker', agency: 'social-care' },
  'protection-visit': { role: 'social worker', agency: 'social-care' },
  'care-review': { role: 'independent reviewing officer', agency: 'social-care' },
  'ehc-assessment': { role: 'SENCO', agency: 'education' },
};

const CONTEXT: Readonly<Record<VoiceSetting, readonly string[]>> = {
  assessment: ['home visit, child seen alone in their bedroom', 'school, with a trusted adult nearby'],
  'protection-visit': ['home visit, child seen alone', 'school, in the pastoral room'],
  'care-review': ['foster home, before the review', 'review meeting'],
  'ehc-assessment': ['school, one-to-one with the SENCO', 'school, in class and at play'],
};

const INTERPRETATION: Readonly<Record<VoiceSetting, string>> = {
  assessment:
    'Reads as a child carrying worry about the adults at home; consistent with what school describes.',
  'protection-visit': 'Suggests the safety plan is making a difference the child can feel.',
  'care-review': 'The child’s wishes were put to the review; the care plan records the response to each.',
  'ehc-assessment':
    'Sensory overload at unstructured times is the main barrier; the plan should say how it is met.',
};

/**
 * What the child said or conveyed, fitting their age (play and observation when young, their
 * own words later), who captured it and how. Undefined for a child too young to be asked.
 */
export function voiceOfChild(
  setting: VoiceSetting,
  name: string,
  dateOfBirth: string,
  capturedOn: string,
  rng: Random,
): Omit<VoiceData, 'capturedOn'> | undefined {
  const age = ageInYears(dateOfBirth, capturedOn);
  if (age < 2) return undefined;
  const said = rng.pick(saidAt(setting, age, name));
  const capturedBy =
    said.how === 'advocate'
      ? { role: 'independent advocate', agency: 'voluntary-sector' as const }
      : CAPTURED_BY[setting];
  return {
    whatTheChildSaid: said.text,
    verbatim: said.verbatim,
    capturedHow: said.how,
    capturedBy,
    context: rng.pick(CONTEXT[setting]),
    ...(rng.chance(0.6) ? { interpretation: INTERPRETATION[setting] } : {}),
    // Older children are asked whether what they said may be shared with the other agencies.
    ...(age >= 8 ? { childAgreedToShare: rng.chance(0.8) } : {}),
  };
}
