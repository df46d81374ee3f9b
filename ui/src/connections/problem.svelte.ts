// Where the form shows a save's field problem (`replicas[1].url: …`): the field the profile
// loader named, and the form group it lands on (that name, else the first group of its
// section, found in the form's order). Groups read it from the context.

import { getContext, setContext } from 'svelte';

export class FieldProblemState {
  /** The loader's field name and message, while a save's problem is shown. */
  field = $state<string | null>(null);
  message = $state('');
  /** The `data-field` of the group that shows it. */
  target = $state<string | null>(null);

  /** Shows `field: message` on the group of `form` that matches it; returns that group. */
  show(form: HTMLElement, field: string, message: string): HTMLElement | null {
    const groups = [...form.querySelectorAll<HTMLElement>('[data-field]')];
    const section = field.split('.')[0]!;
    const el = groups.find((g) => g.dataset.field === field) ?? groups.find((g) => g.dataset.field?.startsWith(section)) ?? null;
    this.field = field;
    this.message = message;
    this.target = el?.dataset.field ?? null;
    return el;
  }

  clear(): void {
    this.field = null;
    this.message = '';
    this.target = null;
  }
}

const KEY = Symbol('field-problem');
const GROUP = Symbol('field-group-invalid');

export function provideProblem(p: FieldProblemState): void {
  setContext(KEY, p);
}

export function problemState(): FieldProblemState | undefined {
  return getContext<FieldProblemState | undefined>(KEY);
}

/** A group whose inputs are all marked invalid with it (a connection's fields). */
export function provideGroupInvalid(invalid: () => boolean): void {
  setContext(GROUP, invalid);
}

export function groupInvalid(): (() => boolean) | undefined {
  return getContext<(() => boolean) | undefined>(GROUP);
}

let seq = 0;
/** A fresh element id for a label's `for`. */
export function fieldId(): string {
  return `conn-f-${++seq}`;
}
