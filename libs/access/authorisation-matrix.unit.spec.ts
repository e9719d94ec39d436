import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Principal } from './principal';
import {
  analysisCoverage,
  decide,
  entryDecider,
  summariseWithheld,
  type AnalysisReading,
  type EntryAttributes,
  type PolicySnapshot,
} from './policy';
import { IDENTIFIABLE_PERMISSIONS, PERMISSIONS, type Permission } from './policy-document';
import { parseAccessPolicy } from './policy-store';

/**
 * The authorisation matrix of the demo policy (infra/access-policy.demo.json), written out by
 * hand as an information-governance officer would sign it off: every demo role × purpose ×
 * permission, and what each person role sees of representative entries for each purpose it may
 * read a chronology for. When the policy file changes, this table must be changed with it, on
 * purpose: it is the reviewed statement of who may do and see what.
 */

const ROOT = join(__dirname, '..', '..');
const readJson = (path: string): unknown => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));
const POLICY = parseAccessPolicy(readJson('infra/access-policy.demo.json'));
const SNAPSHOT: PolicySnapshot = { version: 1, document: POLICY };
/** Every agreement of the demo policy is in force on this day (validFrom 2026-01-01). */
const IN_FORCE = new Date('2026-06-01T12:00:00Z');

interface DemoIdentity {
  username?: string;
  clientId?: string;
  name?: string;
  organisation: { code: string; type: string };
  roles: string[];
}
const demo = readJson('infra/oidc-demo.json') as { users: DemoIdentity[]; systems: DemoIdentity[] };

/** A demo person (or the monitoring system) as the token verifier would make them. */
function demoPrincipal(name: string, roles?: string[]): Principal {
  const identity = [...demo.users, ...demo.systems].find((i) => (i.username ?? i.clientId) === name);
  if (!identity) throw new Error(`no demo identity ${name}`);
  return {
    kind: identity.username ? 'person' : 'system',
    userId: name,
    organisation: identity.organisation,
    roles: roles ?? identity.roles,
  };
}

/** Each demo role, held alone, in the organisation of the demo identity that has it. */
const ROLE_HOLDERS: Record<string, Principal> = {
  'social-worker': demoPrincipal('demo-social-worker'),
  supervisor: demoPrincipal('demo-supervisor', ['supervisor']),
  'health-visitor': demoPrincipal('demo-health-visitor'),
  'camhs-clinician': demoPrincipal('demo-camhs-clinician'),
  'school-dsl': demoPrincipal('demo-school-dsl'),
  'ig-officer': demoPrincipal('demo-ig-officer'),
  analyst: demoPrincipal('demo-analyst'),
  operator: demoPrincipal('demo-monitoring'),
};

// ---------------------------------------------------------------------------------------------
// Role × purpose × permission

/** Columns: direct-care, safeguarding, supervision, identity-review, information-governance, data-quality, operations, analysis, service-management. */
const PURPOSE_COLUMNS = [
  'direct-care',
  'safeguarding',
  'supervision',
  'identity-review',
  'information-governance',
  'data-quality',
  'operations',
  'analysis',
  'service-management',
] as const;

