import type { Task } from '../config/schema.js';
import { jesError, type Issue } from '../errors/index.js';
import type { MatchedAction } from '../matching/index.js';
import type { Settings } from '../settings/index.js';

/**
 * What the operator allows config authors: images and namespaces (globs, `*` = any characters), privileged
 * containers, and Secrets (never the one holding the Keptn API token, which init containers read in the jobs
 * namespace). Every task of every matched action is checked before anything is created; one refusal refuses all.
 */

export type PolicySettings = Pick<
  Settings['jobs'],
  'allowedImages' | 'allowedNamespaces' | 'allowPrivileged' | 'namespace'
> & {
  /** Secrets no task may read (KEPTN_API_TOKEN_SECRET's). */
  readonly protectedSecrets?: readonly string[];
};

export function globMatches(pattern: string, value: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(value);
}

export function checkTask(
  task: Task,
  settings: PolicySettings,
): {
  kind:
    | 'POLICY_IMAGE_NOT_ALLOWED'
    | 'POLICY_NAMESPACE_NOT_ALLOWED'
    | 'POLICY_PRIVILEGED_NOT_ALLOWED'
    | 'POLICY_SECRET_NOT_ALLOWED';
  message: string;
}[] {
  const problems: ReturnType<typeof checkTask> = [];
  const { allowedImages } = settings;
  if (allowedImages.length > 0 && !allowedImages.some((pattern) => globMatches(pattern, task.image))) {
    problems.push({
      kind: 'POLICY_IMAGE_NOT_ALLOWED',
      message: `image "${task.image}" is not in the image allow-list (ALLOWED_IMAGES: ${allowedImages.join(', ')})`,
    });
  }
  const namespace = task.namespace ?? settings.namespace;
  if (!settings.allowedNamespaces.some((pattern) => globMatches(pattern, namespace))) {
    problems.push({
      kind: 'POLICY_NAMESPACE_NOT_ALLOWED',
      message: `namespace "${namespace}" is not in the namespace allow-list (ALLOWED_NAMESPACES: ${settings.allowedNamespaces.join(', ')})`,
    });
  }
  if (task.securityContext?.privileged === true && !settings.allowPrivileged) {
    problems.push({
      kind: 'POLICY_PRIVILEGED_NOT_ALLOWED',
      message: 'privileged: true is refused (the operator has not set ALLOW_PRIVILEGED_JOBS=true)',
    });
  }
  for (const secret of secretsOf(task)) {
    if (settings.protectedSecrets?.includes(secret) === true) {
      problems.push({
        kind: 'POLICY_SECRET_NOT_ALLOWED',
        message: `Secret "${secret}" holds the executor's Keptn API token (KEPTN_API_TOKEN_SECRET) and cannot be given to a task`,
      });
    }
  }
  return problems;
}

/** The Secrets a task's env reads: whole (JES form, `name`) or one key (`secret`). */
function secretsOf(task: Task): string[] {
  return (task.env ?? [])
    .filter((variable) => variable.valueFrom === 'secret')
    .map((variable) => variable.secret ?? variable.name);
}

/** Throws the first refusal's error, carrying every problem found as an issue. */
export function assertAllowed(matches: readonly MatchedAction[], settings: PolicySettings): void {
  const issues: Issue[] = [];
  let first: ReturnType<typeof checkTask>[number] | undefined;
  for (const { action, actionIndex } of matches) {
    action.tasks.forEach((task, taskIndex) => {
      for (const problem of checkTask(task, settings)) {
        first ??= problem;
        issues.push({ path: `actions[${actionIndex}].tasks[${taskIndex}]`, message: problem.message });
      }
    });
  }
  if (first !== undefined) {
    throw jesError(
      first.kind,
      `Refused by policy, nothing was created: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      { issues },
    );
  }
}
