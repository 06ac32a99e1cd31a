import { describe } from './describe';
import type { Plan, Step } from './steps';

// `roroot plan` as text: the steps in order, each with its reason and what
// happens when it fails.

export function renderPlan(plan: Plan, root: string): string {
  const lines = [`roroot plan for ${root}: ${plan.active ? 'on' : 'off'} (${plan.reason})`];
  plan.steps.forEach((step, i) => lines.push(...renderStep(step, `${String(i + 1).padStart(3)}  `)));
  if (plan.notes.length > 0) lines.push('', 'notes:', ...plan.notes.map((n) => `  ${n}`));
  if (plan.configErrors.length > 0) lines.push('', 'config lines skipped:', ...plan.configErrors.map((e) => `  ${e}`));
  if (plan.warnings.length > 0) lines.push('', 'warnings:', ...plan.warnings.map((w) => `  ${w}`));
  return lines.join('\n');
}

function renderStep(step: Step, prefix: string): string[] {
  const pad = ' '.repeat(prefix.length);
  const lines = [`${prefix}${step.phase.padEnd(12)}${describe(step)}${step.fatal ? '   [fatal]' : ''}`, `${pad}${' '.repeat(12)}why: ${step.why}`];
  if (step.needs) lines.push(`${pad}${' '.repeat(12)}only if ${step.needs} succeeded`);
  if (step.fallback) {
    lines.push(`${pad}${' '.repeat(12)}if it fails:`);
    for (const f of step.fallback) lines.push(...renderStep(f, `${pad}${' '.repeat(14)}`));
  }
  return lines;
}
