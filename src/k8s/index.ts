/** The resource model: types, parsing, loading, validation, defaults, kinds, selectors. */
export * from './types.js';
export { ALL_KINDS, KINDS, resolveKind, kindOf, knownKindsList, type KindInfo } from './kinds.js';
export { parseManifest, sourceLabel, type DocSource, type ManifestDoc } from './parse.js';
export { loadManifests, manifestFiles, type ManifestFile } from './load.js';
export { validateObject, validateBatch, requireKind, unknownKindMessage, type BatchResult, type FieldProblem, type ObjectValidation } from './validate.js';
export { applyDefaults } from './defaults.js';
export { selectorMatches, requirementsMatch, checkSelector, requirementsOf, parseSelectorString, parseSelectorRequirements, SELECTOR_OPERATORS } from './selector.js';
