/**
 * Conditions tests depend on. A test that needs root may skip on a developer's machine without
 * it, but never under CI (CI=true): there a missing condition is a failure.
 */
export const isRoot = process.getuid?.() === 0;
export const isCI = process.env.CI === 'true';
