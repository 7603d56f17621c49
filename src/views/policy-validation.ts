import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { projectPath } from '../project-root.js';
import { SCO_TYPES } from '../stix/validation/catalog.js';
import { isStixType, type Policy } from './policy.js';

/**
 * Checks a policy document before it is stored: its shape (schemas/views/
 * policy.json), then contradictions a schema cannot see. A refused policy gets
 * every problem listed, each naming the property.
 */
export class PolicyError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid maturity policy: ${problems.join('; ')}`);
  }
}

let validateShape: ReturnType<Ajv2020['compile']> | undefined;

function shapeProblems(document: unknown): string[] {
  if (!validateShape) {
    const ajv = new Ajv2020({ allErrors: true });
    validateShape = ajv.compile(JSON.parse(readFileSync(projectPath('schemas', 'views', 'policy.json'), 'utf8')));
  }
  if (validateShape(document)) return [];
  return (validateShape.errors ?? []).map((e) => {
    const where = e.instancePath || '(policy)';
    if (e.keyword === 'additionalProperties') return `${where}: unknown property "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    if (e.keyword === 'enum') return `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    return `${where} ${e.message}`;
  });
}

const SCO_TYPE_SET = new Set(SCO_TYPES);

function contradictions(policy: Policy): string[] {
  const problems: string[] = [];
  const listed = Object.keys(policy.types);
  if (listed.length === 0 && !policy.all_stix_types && !policy.custom_types) {
    problems.push('types: the policy allows no object type at all');
  }
  for (const [type, rule] of Object.entries(policy.types)) {
    if (rule.relationship_types && type !== 'relationship') {
      problems.push(`types.${type}.relationship_types applies only to the relationship type`);
    }
    if (!isStixType(type) && !policy.custom_types && !type.startsWith('x-')) {
      problems.push(`types.${type}: not a STIX 2.1 type; custom types start with "x-"`);
    }
  }
  const limits = policy.indicators;
  if (limits) {
    const stixPatterns = limits.pattern_types === undefined || limits.pattern_types.includes('stix');
    if (!stixPatterns && limits.pattern_class !== undefined && limits.pattern_class !== 'any') {
      problems.push('indicators.pattern_class limits STIX patterns, but indicators.pattern_types does not allow "stix"');
    }
    if (!stixPatterns && limits.observable_types) {
      problems.push('indicators.observable_types limits STIX patterns, but indicators.pattern_types does not allow "stix"');
    }
    for (const entry of limits.observable_types ?? []) {
      const type = entry.split(':')[0]!;
      if (!SCO_TYPE_SET.has(type) && !type.startsWith('x-')) {
        problems.push(`indicators.observable_types: "${entry}" does not name a STIX cyber-observable type`);
      }
    }
  }
  return problems;
}

/** Returns the policy typed, or throws a PolicyError listing every problem. */
export function validatePolicy(document: unknown): Policy {
  const shape = shapeProblems(document);
  if (shape.length > 0) throw new PolicyError(shape);
  const policy = document as Policy;
  const more = contradictions(policy);
  if (more.length > 0) throw new PolicyError(more);
  return policy;
}
