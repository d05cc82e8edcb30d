import { getMetadataStorage } from 'class-validator';
import type { MetadataStorage } from 'class-validator';

type RulesLookup = MetadataStorage['getTargetValidationMetadatas'];
type Rules = ReturnType<RulesLookup>;

const REMEMBERING = Symbol.for('baton.validation-rules-remembered');

/**
 * Makes class-validator remember the rules it finds for each class.
 *
 * On every validation, class-validator finds a class's rules by testing that class against every
 * class that has rules, to collect the inherited ones (typestack/class-validator#2686). The cost
 * grows with the number of DTOs a service loads, and it is paid on each request and each NATS
 * message. The answer changes only when a rule is registered. Rules are registered when a class is
 * defined, so it is kept per class and forgotten whenever any rule is registered. Lookups with
 * groups or against a named schema are not remembered.
 *
 * Idempotent: the storage is global to the process, and it is wrapped once.
 */
export function rememberValidationRules(storage: MetadataStorage = getMetadataStorage()): void {
  const marked = storage as MetadataStorage & { [REMEMBERING]?: true };
  if (marked[REMEMBERING]) {
    return;
  }
  marked[REMEMBERING] = true;

  const lookup: RulesLookup = storage.getTargetValidationMetadatas.bind(storage);
  // by class, then by the two flags (always, strictGroups) as 0..3
  let remembered = new WeakMap<object, Rules[]>();
  const forget = (): void => {
    remembered = new WeakMap();
  };

  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    if (typeof target !== 'function' || schema || (groups !== undefined && groups.length > 0)) {
      return lookup(target, schema, always, strictGroups, groups);
    }
    const slot = (always ? 1 : 0) + (strictGroups ? 2 : 0);
    let byFlags = remembered.get(target);
    const known = byFlags?.[slot];
    if (known) {
      return known;
    }
    const rules = lookup(target, schema, always, strictGroups, groups);
    if (!byFlags) {
      byFlags = [];
      remembered.set(target, byFlags);
    }
    byFlags[slot] = rules;
    return rules;
  };

  const addRule = storage.addValidationMetadata.bind(storage);
  storage.addValidationMetadata = (metadata) => {
    forget();
    addRule(metadata);
  };
  const addConstraint = storage.addConstraintMetadata.bind(storage);
  storage.addConstraintMetadata = (metadata) => {
    forget();
    addConstraint(metadata);
  };
}