// Y allowed, . denied (403).
const MATRIX = `
role             permission                  dc sg sv ir ig dq op an sm
social-worker    child:lookup                Y  Y  .  .  .  .  .  .  .
social-worker    timeline:read               Y  Y  .  .  .  .  .  .  .
social-worker    break-glass                 .  Y  .  .  .  .  .  .  .
social-worker    identity:read               .  .  .  .  .  .  .  .  .
social-worker    identity:decide             .  .  .  .  .  .  .  .  .
social-worker    dead-letters:read           .  .  .  .  .  .  .  .  .
social-worker    dead-letters:payload        .  .  .  .  .  .  .  .  .
social-worker    dead-letters:redrive        .  .  .  .  .  .  .  .  .
social-worker    governance:read             .  .  .  .  .  .  .  .  .
social-worker    policy:read                 .  .  .  .  .  .  .  .  .
social-worker    policy:change               .  .  .  .  .  .  .  .  .
social-worker    access-notifications:read   Y  Y  .  .  .  .  .  .  .
social-worker    operations:read             .  .  .  .  .  .  .  .  .
social-worker    frameworks:read             Y  Y  .  .  .  .  .  .  .
social-worker    frameworks:change           .  .  .  .  .  .  .  .  .
social-worker    reviews:read                .  .  .  .  .  .  .  .  .
social-worker    analysis:query              .  .  .  .  .  .  .  .  .
supervisor       child:lookup                Y  Y  Y  .  .  .  .  .  .
supervisor       timeline:read               Y  Y  Y  .  .  .  .  .  .
supervisor       break-glass                 .  Y  .  .  .  .  .  .  .
supervisor       identity:read               .  .  .  Y  .  .  .  .  .
supervisor       identity:decide             .  .  .  Y  .  .  .  .  .
supervisor       dead-letters:read           .  .  .  .  .  .  .  .  .
supervisor       dead-letters:payload        .  .  .  .  .  .  .  .  .
supervisor       dead-letters:redrive        .  .  .  .  .  .  .  .  .
supervisor       governance:read             .  .  .  .  .  .  .  .  .
supervisor       policy:read                 .  .  .  .  .  .  .  .  .
supervisor       policy:change               .  .  .  .  .  .  .  .  .
supervisor       access-notifications:read   .  Y  Y  .  .  .  .  .  .
supervisor       operations:read             .  .  .  .  .  .  .  .  .
supervisor       frameworks:read             Y  Y  Y  .  .  .  .  .  Y
supervisor       frameworks:change           .  .  .  .  .  .  .  .  Y
supervisor       reviews:read                .  .  Y  .  .  .  .  .  .
supervisor       analysis:query              .  .  .  .  .  .  .  .  .
health-visitor   child:lookup                Y  Y  .  .  .  .  .  .  .
health-visitor   timeline:read               Y  Y  .  .  .  .  .  .  .
health-visitor   break-glass                 .  Y  .  .  .  .  .  .  .
health-visitor   identity:read               .  .  .  .  .  .  .  .  .
health-visitor   identity:decide             .  .  .  .  .  .  .  .  .
health-visitor   dead-letters:read           .  .  .  .  .  .  .  .  .
health-visitor   dead-letters:payload        .  .  .  .  .  .  .  .  .
health-visitor   dead-letters:redrive        .  .  .  .  .  .  .  .  .
health-visitor   governance:read             .  .  .  .  .  .  .  .  .
health-visitor   policy:read                 .  .  .  .  .  .  .  .  .
health-visitor   policy:change               .  .  .  .  .  .  .  .  .
health-visitor   access-notifications:read   .  .  .  .  .  .  .  .  .
health-visitor   operations:read             .  .  .  .  .  .  .  .  .
health-visitor   frameworks:read             Y  Y  .  .  .  .  .  .  .
health-visitor   frameworks:change           .  .  .  .  .  .  .  .  .
health-visitor   reviews:read                .  .  .  .  .  .  .  .  .
health-visitor   analysis:query              .  .  .  .  .  .  .  .  .
camhs-clinician  child:lookup                Y  Y  .  .  .  .  .  .  .
camhs-clinician  timeline:read               Y  Y  .  .  .  .  .  .  .
camhs-clinician  break-glass                 .  Y  .  .  .  .  .  .  .
camhs-clinician  identity:read               .  .  .  .  .  .  .  .  .
camhs-clinician  identity:decide             .  .  .  .  .  .  .  .  .
camhs-clinician  dead-letters:read           .  .  .  .  .  .  .  .  .
camhs-clinician  dead-letters:payload        .  .  .  .  .  .  .  .  .
camhs-clinician  dead-letters:redrive        .  .  .  .  .  .  .  .  .
camhs-clinician  governance:read             .  .  .  .  .  .  .  .  .
camhs-clinician  policy:read                 .  .  .  .  .  .  .  .  .
camhs-clinician  policy:change               .  .  .  .  .  .  .  .  .
camhs-clinician  access-notifications:read   .  .  .  .  .  .  .  .  .
camhs-clinician  operations:read             .  .  .  .  .  .  .  .  .
camhs-clinician  frameworks:read             Y  Y  .  .  .  .  .  .  .
camhs-clinician  frameworks:change           .  .  .  .  .  .  .  .  .
camhs-clinician  reviews:read                .  .  .  .  .  .  .  .  .
camhs-clinician  analysis:query              .  .  .  .  .  .  .  .  .
school-dsl       child:lookup                .  Y  .  .  .  .  .  .  .
school-dsl       timeline:read               .  Y  .  .  .  .  .  .  .
school-dsl       break-glass                 .  Y  .  .  .  .  .  .  .
school-dsl       identity:read               .  .  .  .  .  .  .  .  .
school-dsl       identity:decide             .  .  .  .  .  .  .  .  .
school-dsl       dead-letters:read           .  .  .  .  .  .  .  .  .
school-dsl       dead-letters:payload        .  .  .  .  .  .  .  .  .
school-dsl       dead-letters:redrive        .  .  .  .  .  .  .  .  .
school-dsl       governance:read             .  .  .  .  .  .  .  .  .
school-dsl       policy:read                 .  .  .  .  .  .  .  .  .
school-dsl       policy:change               .  .  .  .  .  .  .  .  .
school-dsl       access-notifications:read   .  .  .  .  .  .  .  .  .
school-dsl       operations:read             .  .  .  .  .  .  .  .  .
school-dsl       frameworks:read             .  Y  .  .  .  .  .  .  .
school-dsl       frameworks:change           .  .  .  .  .  .  .  .  .
school-dsl       reviews:read                .  .  .  .  .  .  .  .  .
school-dsl       analysis:query              .  .  .  .  .  .  .  .  .
ig-officer       child:lookup                .  .  .  .  .  .  .  .  .
ig-officer       timeline:read               .  .  .  .  .  .  .  .  .
ig-officer       break-glass                 .  .  .  .  .  .  .  .  .
ig-officer       identity:read               .  .  .  .  .  .  .  .  .
ig-officer       identity:decide             .  .  .  .  .  .  .  .  .
ig-officer       dead-letters:read           .  .  .  .  Y  Y  .  .  .
ig-officer       dead-letters:payload        .  .  .  .  .  Y  .  .  .
ig-officer       dead-letters:redrive        .  .  .  .  .  Y  .  .  .
ig-officer       governance:read             .  .  .  .  Y  .  .  .  .
ig-officer       policy:read                 .  .  .  .  Y  .  .  .  .
ig-officer       policy:change               .  .  .  .  Y  .  .  .  .
ig-officer       access-notifications:read   .  .  .  .  Y  .  .  .  .
ig-officer       operations:read             .  .  .  .  .  .  Y  .  .
ig-officer       frameworks:read             .  .  .  .  Y  .  .  .  .
ig-officer       frameworks:change           .  .  .  .  .  .  .  .  .
ig-officer       reviews:read                .  .  .  .  .  .  .  .  .
ig-officer       analysis:query              .  .  .  .  .  .  .  .  .
analyst          child:lookup                .  .  .  .  .  .  .  .  .
analyst          timeline:read               .  .  .  .  .  .  .  .  .
analyst          break-glass                 .  .  .  .  .  .  .  .  .
analyst          identity:read               .  .  .  .  .  .  .  .  .
analyst          identity:decide             .  .  .  .  .  .  .  .  .
analyst          dead-letters:read           .  .  .  .  .  .  .  .  .
analyst          dead-letters:payload        .  .  .  .  .  .  .  .  .
analyst          dead-letters:redrive        .  .  .  .  .  .  .  .  .
analyst          governance:read             .  .  .  .  .  .  .  .  .
analyst          policy:read                 .  .  .  .  .  .  .  .  .
analyst          policy:change               .  .  .  .  .  .  .  .  .
analyst          access-notifications:read   .  .  .  .  .  .  .  .  .
analyst          operations:read             .  .  .  .  .  .  .  .  .
analyst          frameworks:read             .  .  .  .  .  .  .  Y  .
analyst          frameworks:change           .  .  .  .  .  .  .  .  .
analyst          reviews:read                .  .  .  .  .  .  .  .  .
analyst          analysis:query              .  .  .  .  .  .  .  Y  .
operator         child:lookup                .  .  .  .  .  .  .  .  .
operator         timeline:read               .  .  .  .  .  .  .  .  .
operator         break-glass                 .  .  .  .  .  .  .  .  .
operator         identity:read               .  .  .  .  .  .  .  .  .
operator         identity:decide             .  .  .  .  .  .  .  .  .
operator         dead-letters:read           .  .  .  .  .  .  Y  .  .
operator         dead-letters:payload        .  .  .  .  .  .  .  .  .
operator         dead-letters:redrive        .  .  .  .  .  .  .  .  .
operator         governance:read             .  .  .  .  .  .  .  .  .
operator         policy:read                 .  .  .  .  .  .  .  .  .
operator         policy:change               .  .  .  .  .  .  .  .  .
operator         access-notifications:read   .  .  .  .  .  .  .  .  .
operator         operations:read             .  .  .  .  .  .  Y  .  .
operator         frameworks:read             .  .  .  .  .  .  .  .  .
operator         frameworks:change           .  .  .  .  .  .  .  .  .
operator         reviews:read                .  .  .  .  .  .  .  .  .
operator         analysis:query              .  .  .  .  .  .  .  .  .
`;

