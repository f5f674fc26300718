import { createHash } from 'node:crypto';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { jesError, type Issue } from '../errors/index.js';
import { compileTypePattern } from '../matching/event-type.js';
import { checkJsonPath } from '../matching/jsonpath.js';
import { collectIssues } from './issues.js';
import { JobConfigSchema, type Action, type JobConfig, type Task } from './schema.js';

/** A parsed, validated configuration and where it came from. */
export interface LoadedConfig {
  readonly config: JobConfig;
  /** sha256 of the raw file, recorded on every Job for provenance. */
  readonly hash: string;
  /** Where the file was found, e.g. `service` or `/etc/jes/config/p/dev/job/config.yaml`. */
  readonly origin: string;
  /** The commit the file was read at, when the source knows it. */
  readonly commit: string | undefined;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Parses and validates `job/config.yaml`. Throws JES_ERR_CONFIG_INVALID carrying one issue per problem, each naming
 * the exact path (and line) and what is expected.
 */
export function parseJobConfig(text: string, origin: string, commit?: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (document.errors.length > 0) {
    const issues = document.errors.map((error) => ({
      path: `line ${lineCounter.linePos(error.pos[0]).line}`,
      message: error.message.split('\n')[0] ?? error.message,
    }));
    throw invalid(origin, issues);
  }
  const value: unknown = document.toJS();
  const issues = collectIssues(JobConfigSchema, value).map((issue) => withLine(document, lineCounter, issue));
  if (issues.length > 0) throw invalid(origin, issues);
  const config = value as JobConfig;
  const semanticIssues = checkSemantics(config).map((issue) => withLine(document, lineCounter, issue));
  if (semanticIssues.length > 0) throw invalid(origin, semanticIssues);
  return { config, hash: createHash('sha256').update(text).digest('hex'), origin, commit };
}

function invalid(origin: string, issues: Issue[]) {
  return jesError('CONFIG_INVALID', `Invalid job config ${origin}: ${issues.length} problem(s)`, { issues });
}

/** Rules a schema cannot say: names Kubernetes accepts, safe JSONPaths and patterns, unique names. */
function checkSemantics(config: JobConfig): Issue[] {
  const issues: Issue[] = [];
  const actionNames = new Set<string>();
  config.actions.forEach((action, actionIndex) => {
    const at = `actions[${actionIndex}]`;
    if (actionNames.has(action.name))
      issues.push({ path: `${at}.name`, message: `duplicate action name "${action.name}"` });
    actionNames.add(action.name);
    issues.push(...checkEvents(action, at));
    const taskNames = new Set<string>();
    action.tasks.forEach((task, taskIndex) => {
      const taskAt = `${at}.tasks[${taskIndex}]`;
      if (taskNames.has(task.name))
        issues.push({ path: `${taskAt}.name`, message: `duplicate task name "${task.name}" in this action` });
      taskNames.add(task.name);
      issues.push(...checkTask(task, taskAt));
    });
  });
  return issues;
}

function checkEvents(action: Action, at: string): Issue[] {
  const issues: Issue[] = [];
  action.events.forEach((event, index) => {
    const pattern = compileTypePattern(event.name);
    if (!pattern.ok) issues.push({ path: `${at}.events[${index}].name`, message: pattern.message });
    if (event.jsonpath === undefined) return;
    const problem = checkJsonPath(event.jsonpath.property);
    if (problem !== undefined)
      issues.push({ path: `${at}.events[${index}].jsonpath.property`, message: problem });
  });
  return issues;
}

function checkTask(task: Task, at: string): Issue[] {
  const issues: Issue[] = [];
  const add = (path: string, message: string) => issues.push({ path: `${at}.${path}`, message });
  if (task.namespace !== undefined && !DNS_LABEL.test(task.namespace))
    add('namespace', 'must be a namespace name (lower case letters, digits, -)');
  if (task.serviceAccount !== undefined && !DNS_SUBDOMAIN.test(task.serviceAccount))
    add('serviceAccount', 'must be a service account name (lower case letters, digits, -, .)');
  task.imagePullSecrets?.forEach((name, index) => {
    if (!DNS_SUBDOMAIN.test(name)) add(`imagePullSecrets[${index}]`, `"${name}" is not a Secret name`);
  });
  task.files?.forEach((file, index) => {
    if (file.includes('..') || file.includes('~') || file.trim() === '' || file === '/') {
      add(
        `files[${index}]`,
        `"${file}" must be a relative resource path without .. or ~ (e.g. terraform/ or locust/basic.py)`,
      );
    }
  });
  task.env?.forEach((env, index) => issues.push(...checkEnv(env, `${at}.env[${index}]`)));
  return issues;
}

function checkEnv(env: NonNullable<Task['env']>[number], at: string): Issue[] {
  const problem = (path: string, message: string): Issue[] => [{ path: `${at}.${path}`, message }];
  if (env.valueFrom === 'secret') return checkSecretEnv(env, at);
  if (!ENV_NAME.test(env.name))
    return problem('name', `"${env.name}" is not a valid environment variable name`);
  if (env.value === undefined) {
    const expected =
      env.valueFrom === 'event' ? 'a JSONPath into the event, e.g. $.data.stage' : 'the literal value';
    return problem('value', `is required: ${expected}`);
  }
  const pathProblem = env.valueFrom === 'event' ? checkJsonPath(env.value) : undefined;
  if (pathProblem !== undefined) return problem('value', pathProblem);
  if (env.valueFrom === 'string' && env.as !== undefined)
    return problem('as', 'only valueFrom: event takes as');
  return env.secret !== undefined || env.key !== undefined
    ? problem('secret', 'only valueFrom: secret takes secret/key')
    : [];
}

function checkSecretEnv(env: NonNullable<Task['env']>[number], at: string): Issue[] {
  const problem = (path: string, message: string): Issue[] => [{ path: `${at}.${path}`, message }];
  if (env.as !== undefined) return problem('as', 'only valueFrom: event takes as');
  if (env.secret === undefined && env.key === undefined) {
    // JES form: `name` is the Secret, every key becomes a variable.
    if (!DNS_SUBDOMAIN.test(env.name))
      return problem(
        'name',
        `"${env.name}" is not a Secret name (for one key, use name: VAR, secret: <secret>, key: <key>)`,
      );
    return env.value === undefined
      ? []
      : problem('value', 'is not used with valueFrom: secret; use secret and key for a single key');
  }
  if (env.secret === undefined) return problem('secret', 'is required with key: the name of the Secret');
  if (env.key === undefined)
    return problem('key', 'is required with secret: the key to read from the Secret');
  if (!ENV_NAME.test(env.name))
    return problem('name', `"${env.name}" is not a valid environment variable name`);
  if (!DNS_SUBDOMAIN.test(env.secret)) return problem('secret', `"${env.secret}" is not a Secret name`);
  return [];
}

/** Adds the YAML line of the node an issue points at, so editors and humans find it at once. */
function withLine(document: Document, lineCounter: LineCounter, issue: Issue): Issue {
  const segments = pathSegments(issue.path);
  for (let length = segments.length; length >= 0; length -= 1) {
    const node = document.getIn(segments.slice(0, length), true) as
      { range?: [number, number, number] } | undefined;
    if (node?.range !== undefined) {
      return { ...issue, message: `${issue.message} (line ${lineCounter.linePos(node.range[0]).line})` };
    }
  }
  return issue;
}

function pathSegments(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const match of path.matchAll(/([A-Za-z_][\w-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g)) {
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(Number(match[2]));
    else if (match[3] !== undefined) segments.push(JSON.parse(`"${match[3]}"`) as string);
  }
  return segments;
}
