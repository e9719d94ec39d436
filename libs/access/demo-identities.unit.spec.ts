import { describe, expect, it } from '@jest/globals';
import type { Agency } from '@throughline/contracts';
import { DEMO_COHORT_OPTIONS, generateCohort } from '@throughline/synthetic';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The local OpenID provider's demo agency systems (infra/oidc-demo.json) may publish the whole
 * synthetic demo cohort: every event's source system and organisation is in its agency system's
 * lists, so `npm start`'s feed is accepted with client-credentials tokens.
 */

interface DemoSystem {
  readonly clientId: string;
  readonly agency: Agency;
  readonly sourceSystems: readonly string[];
  readonly organisationCodes: readonly string[];
}

const demo = JSON.parse(readFileSync(join(__dirname, '..', '..', 'infra', 'oidc-demo.json'), 'utf8')) as {
  users: { username: string; organisation: { code: string; type: string }; roles: string[] }[];
  systems: DemoSystem[];
};

describe('infra/oidc-demo.json', () => {
  it('has the seven demo people of issue 12, each with an organisation and roles', () => {
    expect(demo.users.map((user) => user.username)).toEqual([
      'demo-social-worker',
      'demo-health-visitor',
      'demo-school-dsl',
      'demo-camhs-clinician',
      'demo-supervisor',
      'demo-ig-officer',
      'demo-analyst',
    ]);
    for (const user of demo.users) {
      expect(user.organisation.code).toBeTruthy();
      expect(user.organisation.type).toBeTruthy();
      expect(user.roles.length).toBeGreaterThan(0);
    }
  });

  it("lets each agency's demo system publish every event of the synthetic demo cohort", () => {
    const systemOf = new Map(demo.systems.map((system) => [system.agency, system]));
    const outside = new Set<string>();
    for (const event of generateCohort(DEMO_COHORT_OPTIONS).events) {
      const system = systemOf.get(event.source.agency);
      const { system: source, organisation } = event.source;
      if (!system?.sourceSystems.includes(source)) outside.add(`${event.source.agency} system ${source}`);
      if (!organisation || !system?.organisationCodes.includes(organisation))
        outside.add(`${event.source.agency} organisation ${organisation ?? '(none)'}`);
    }
    expect([...outside]).toEqual([]);
  });
});