interface Cell {
  readonly role: string;
  readonly permission: Permission;
  readonly purpose: string;
  readonly allowed: boolean;
}

const CELLS: Cell[] = MATRIX.trim()
  .split('\n')
  .slice(1)
  .flatMap((line) => {
    const [role, permission, ...marks] = line.trim().split(/\s+/);
    if (marks.length !== PURPOSE_COLUMNS.length)
      throw new Error(`matrix line "${line}": ${PURPOSE_COLUMNS.length} columns expected`);
    return marks.map((mark, column) => ({
      role,
      permission: permission as Permission,
      purpose: PURPOSE_COLUMNS[column],
      allowed: mark === 'Y',
    }));
  });

describe('the demo policy: role × purpose × permission', () => {
  it('the table covers every role and purpose of the policy and every permission, once each', () => {
    const keys = CELLS.map((cell) => `${cell.role} ${cell.permission} ${cell.purpose}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...new Set(CELLS.map((cell) => cell.role))]).toEqual(POLICY.roles.map((role) => role.id));
    expect([...new Set(CELLS.map((cell) => cell.permission))]).toEqual([...PERMISSIONS]);
    expect([...PURPOSE_COLUMNS].sort()).toEqual(POLICY.purposes.map((purpose) => purpose.id).sort());
    expect(Object.keys(ROLE_HOLDERS)).toEqual(POLICY.roles.map((role) => role.id));
  });

  it('allows exactly what the table says, and names the rule when it refuses', () => {
    const differences = CELLS.flatMap((cell) => {
      const decision = decide(SNAPSHOT, {
        principal: ROLE_HOLDERS[cell.role],
        permission: cell.permission,
        purpose: cell.purpose,
      });
      if (decision.allowed !== cell.allowed)
        return [
          `${cell.role} ${cell.permission} ${cell.purpose}: ${decision.allowed ? 'allowed' : 'denied'}`,
        ];
      if (decision.allowed) expect(decision.roles).toEqual([cell.role]);
      else
        expect(decision).toEqual({
          allowed: false,
          rule: 'role-grants-permission',
          reason: `role ${cell.role} may not ${cell.permission} for purpose ${cell.purpose}`,
        });
      return [];
    });
    expect(differences).toEqual([]);
  });

  it('refuses a purpose the policy does not know, by name, whatever the role', () => {
    for (const principal of Object.values(ROLE_HOLDERS))
      expect(
        decide(SNAPSHOT, { principal, permission: 'timeline:read', purpose: 'curiosity' }),
      ).toMatchObject({
        allowed: false,
        rule: 'known-purpose',
        reason: expect.stringContaining('purpose "curiosity" is not one of the policy\'s purposes'),
      });
  });

  it('never lets an analyst near an identifiable chronology, for any purpose', () => {
    const analyst = demoPrincipal('demo-analyst');
    for (const permission of IDENTIFIABLE_PERMISSIONS)
      for (const purpose of PURPOSE_COLUMNS)
        expect([
          permission,
          purpose,
          decide(SNAPSHOT, { principal: analyst, permission, purpose }).allowed,
        ]).toEqual([permission, purpose, false]);
    // And no policy may grant an identifiable permission for a non-identifiable purpose at all.
    const granting = structuredClone(readJson('infra/access-policy.demo.json')) as {
      roles: { id: string; grants: { permission: string; purposes: string[] }[] }[];
    };
    const role = granting.roles.findIndex((r) => r.id === 'analyst');
    granting.roles[role].grants.push({ permission: 'timeline:read', purposes: ['analysis'] });
    const added = granting.roles[role].grants.length - 1;
    expect(() => parseAccessPolicy(granting)).toThrow(
      expect.objectContaining({
        code: 'VALIDATION',
        issues: [
          expect.objectContaining({
            path: `policy.roles.${role}.grants.${added}.purposes.0`,
            rule: 'identifiable-purpose',
          }),
        ],
      }),
    );
  });

  it('grants a person with two roles what either grants, recorded under each role that grants it', () => {
    const supervisor = demoPrincipal('demo-supervisor');
    expect(supervisor.roles).toEqual(['supervisor', 'social-worker']);
    expect(
      decide(SNAPSHOT, { principal: supervisor, permission: 'timeline:read', purpose: 'direct-care' }),
    ).toEqual({
      allowed: true,
      roles: ['social-worker', 'supervisor'],
    });
    expect(
      decide(SNAPSHOT, { principal: supervisor, permission: 'timeline:read', purpose: 'supervision' }),
    ).toEqual({
      allowed: true,
      roles: ['supervisor'],
    });
  });
});

// ---------------------------------------------------------------------------------------------
// What each person role sees of a chronology, per purpose

/** Representative entries, as the read model keeps them (agency, type, special categories, recorder). */
const ENTRIES = {
  /** A GP's immunisation record. */
  immunisation: {
    agency: 'health',
    type: 'health.immunisation.given',
    specialCategories: [],
    sourceOrganisation: 'DEMO-GP',
  },
  /** A CAMHS referral by the mental health trust: special category mental-health. */
  camhsReferral: {
    agency: 'health',
    type: 'health.camhs.referred',
    specialCategories: ['mental-health'],
    sourceOrganisation: 'DEMO-MHT',
  },
  /** A newborn blood spot result from the screening laboratory: special category genetic. */
  bloodSpot: {
    agency: 'health',
    type: 'health.newborn-blood-spot.screened',
    specialCategories: ['genetic'],
    sourceOrganisation: 'DEMO-LAB',
  },
  /** A safeguarding concern raised in the emergency department. */
  healthConcern: {
    agency: 'health',
    type: 'health.safeguarding-concern.raised',
    specialCategories: [],
    sourceOrganisation: 'DEMO-ED',
  },
  /** Attendance at another school than the DSL's. */
  attendance: {
    agency: 'education',
    type: 'education.attendance.summarised',
    specialCategories: [],
    sourceOrganisation: '990202',
  },
  /** Attendance at the DSL's own school (990201). */
  attendanceOwnSchool: {
    agency: 'education',
    type: 'education.attendance.summarised',
    specialCategories: [],
    sourceOrganisation: '990201',
  },
  /** A child protection plan started by LA 991. */
  protectionPlan: {
    agency: 'social-care',
    type: 'social-care.child-protection-plan.started',
    specialCategories: [],
    sourceOrganisation: '991',
  },
  /** A practice decision recorded by LA 991's children's services. */
  practiceDecision: {
    agency: 'social-care',
    type: 'practice.decision.recorded',
    specialCategories: [],
    sourceOrganisation: '991',
  },
} satisfies Record<string, EntryAttributes>;
type EntryName = keyof typeof ENTRIES;

const own = 'own-organisation';
const under = (agreement: string) => `agreement ${agreement}@1`;
const withheld = (reason: string) => `withheld: ${reason}`;

/**
 * Per person role and purpose it may read a timeline for: each entry → `own-organisation`,
 * `agreement <id>@<version>`, or `withheld: <the exact reason the answer gives>`.
 */
const VISIBILITY: Record<string, Record<string, Record<EntryName, string>>> = {
  'social-worker': {
    'direct-care': {
      immunisation: under('vale-health-to-childrens-services'),
      camhsReferral: withheld(
        'health mental-health-services (mental-health): no agreement shares it with role social-worker, purpose direct-care',
      ),
      bloodSpot: withheld('genetic: no agreement covers it for role social-worker, purpose direct-care'),
      healthConcern: under('vale-health-to-childrens-services'),
      attendance: under('vale-education-to-partners'),
      attendanceOwnSchool: under('vale-education-to-partners'),
      protectionPlan: own,
      practiceDecision: own,
    },
    safeguarding: {
      immunisation: under('vale-health-to-childrens-services'),
      camhsReferral: under('vale-camhs-safeguarding'),
      bloodSpot: withheld('genetic: no agreement covers it for role social-worker, purpose safeguarding'),
      healthConcern: under('vale-health-to-childrens-services'),
      attendance: under('vale-education-to-partners'),
      attendanceOwnSchool: under('vale-education-to-partners'),
      protectionPlan: own,
      practiceDecision: own,
    },
  },
  supervisor: {
    'direct-care': {
      immunisation: under('vale-health-to-childrens-services'),
      camhsReferral: withheld(
        'health mental-health-services (mental-health): no agreement shares it with role supervisor, purpose direct-care',
      ),
      bloodSpot: withheld('genetic: no agreement covers it for role supervisor, purpose direct-care'),
      healthConcern: under('vale-health-to-childrens-services'),
      attendance: under('vale-education-to-partners'),
      attendanceOwnSchool: under('vale-education-to-partners'),
      protectionPlan: own,
      practiceDecision: own,
    },
    safeguarding: {
      immunisation: under('vale-health-to-childrens-services'),
      camhsReferral: under('vale-camhs-safeguarding'),
      bloodSpot: withheld('genetic: no agreement covers it for role supervisor, purpose safeguarding'),
      healthConcern: under('vale-health-to-childrens-services'),
      attendance: under('vale-education-to-partners'),
      attendanceOwnSchool: under('vale-education-to-partners'),
      protectionPlan: own,
      practiceDecision: own,
    },
    supervision: {
      immunisation: under('vale-health-to-childrens-services'),
      camhsReferral: withheld(
        'health mental-health-services (mental-health): no agreement shares it with role supervisor, purpose supervision',
      ),
      bloodSpot: withheld('genetic: no agreement covers it for role supervisor, purpose supervision'),
      healthConcern: under('vale-health-to-childrens-services'),
      attendance: under('vale-education-to-partners'),
      attendanceOwnSchool: under('vale-education-to-partners'),
      protectionPlan: own,
      practiceDecision: own,
    },
  },
  'health-visitor': {
    'direct-care': {
      immunisation: under('vale-health-within-health'),
      camhsReferral: withheld(
        'health mental-health-services (mental-health): no agreement shares it with role health-visitor, purpose direct-care',
      ),
      bloodSpot: under('vale-health-within-health'),
      healthConcern: under('vale-health-within-health'),
      attendance: under('vale-education-to-partners'),
      attendanceOwnSchool: under('vale-education-to-partners'),
      protectionPlan: withheld(
        'social-care child-protection: no agreement shares it with role health-visitor, purpose direct-care',
      ),
      practiceDecision: withheld(
        'social-care practice: no agreement shares it with role health-visitor, purpose direct-care',
      ),
    },
    safeguarding: {
      immunisation: under('vale-health-within-health'),
      camhsReferral: withheld(
        'health mental-health-services (mental-health): no agreement shares it with role health-visitor, purpose safeguarding',
      ),
      bloodSpot: under('vale-health-within-health'),
      healthConcern: under('vale-health-within-health'),
      attendance: under('vale-education-to-partners'),
      attendanceOwnSchool: under('vale-education-to-partners'),
      protectionPlan: under('vale-childrens-services-to-partners'),
      practiceDecision: under('vale-childrens-services-to-partners'),
    },
  },
  'camhs-clinician': {
    'direct-care': {
      immunisation: under('vale-health-within-health'),
      camhsReferral: own,
      bloodSpot: under('vale-health-within-health'),
      healthConcern: under('vale-health-within-health'),
      attendance: under('vale-education-to-partners'),
      attendanceOwnSchool: under('vale-education-to-partners'),
      protectionPlan: withheld(
        'social-care child-protection: no agreement shares it with role camhs-clinician, purpose direct-care',
      ),
      practiceDecision: withheld(
        'social-care practice: no agreement shares it with role camhs-clinician, purpose direct-care',
      ),
    },
    safeguarding: {
      immunisation: under('vale-health-within-health'),
      camhsReferral: own,
      bloodSpot: under('vale-health-within-health'),
      healthConcern: under('vale-health-within-health'),
      attendance: under('vale-education-to-partners'),
      attendanceOwnSchool: under('vale-education-to-partners'),
      protectionPlan: under('vale-childrens-services-to-partners'),
      practiceDecision: under('vale-childrens-services-to-partners'),
    },
  },
  'school-dsl': {
    safeguarding: {
      immunisation: withheld(
        'health immunisation: no agreement shares it with role school-dsl, purpose safeguarding',
      ),
      camhsReferral: withheld(
        'health mental-health-services (mental-health): no agreement shares it with role school-dsl, purpose safeguarding',
      ),
      bloodSpot: withheld(
        'health birth-and-screening (genetic): no agreement shares it with role school-dsl, purpose safeguarding',
      ),
      healthConcern: under('vale-health-to-schools'),
      attendance: withheld(
        'education school-attendance: no agreement shares it with role school-dsl, purpose safeguarding',
      ),
      attendanceOwnSchool: own,
      protectionPlan: under('vale-childrens-services-to-partners'),
      practiceDecision: under('vale-childrens-services-to-partners'),
    },
  },
};

/** What a role holder sees of each entry for a purpose, in the words of VISIBILITY. */
function seen(
  principal: Principal,
  purpose: string,
  options: { now?: Date; snapshot?: PolicySnapshot; breakGlass?: { id: string } } = {},
): Record<EntryName, string> {
  const snapshot = options.snapshot ?? SNAPSHOT;
  const decision = decide(snapshot, { principal, permission: 'timeline:read', purpose });
  if (!decision.allowed) throw new Error(`${principal.userId} may not read a timeline for ${purpose}`);
  const decideEntry = entryDecider(
    snapshot,
    {
      principal,
      purpose,
      roles: decision.roles,
      ...(options.breakGlass ? { breakGlass: options.breakGlass } : {}),
    },
    options.now ?? IN_FORCE,
  );
  return Object.fromEntries(
    Object.entries(ENTRIES).map(([name, entry]) => {
      const answer = decideEntry(entry);
      if (!answer.visible) return [name, withheld(answer.reason)];
      const basis = answer.sharedUnder;
      return [
        name,
        basis.basis === 'agreement'
          ? `agreement ${basis.agreement}`
          : basis.basis === 'break-glass'
            ? `break-glass ${basis.grant}`
            : basis.basis,
      ];
    }),
  ) as Record<EntryName, string>;
}

describe('the demo policy: what each person role sees, per purpose', () => {
  const PERSON_ROLES = ['social-worker', 'supervisor', 'health-visitor', 'camhs-clinician', 'school-dsl'];

  it('covers every person role for exactly the purposes it may read a timeline for', () => {
    for (const role of PERSON_ROLES)
      expect([role, Object.keys(VISIBILITY[role]).sort()]).toEqual([
        role,
        CELLS.filter((cell) => cell.role === role && cell.permission === 'timeline:read' && cell.allowed)
          .map((cell) => cell.purpose)
          .sort(),
      ]);
  });

  for (const role of PERSON_ROLES)
    for (const purpose of Object.keys(VISIBILITY[role]))
      it(`${role}, ${purpose}`, () => {
        expect(seen(ROLE_HOLDERS[role], purpose)).toEqual(VISIBILITY[role][purpose]);
      });

  it('a demo supervisor (supervisor and social worker) sees what the table says under both roles', () => {
    const both = seen(demoPrincipal('demo-supervisor'), 'direct-care');
    expect(both.bloodSpot).toBe(
      withheld('genetic: no agreement covers it for role social-worker, supervisor, purpose direct-care'),
    );
    expect(both.immunisation).toBe(under('vale-health-to-childrens-services'));
  });

  it('groups what is withheld by reason, largest group first', () => {
    const principal = ROLE_HOLDERS['school-dsl'];
    const decideEntry = entryDecider(
      SNAPSHOT,
      { principal, purpose: 'safeguarding', roles: ['school-dsl'] },
      IN_FORCE,
    );
    const chronology = [
      ENTRIES.camhsReferral,
      ENTRIES.camhsReferral,
      ENTRIES.attendance,
      ENTRIES.attendanceOwnSchool,
      ENTRIES.protectionPlan,
    ];
    expect(summariseWithheld(chronology.map(decideEntry))).toEqual([
      {
        count: 2,
        reason:
          'health mental-health-services (mental-health): no agreement shares it with role school-dsl, purpose safeguarding',
      },
      {
        count: 1,
        reason:
          'education school-attendance: no agreement shares it with role school-dsl, purpose safeguarding',
      },
    ]);
  });
});

describe('the demo policy: agreements in and out of force, other organisations, break-glass', () => {
  it('withholds what an agreement shared once it has expired (validTo past), and before validFrom', () => {
    const dsl = ROLE_HOLDERS['school-dsl'];
    // vale-health-to-schools runs to 2027-08-31 inclusive.
    expect(seen(dsl, 'safeguarding', { now: new Date('2027-08-31T23:00:00Z') }).healthConcern).toBe(
      under('vale-health-to-schools'),
    );
    expect(seen(dsl, 'safeguarding', { now: new Date('2027-09-01T00:00:00Z') }).healthConcern).toBe(
      withheld(
        'health health-safeguarding: no agreement shares it with role school-dsl, purpose safeguarding',
      ),
    );
    // Every agreement starts on 2026-01-01: the day before, only the caller's own records show.
    expect(seen(dsl, 'safeguarding', { now: new Date('2025-12-31T12:00:00Z') })).toEqual({
      immunisation: withheld(
        'health immunisation: no agreement shares it with role school-dsl, purpose safeguarding',
      ),
      camhsReferral: withheld(
        'health mental-health-services (mental-health): no agreement shares it with role school-dsl, purpose safeguarding',
      ),
      bloodSpot: withheld(
        'health birth-and-screening (genetic): no agreement shares it with role school-dsl, purpose safeguarding',
      ),
      healthConcern: withheld(
        'health health-safeguarding: no agreement shares it with role school-dsl, purpose safeguarding',
      ),
      attendance: withheld(
        'education school-attendance: no agreement shares it with role school-dsl, purpose safeguarding',
      ),
      attendanceOwnSchool: own,
      protectionPlan: withheld(
        'social-care child-protection: no agreement shares it with role school-dsl, purpose safeguarding',
      ),
      practiceDecision: withheld(
        'social-care practice: no agreement shares it with role school-dsl, purpose safeguarding',
      ),
    });
    // After 2028-12-31 only vale-health-within-health (no end date) is left.
    const after = seen(ROLE_HOLDERS['health-visitor'], 'safeguarding', {
      now: new Date('2029-01-01T00:00:00Z'),
    });
    expect(after.immunisation).toBe(under('vale-health-within-health'));
    expect(after.attendance).toBe(
      withheld(
        'education school-attendance: no agreement shares it with role health-visitor, purpose safeguarding',
      ),
    );
  });

  it("withholds from another organisation than the agreement's recipients, and another trust's CAMHS records", () => {
    // A social worker of local authority 992: the health agreements name LA 991 only.
    const elsewhere: Principal = {
      ...ROLE_HOLDERS['social-worker'],
      userId: 'sw-992',
      organisation: { code: '992', type: 'local-authority' },
    };
    const view = seen(elsewhere, 'safeguarding');
    expect(view.immunisation).toBe(
      withheld('health immunisation: no agreement shares it with role social-worker, purpose safeguarding'),
    );
    expect(view.camhsReferral).toBe(
      withheld(
        'health mental-health-services (mental-health): no agreement shares it with role social-worker, purpose safeguarding',
      ),
    );
    // Education's agreement names organisation types only: LA 992 is one.
    expect(view.attendance).toBe(under('vale-education-to-partners'));
    // LA 991's own plan is not LA 992's record, and no agreement shares social care with an LA.
    expect(view.protectionPlan).toBe(
      withheld(
        'social-care child-protection: no agreement shares it with role social-worker, purpose safeguarding',
      ),
    );
    // CAMHS records of another trust than DEMO-MHT are not in the CAMHS agreement.
    const otherTrust = { ...ENTRIES.camhsReferral, sourceOrganisation: 'OTHER-MHT' };
    const decideEntry = entryDecider(
      SNAPSHOT,
      { principal: ROLE_HOLDERS['social-worker'], purpose: 'safeguarding', roles: ['social-worker'] },
      IN_FORCE,
    );
    expect(decideEntry(ENTRIES.camhsReferral)).toEqual({
      visible: true,
      sharedUnder: { basis: 'agreement', agreement: 'vale-camhs-safeguarding@1' },
    });
    expect(decideEntry(otherTrust)).toEqual({
      visible: false,
      reason:
        'health mental-health-services (mental-health): no agreement shares it with role social-worker, purpose safeguarding',
    });
  });

  it("shows the caller's own organisation's records whatever the agreements say", () => {
    const noAgreements: PolicySnapshot = { version: 2, document: { ...POLICY, agreements: [] } };
    expect(
      seen(ROLE_HOLDERS['camhs-clinician'], 'direct-care', { snapshot: noAgreements }).camhsReferral,
    ).toBe(own);
    expect(
      seen(ROLE_HOLDERS['social-worker'], 'direct-care', { snapshot: noAgreements }).protectionPlan,
    ).toBe(own);
    expect(
      seen(ROLE_HOLDERS['school-dsl'], 'safeguarding', { snapshot: noAgreements }).attendanceOwnSchool,
    ).toBe(own);
  });

  it('shows every entry under break-glass, naming the grant', () => {
    const view = seen(ROLE_HOLDERS['school-dsl'], 'safeguarding', { breakGlass: { id: 'grant-1' } });
    expect(Object.values(view)).toEqual(Object.keys(ENTRIES).map(() => 'break-glass grant-1'));
  });
});

// ---------------------------------------------------------------------------------------------
// What an analyst's measures may read (issue 15): agreements for purpose analysis, per agency

describe('the demo policy: which agencies and categories an analysis is covered for', () => {
  const analyst = ROLE_HOLDERS.analyst;
  const covering = (reading: AnalysisReading, options: { now?: Date; principal?: Principal } = {}) =>
    analysisCoverage(
      SNAPSHOT,
      {
        principal: options.principal ?? analyst,
        purpose: 'analysis',
        roles: (options.principal ?? analyst).roles,
      },
      reading,
      options.now ?? IN_FORCE,
    );

  it('covers social care measures under the social care statistics agreement only', () => {
    expect(
      covering({
        eventTypes: ['social-care.referral.received', 'social-care.child-protection-plan.started'],
      }),
    ).toEqual({ covered: true, agreements: ['vale-statistics-social-care@1'] });
  });

  it('covers attendance around a plan start under the education and social care agreements', () => {
    expect(
      covering({
        eventTypes: ['education.attendance.summarised', 'social-care.child-protection-plan.started'],
      }),
    ).toEqual({
      covered: true,
      agreements: ['vale-statistics-education@1', 'vale-statistics-social-care@1'],
    });
  });

  it('needs every agency that may record a practice or outcome type', () => {
    expect(covering({ eventTypes: ['outcome.observation.recorded'] })).toEqual({
      covered: true,
      agreements: [
        'vale-statistics-education@1',
        'vale-statistics-health@1',
        'vale-statistics-social-care@1',
      ],
    });
    // Narrowed to one agency (a cohort entered by social care's records only), one agreement is enough.
    expect(
      covering({
        eventTypes: ['outcome.observation.recorded'],
        agenciesOf: { 'outcome.observation.recorded': ['social-care'] },
      }),
    ).toEqual({ covered: true, agreements: ['vale-statistics-social-care@1'] });
  });

  it('refuses CAMHS records (no statistics agreement shares mental health), naming the agency and category', () => {
    expect(covering({ eventTypes: ['health.camhs.referred', 'health.immunisation.given'] })).toEqual({
      covered: false,
      rule: 'agreement-covers-analysis',
      missing: [{ agency: 'health', category: 'mental-health-services' }],
      reason:
        'health mental-health-services: no agreement in force shares it with role analyst, purpose analysis',
    });
  });

  it('names a type no event category holds by the type', () => {
    expect(covering({ eventTypes: ['social-care.death.recorded'] })).toMatchObject({
      covered: false,
      missing: [{ agency: 'social-care', category: 'social-care.death.recorded' }],
    });
  });

  it('covers ethnicity (special category) under the social care agreement alone', () => {
    expect(
      covering({ eventTypes: ['education.exclusion.recorded'], specialCategories: ['ethnicity'] }),
    ).toEqual({
      covered: true,
      agreements: ['vale-statistics-education@1', 'vale-statistics-social-care@1'],
    });
    expect(
      covering({ eventTypes: ['education.exclusion.recorded'], specialCategories: ['religion'] }),
    ).toMatchObject({
      covered: false,
      missing: [],
      reason: 'religion: no agreement covers it for role analyst, purpose analysis',
    });
  });

  it('covers nothing for another role, another organisation, or once the agreements have expired', () => {
    const reading = { eventTypes: ['social-care.referral.received'] };
    expect(covering(reading, { principal: ROLE_HOLDERS['social-worker'] })).toMatchObject({
      covered: false,
      reason:
        'social-care child-in-need: no agreement in force shares it with role social-worker, purpose analysis',
    });
    expect(
      covering(reading, {
        principal: {
          ...analyst,
          userId: 'analyst-992',
          organisation: { code: '992', type: 'local-authority' },
        },
      }),
    ).toMatchObject({ covered: false });
    expect(covering(reading, { now: new Date('2029-01-01T00:00:00Z') })).toMatchObject({
      covered: false,
      missing: [{ agency: 'social-care', category: 'child-in-need' }],
    });
  });

  it("does not count an agreement shared by some of an agency's organisations only", () => {
    const document = structuredClone(POLICY);
    const index = document.agreements.findIndex((agreement) => agreement.id === 'vale-statistics-education');
    document.agreements[index] = { ...document.agreements[index], providingOrganisations: ['990201'] };
    expect(
      analysisCoverage(
        { version: 2, document },
        { principal: analyst, purpose: 'analysis', roles: ['analyst'] },
        { eventTypes: ['education.attendance.summarised'] },
        IN_FORCE,
      ),
    ).toMatchObject({ covered: false, missing: [{ agency: 'education', category: 'school-attendance' }] });
  });
});
