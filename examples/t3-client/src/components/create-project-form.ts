/**
 * A form as a T3 app writes it: it submits a mutation and shows, under each
 * field, the messages the server's input validation put in
 * err.data.zodError (create-t3-app's errorFormatter sends zod's
 * error.flatten() there). Written against the DOM so that it type-checks
 * without React; in a component the same reads go in useMutation's onError.
 */
import { TRPCClientError } from '@trpc/client';

import { api, type RouterInputs, type RouterOutputs } from '~/utils/api';
import { type AppRouter } from '~/server/packshot-router';

type CreateProjectInput = RouterInputs['project']['create'];
type Project = RouterOutputs['project']['create'];

/** The form's fields, keyed like the procedure's input. */
type FieldName = keyof CreateProjectInput;

/** isTRPCClientError narrows an unknown error to this router's client error. */
export function isTRPCClientError(err: unknown): err is TRPCClientError<AppRouter> {
  return err instanceof TRPCClientError;
}

/** Per-field messages and the messages about the whole input. */
export interface FormErrors {
  fields: Partial<Record<FieldName, string[]>>;
  form: string[];
}

/** formErrors reads a failed call the way T3 forms do. */
export function formErrors(err: unknown): FormErrors {
  if (!isTRPCClientError(err)) return { fields: {}, form: ['Something went wrong'] };
  const zodError = err.data?.zodError;
  if (!zodError) return { fields: {}, form: [err.message] };
  return {
    fields: {
      name: zodError.fieldErrors.name,
      marketplace: zodError.fieldErrors.marketplace,
      title: zodError.fieldErrors.title,
      features: zodError.fieldErrors.features,
      dimensions: zodError.fieldErrors.dimensions,
    },
    form: zodError.formErrors,
  };
}

/** mountCreateProjectForm wires a <form> with a "name" and a "title" input. */
export function mountCreateProjectForm(form: HTMLFormElement, onCreated: (p: Project) => void): void {
  const show = (field: string, messages: string[] | undefined) => {
    const el = form.querySelector<HTMLElement>(`[data-error-for="${field}"]`);
    if (el) el.textContent = messages?.join(', ') ?? '';
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const input: CreateProjectInput = {
      name: String(data.get('name') ?? ''),
      title: String(data.get('title') ?? '') || null,
    };
    api.project.create
      .mutate(input)
      .then((project) => {
        show('name', undefined);
        show('title', undefined);
        onCreated(project);
      })
      .catch((err: unknown) => {
        // The line every T3 form has: err.data?.zodError?.fieldErrors.<field>.
        const nameErrors = isTRPCClientError(err) ? err.data?.zodError?.fieldErrors.name : undefined;
        show('name', nameErrors);
        const { fields, form: whole } = formErrors(err);
        show('title', fields.title);
        show('form', whole);
        if (isTRPCClientError(err) && err.data?.code === 'TOO_MANY_REQUESTS') {
          show('form', [`Try again in ${err.data.retryAfterSeconds ?? 60} s`]);
        }
      });
  });
}

/** A project's creation time is a Date: superjson carries it as one. */
export function createdLabel(p: Project): string {
  return p.createdAt.toLocaleString();
}
