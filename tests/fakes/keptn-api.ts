/**
 * FAKE Keptn API: a test double for contract tests. It is NOT Keptn and is never used outside tests.
 *
 * One `node:http` server on 127.0.0.1 (ephemeral port) imitates the HTTP surfaces of Keptn v1 (0.19 – 1.x) that a
 * Keptn integration talks to, reproducing only their externally visible behaviour, as described in the project's
 * Keptn protocol reference (§1–4) and read from keptn/keptn (api/handlers/eventvalidation.go,
 * api/middleware/sizelimiter.go, resource-service/handler/{common,pagination,resource_manager}.go):
 *
 * - `POST {origin}/api/v1/event` — the api-service behind the public gateway (§3).
 * - `{origin}/api/resource-service/v1/…` — the resource-service through the nginx gateway: the path is
 *   percent-decoded ONCE (and slashes merged, dot segments resolved) before routing, so `{uri}` must be escaped twice.
 * - `{origin}/resource-service/v1/…` — the resource-service in-cluster: the raw path is routed, `{uri}` escaped once.
 *
 * Deliberate simplifications and choices (see also the JSDoc of each export):
 * - Every request needs `x-token` (the in-cluster resource-service has no auth; the fake insists anyway so tests
 *   prove the client always sends it). Missing → 401 "unauthenticated for invalid credentials", wrong → 401
 *   "incorrect api key auth", both as `{"code":401,"message":…}`.
 * - Oversized events get **400**, not 413: the api-service wraps the body in `http.MaxBytesReader`, the go-openapi
 *   body binder then fails and answers its ParseError code, 400 ("… http: request body too large"). Like the
 *   validation it came with (0.19), the limit applies only while `eventValidation` is on; a body of exactly
 *   `maxEventSizeKb * 1024` bytes passes.
 * - Event checks run in the api-service's order: 415 (media type) → 400 (size) → 400 (JSON binding) → 422 (swagger
 *   `required`: data, source, type) → 400 (0.19 validation, newest upstream rules: task started/finished/invalidated,
 *   sequence triggered, plus the pass-through types `sh.keptn.log.error`, `sh.keptn.events.problem` and
 *   `sh.keptn.event.monitoring.configure`; messages are upstream's).
 * - The resource store is read-only over HTTP (GET only; any other method is gin's 404). Commits form one global
 *   ordered sequence; `metadata.version` is the requested `gitCommitID`, else the newest commit on that branch (the
 *   stage, or `master` for project level), as the resource-service reports the repository revision.
 * - A project/stage/service exists once any resource was set at or below it, whatever the commit being read.
 * - Listing honours `gitCommitID`, keeps levels apart (no service files at stage level) and echoes the page size used
 *   in `pageSize`; the real resource-service lists the checked-out branch (ignoring the commit, service directories
 *   included) and leaves `pageSize` unset.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** project only = project level; + stage = stage level; + service = service level (a service requires a stage). */
export interface ResourceLevel {
  project: string;
  stage?: string;
  service?: string;
}

/** An event the fake accepted (200). */
export interface RecordedEvent {
  /** The JSON body exactly as posted (the sender's `id` and `time` included). */
  body: Record<string, unknown>;
  /** The sender's `id` (the real api-service discards it). */
  originalId: unknown;
  /** The new UUID the api-service would forward the event with. */
  assignedId: string;
  receivedAt: Date;
  headers: Record<string, string | string[] | undefined>;
}

/** An event POST the fake refused (415, 400 or 422); the body is the parsed JSON, else the raw text. */
export interface RejectedEvent {
  status: number;
  message: string;
  body: unknown;
}

export interface FakeKeptnApiOptions {
  /** The API token expected in `x-token`; random by default. */
  token?: string;
  /** Keptn ≥ 0.19 event validation and size limit (EVENT_VALIDATION_ENABLED); default true. */
  eventValidation?: boolean;
  /** MAX_EVENT_SIZE_KB; default 64. */
  maxEventSizeKb?: number;
}

/** One request to either resource-service base; `status` 0 means the socket was destroyed (setDown). */
export interface ResourceRequestRecord {
  method: string;
  /** The request path as received, base prefix included, query excluded, still escaped. */
  rawPath: string;
  query: Record<string, string>;
  status: number;
}

export type FakeRoute = 'event' | 'resource';

export interface FakeKeptnApi {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** `${origin}/api`: the public gateway base (KEPTN_API_URL). */
  readonly apiUrl: string;
  /** `${origin}/api/resource-service`: nginx semantics, `{uri}` must be escaped twice. */
  readonly gatewayResourceServiceUrl: string;
  /** `${origin}/resource-service`: in-cluster semantics, `{uri}` escaped once. */
  readonly directResourceServiceUrl: string;
  readonly token: string;
  /** Accepted `POST /api/v1/event` bodies, in arrival order. */
  readonly events: RecordedEvent[];
  readonly rejectedEvents: RejectedEvent[];
  /** Every resource request (both bases), in arrival order. */
  readonly resourceRequests: ResourceRequestRecord[];
  /** Every commit known to the store, oldest first (generated ones included). */
  readonly commits: readonly string[];
  /**
   * Adds a version of `uri` (a path such as `job/config.yaml`; a leading `/` is ignored) at `level`.
   * `commit` defaults to a new generated 40-hex id. Naming the newest commit again adds the file to that same commit;
   * naming an older commit throws, since history is append-only.
   */
  setResource(level: ResourceLevel, uri: string, content: string | Buffer, commit?: string): void;
  /**
   * The next `count` (default 1) requests on that route, whatever their auth, answer `status` with
   * `{"code":status,"message":"injected failure"}`. Calls queue up in order.
   */
  failNext(route: FakeRoute, status: number, count?: number): void;
  /** While down, every request's socket is destroyed without an answer (a network error for the client). */
  setDown(down: boolean): void;
  /**
   * While holding, event POSTs are parked unanswered and unrecorded; on release the ones whose client is still
   * connected are served, the others (a client that died meanwhile) are dropped, as a real server never saw them.
   */
  holdEvents(hold: boolean): void;
  /** How many event POSTs are parked right now. */
  readonly heldEvents: number;
  eventsOfType(type: string): RecordedEvent[];
  /** Closes the server and all its connections; safe to call more than once. */
  close(): Promise<void>;
}

type Query = Record<string, string>;

interface ResolvedOptions {
  token: string;
  eventValidation: boolean;
  maxEventSizeKb: number;
}

const EVENT_PATH = '/api/v1/event';
const GATEWAY_RESOURCE_PREFIX = '/api/resource-service';
const DIRECT_RESOURCE_PREFIX = '/resource-service';
/** `metadata.upstreamURL` of every resource answer. */
export const FAKE_UPSTREAM_URL = 'https://git.example/fake';
const DEFAULT_BRANCH = 'master';
const DEFAULT_PAGE_SIZE = 20;
const EVENT_MEDIA_TYPES = ['application/json', 'application/cloudevents+json'];

// ---------------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Keptn's error shape: `{"code":N,"message":"…"}`. */
function sendApiError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { code: status, message });
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** gin's answer for an unmatched route. */
function sendPageNotFound(res: ServerResponse): void {
  sendText(res, 404, '404 page not found');
}

const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/** Decodes every `%XX` once (bytes, then UTF-8); undefined when a `%` is not followed by two hex digits. */
function percentDecodeOnce(value: string): string | undefined {
  if (MALFORMED_ESCAPE.test(value)) return undefined;
  const bytes = value.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte. */
function goQueryUnescape(value: string): string | undefined {
  return percentDecodeOnce(value.replaceAll('+', ' '));
}

/** Applies one path segment to the output stack; false when `..` climbs above the root. */
function applySegment(out: string[], segment: string): boolean {
  if (segment === '..') return out.pop() !== undefined;
  if (segment !== '.' && segment !== '') out.push(segment);
  return true;
}

/** What nginx does to a path before matching and proxying: decode once, merge slashes, resolve dot segments. */
function nginxNormalize(path: string): string | undefined {
  const decoded = percentDecodeOnce(path);
  if (decoded === undefined) return undefined;
  const segments = decoded.split('/').slice(1);
  const out: string[] = [];
  for (const segment of segments) {
    if (!applySegment(out, segment)) return undefined;
  }
  const last = segments.at(-1) ?? '';
  const trailingSlash = out.length > 0 && (last === '' || last === '.' || last === '..');
  return `/${out.join('/')}${trailingSlash ? '/' : ''}`;
}

/** `job//config.yaml` and `/job/config.yaml` name the file `job/config.yaml`. */
function normalizeFilePath(uri: string): string {
  return uri
    .split('/')
    .filter((segment) => segment !== '')
    .join('/');
}

/** filepath.Walk order: segment by segment, so `a/b` comes before `a.txt`. */
function compareWalkOrder(left: string, right: string): number {
  const a = left.split('/');
  const b = right.split('/');
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

// ---------------------------------------------------------------------------------------------------------------
// Resource store: a global, append-only commit sequence
// ---------------------------------------------------------------------------------------------------------------

interface FileVersion {
  seq: number;
  commit: string;
  content: Buffer;
}

/** A commit to read at: `seq` is Infinity (and `commit` undefined) for "the newest". */
interface ReadPoint {
  seq: number;
  commit: string | undefined;
}

interface ResourceMetadata {
  upstreamURL: string;
  version: string;
  branch: string;
}

function levelKey(level: ResourceLevel): string {
  return JSON.stringify([level.project, level.stage ?? null, level.service ?? null]);
}

function branchKey(level: ResourceLevel): string {
  return JSON.stringify([level.project, level.stage ?? null]);
}

function assertName(value: string | undefined, what: string): void {
  if (value !== undefined && (value === '' || value.includes('/'))) {
    throw new TypeError(`fake-keptn-api: invalid ${what} name ${JSON.stringify(value)}`);
  }
}

function assertLevel(level: ResourceLevel): void {
  assertName(level.project, 'project');
  assertName(level.stage, 'stage');
  assertName(level.service, 'service');
  if (level.service !== undefined && level.stage === undefined) {
    throw new TypeError('fake-keptn-api: a service-level resource needs a stage');
  }
}

class ResourceStore {
  readonly commitList: string[] = [];
  private readonly commitSeq = new Map<string, number>();
  private readonly files = new Map<string, Map<string, FileVersion[]>>();
  private readonly existing = new Set<string>();
  private readonly branchHeads = new Map<string, number>();

  set(level: ResourceLevel, uri: string, content: string | Buffer, commit?: string): void {
    assertLevel(level);
    const path = normalizeFilePath(uri);
    if (path === '' || path.includes('..') || path.includes('~')) {
      throw new TypeError(`fake-keptn-api: invalid resource URI ${JSON.stringify(uri)}`);
    }
    const seq = this.seqFor(commit);
    const version: FileVersion = { seq, commit: this.commitAt(seq), content: Buffer.from(content) };
    const versions = this.versionsOf(level, path, true);
    if (versions.at(-1)?.seq === seq) versions[versions.length - 1] = version;
    else versions.push(version);
    this.existing.add(JSON.stringify([level.project]));
    if (level.stage !== undefined) this.existing.add(JSON.stringify([level.project, level.stage]));
    if (level.service !== undefined) this.existing.add(levelKey(level));
    this.branchHeads.set(branchKey(level), seq);
  }

  /** `Project not found` / `Stage not found` / `Service not found`, or undefined when the level exists. */
  levelError(level: ResourceLevel): string | undefined {
    if (!this.existing.has(JSON.stringify([level.project]))) return 'Project not found';
    if (level.stage !== undefined && !this.existing.has(JSON.stringify([level.project, level.stage]))) {
      return 'Stage not found';
    }
    if (level.service !== undefined && !this.existing.has(levelKey(level))) return 'Service not found';
    return undefined;
  }

  /** undefined for an unknown commit. */
  readPoint(commit: string | undefined): ReadPoint | undefined {
    if (commit === undefined) return { seq: Number.POSITIVE_INFINITY, commit: undefined };
    const seq = this.commitSeq.get(commit);
    return seq === undefined ? undefined : { seq, commit };
  }

  /** The newest version of that file whose commit is not after the read point. */
  read(level: ResourceLevel, uri: string, at: ReadPoint): FileVersion | undefined {
    const versions = this.versionsOf(level, normalizeFilePath(uri), false);
    return versions.findLast((version) => version.seq <= at.seq);
  }

  /** Paths (no leading slash) of the files of exactly that level that exist at the read point, in walk order. */
  list(level: ResourceLevel, at: ReadPoint): string[] {
    const byPath = this.files.get(levelKey(level)) ?? new Map<string, FileVersion[]>();
    return [...byPath.entries()]
      .filter(([, versions]) => versions.some((version) => version.seq <= at.seq))
      .map(([path]) => path)
      .sort(compareWalkOrder);
  }

  metadata(level: ResourceLevel, at: ReadPoint): ResourceMetadata {
    const head = this.branchHeads.get(branchKey(level)) ?? this.commitList.length - 1;
    return {
      upstreamURL: FAKE_UPSTREAM_URL,
      version: at.commit ?? this.commitAt(head),
      branch: level.stage ?? DEFAULT_BRANCH,
    };
  }

  private commitAt(seq: number): string {
    return this.commitList[seq] ?? '';
  }

  private seqFor(commit: string | undefined): number {
    const name = commit ?? randomBytes(20).toString('hex');
    const known = this.commitSeq.get(name);
    if (known === undefined) {
      this.commitList.push(name);
      this.commitSeq.set(name, this.commitList.length - 1);
      return this.commitList.length - 1;
    }
    if (known !== this.commitList.length - 1) {
      throw new Error(
        `fake-keptn-api: commit ${name} is older than the newest commit; add versions in commit order`,
      );
    }
    return known;
  }

  private versionsOf(level: ResourceLevel, path: string, create: boolean): FileVersion[] {
    const key = levelKey(level);
    let byPath = this.files.get(key);
    if (byPath === undefined) {
      byPath = new Map<string, FileVersion[]>();
      if (create) this.files.set(key, byPath);
    }
    let versions = byPath.get(path);
    if (versions === undefined) {
      versions = [];
      if (create) byPath.set(path, versions);
    }
    return versions;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Resource-service routes
// ---------------------------------------------------------------------------------------------------------------

interface ResourceRoute {
  level: ResourceLevel;
  /** The `{uri}` path segment as routed (still escaped); undefined for the list route. */
  rawUri: string | undefined;
}

function splitScope(tail: string[]): { stage?: string; service?: string; rest: string[] } {
  if (tail[0] !== 'stage') return { rest: tail };
  if (tail[2] !== 'service') return { stage: tail[1], rest: tail.slice(2) };
  return { stage: tail[1], service: tail[3], rest: tail.slice(4) };
}

/** gin routes: `/v1/project/:p[/stage/:s[/service/:svc]]/resource[/:resourceURI]`, one segment per parameter. */
function matchResourceRoute(path: string): ResourceRoute | undefined {
  const segments = path.split('/');
  if (segments.shift() !== '' || segments.includes('')) return undefined;
  const [version, projectWord, project, ...tail] = segments;
  if (version !== 'v1' || projectWord !== 'project' || project === undefined) return undefined;
  const { stage, service, rest } = splitScope(tail);
  const [resourceWord, rawUri, ...extra] = rest;
  if (resourceWord !== 'resource' || extra.length > 0) return undefined;
  return { level: { project, stage, service }, rawUri };
}

/** `gitCommitID`; empty and `""` mean "none", like the resource-service. */
function commitParam(query: Query): string | undefined {
  const value = query.gitCommitID;
  return value === undefined || value === '' || value === '""' ? undefined : value;
}

function serveResourceGet(
  store: ResourceStore,
  res: ServerResponse,
  route: ResourceRoute,
  query: Query,
): void {
  const rawUri = route.rawUri ?? '';
  const uri = goQueryUnescape(rawUri);
  if (uri === undefined) {
    sendApiError(res, 400, `Invalid resource URI ${JSON.stringify(rawUri)}: malformed percent-encoding`);
    return;
  }
  if (uri.includes('~') || uri.includes('..')) {
    sendApiError(res, 400, `Invalid resource URI ${JSON.stringify(uri)}: must not contain '~' or '..'`);
    return;
  }
  const levelError = store.levelError(route.level);
  if (levelError !== undefined) {
    sendApiError(res, 404, levelError);
    return;
  }
  const at = store.readPoint(commitParam(query));
  const version = at === undefined ? undefined : store.read(route.level, uri, at);
  if (at === undefined || version === undefined) {
    sendApiError(res, 404, 'Resource not found');
    return;
  }
  sendJson(res, 200, {
    resourceURI: rawUri,
    resourceContent: version.content.toString('base64'),
    metadata: store.metadata(route.level, at),
  });
}

/** undefined when `pageSize` is present but not a positive integer. */
function pageSizeParam(query: Query): number | undefined {
  const value = query.pageSize;
  if (value === undefined || value === '') return DEFAULT_PAGE_SIZE;
  return /^\d+$/.test(value) && Number(value) > 0 ? Number(value) : undefined;
}

/** `nextPageKey` is an offset; like Go's ignored Atoi error, anything unparsable is 0. */
function offsetParam(query: Query): number {
  const value = query.nextPageKey ?? '';
  return /^\d+$/.test(value) ? Number(value) : 0;
}

function serveResourceList(
  store: ResourceStore,
  res: ServerResponse,
  level: ResourceLevel,
  query: Query,
): void {
  const levelError = store.levelError(level);
  if (levelError !== undefined) {
    sendApiError(res, 404, levelError);
    return;
  }
  const pageSize = pageSizeParam(query);
  if (pageSize === undefined) {
    sendApiError(res, 400, `Invalid pageSize ${JSON.stringify(query.pageSize)}: must be a positive integer`);
    return;
  }
  const at = store.readPoint(commitParam(query));
  if (at === undefined) {
    sendApiError(res, 404, 'Resource not found');
    return;
  }
  const paths = store.list(level, at);
  const start = offsetParam(query);
  const end = start + pageSize;
  const metadata = store.metadata(level, at);
  sendJson(res, 200, {
    resources: paths.slice(start, end).map((path) => ({ resourceURI: `/${path}`, metadata })),
    nextPageKey: end < paths.length ? String(end) : '0',
    pageSize,
    totalCount: paths.length,
  });
}

function serveResource(
  store: ResourceStore,
  req: IncomingMessage,
  res: ServerResponse,
  target: ResourceTarget,
): void {
  const routedPath = target.gateway ? nginxNormalize(target.rest) : target.rest;
  if (routedPath === undefined) {
    sendText(res, 400, '400 Bad Request');
    return;
  }
  const route = req.method === 'GET' ? matchResourceRoute(routedPath) : undefined;
  if (route === undefined) {
    sendPageNotFound(res);
    return;
  }
  if (route.rawUri === undefined) serveResourceList(store, res, route.level, target.query);
  else serveResourceGet(store, res, route, target.query);
}

// ---------------------------------------------------------------------------------------------------------------
// Event API: binding, swagger `required`, and the 0.19 validation
// ---------------------------------------------------------------------------------------------------------------

type EventVerdict =
  { ok: true; body: Record<string, unknown> } | { ok: false; status: number; message: string; body: unknown };

type EventValidator = (body: Record<string, unknown>, typeParts: string[]) => string | undefined;

interface CommonData {
  project: string;
  stage: string;
  service: string;
  result: string;
  status: string;
  type: string;
}

/** String members of `KeptnContextExtendedCE`: any other JSON type fails Go's binding. */
const CE_STRING_FIELDS = [
  'contenttype',
  'gitcommitid',
  'id',
  'shkeptncontext',
  'shkeptnversion',
  'source',
  'specversion',
  'time',
  'triggeredid',
  'type',
];
const CE_REQUIRED_FIELDS = ['data', 'source', 'type'];
const DATA_STRING_FIELDS = ['project', 'stage', 'service', 'result', 'status', 'message', 'type'];
const PASS_THROUGH_TYPES = new Set(['sh.keptn.log.error', 'sh.keptn.events.problem']);
const MONITORING_CONFIGURE = 'sh.keptn.event.monitoring.configure';
const UNPARSABLE_DATA = 'could not parse common event data';
const MISSING_SCOPE = "mandatory field(s) 'project', 'stage' or 'service' missing";

function goJsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'object' ? 'object' : typeof value;
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

function stringOrEmpty(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** `v0_2_0.Decode(data, &EventData)`: undefined when the common fields do not fit their Go types. */
function decodeCommonData(data: unknown): CommonData | undefined {
  if (!isRecord(data)) return undefined;
  const wrongType = DATA_STRING_FIELDS.some(
    (field) => !isAbsent(data[field]) && typeof data[field] !== 'string',
  );
  const labels = data.labels;
  const badLabels =
    !isAbsent(labels) &&
    !(isRecord(labels) && Object.values(labels).every((label) => typeof label === 'string'));
  if (wrongType || badLabels) return undefined;
  return {
    project: stringOrEmpty(data.project),
    stage: stringOrEmpty(data.stage),
    service: stringOrEmpty(data.service),
    result: stringOrEmpty(data.result),
    status: stringOrEmpty(data.status),
    type: stringOrEmpty(data.type),
  };
}

function hasScope(data: CommonData): boolean {
  return data.project !== '' && data.stage !== '' && data.service !== '';
}

function missingTriggeredId(body: Record<string, unknown>): string | undefined {
  return stringOrEmpty(body.triggeredid) === '' ? "mandatory field 'triggeredid' missing" : undefined;
}

const validateTaskStarted: EventValidator = (body) => {
  const data = decodeCommonData(body.data);
  if (data === undefined) return UNPARSABLE_DATA;
  if (!hasScope(data)) return MISSING_SCOPE;
  return missingTriggeredId(body);
};

const validateTaskFinished: EventValidator = (body) => {
  const data = decodeCommonData(body.data);
  if (data === undefined) return UNPARSABLE_DATA;
  if (!hasScope(data)) return MISSING_SCOPE;
  if (data.result === '') return 'result field is not set';
  if (data.status === '') return 'status field is not set';
  return missingTriggeredId(body);
};

const validateSequenceTriggered: EventValidator = (body, typeParts) => {
  const data = decodeCommonData(body.data);
  if (data === undefined) return UNPARSABLE_DATA;
  if (!hasScope(data)) return MISSING_SCOPE;
  return data.stage === typeParts[3]
    ? undefined
    : 'stage name in event data and in event type does not match';
};

const acceptAsIs: EventValidator = () => undefined;

function validateMonitoringConfigure(body: Record<string, unknown>): string | undefined {
  const data = decodeCommonData(body.data);
  if (data === undefined) return UNPARSABLE_DATA;
  return data.project === '' || data.type === ''
    ? "mandatory fields(s) 'project', 'service' or 'type' missing"
    : undefined;
}

/** Allowed kinds by number of dot-separated parts: 5 = task event, 6 = sequence event. */
const VALIDATORS_BY_PART_COUNT = new Map<number, Map<string, EventValidator>>([
  [
    5,
    new Map([
      ['started', validateTaskStarted],
      ['finished', validateTaskFinished],
      ['invalidated', acceptAsIs],
    ]),
  ],
  [6, new Map([['triggered', validateSequenceTriggered]])],
]);

/** keptn/keptn `api/handlers/eventvalidation.go` `Validate` (newest rules); undefined when valid. */
function keptnValidationError(body: Record<string, unknown>): string | undefined {
  const type = stringOrEmpty(body.type);
  if (PASS_THROUGH_TYPES.has(type)) return undefined;
  if (type === MONITORING_CONFIGURE) return validateMonitoringConfigure(body);
  const parts = type.split('.');
  const keptnShaped = type.startsWith('sh.keptn.event.') && !parts.includes('');
  const validators = keptnShaped ? VALIDATORS_BY_PART_COUNT.get(parts.length) : undefined;
  if (validators === undefined) return 'unknown event type';
  const kind = parts.at(-1) ?? '';
  const validator = validators.get(kind);
  if (validator === undefined) return `unknown event type action: ${kind}`;
  return validator(body, parts);
}

/** What Go's JSON binding into `KeptnContextExtendedCE` would complain about; undefined when it binds. */
function bindingError(body: Record<string, unknown>): string | undefined {
  const field = CE_STRING_FIELDS.find((name) => !isAbsent(body[name]) && typeof body[name] !== 'string');
  if (field !== undefined) {
    const kind = goJsonKind(body[field]);
    return `json: cannot unmarshal ${kind} into Go struct field KeptnContextExtendedCE.${field} of type string`;
  }
  const time = stringOrEmpty(body.time);
  if (time !== '' && Number.isNaN(Date.parse(time)))
    return `parsing time ${JSON.stringify(time)}: not a date-time`;
  return undefined;
}

/** Parsed JSON object, or Go's complaint. JSON `null` binds to an empty struct. */
function parseEventJson(raw: Buffer): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  if (value === null) return {};
  if (!isRecord(value))
    return `json: cannot unmarshal ${goJsonKind(value)} into Go value of type models.KeptnContextExtendedCE`;
  return value;
}

/** The posted body for `rejectedEvents`: parsed JSON when possible, else the raw text. */
function bodyForRecord(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function reject(status: number, message: string, body: unknown): EventVerdict {
  return { ok: false, status, message, body };
}

function judgeEvent(raw: Buffer, contentType: string | undefined, options: ResolvedOptions): EventVerdict {
  const media = mediaTypeOf(contentType);
  if (!EVENT_MEDIA_TYPES.includes(media)) {
    const allowed = `[${EVENT_MEDIA_TYPES.join(' ')}]`;
    return reject(
      415,
      `unsupported media type ${JSON.stringify(media)}, only ${allowed} are allowed`,
      bodyForRecord(raw),
    );
  }
  const limit = options.maxEventSizeKb * 1024;
  if (options.eventValidation && raw.length > limit) {
    const detail = `event too large: ${raw.length} bytes, MAX_EVENT_SIZE_KB=${options.maxEventSizeKb} allows ${limit}`;
    return reject(
      400,
      `parsing body body from "" failed, because http: request body too large (${detail})`,
      bodyForRecord(raw),
    );
  }
  const parsed = parseEventJson(raw);
  const bindError = typeof parsed === 'string' ? parsed : bindingError(parsed);
  if (bindError !== undefined || typeof parsed === 'string') {
    return reject(400, `parsing body body from "" failed, because ${bindError ?? ''}`, bodyForRecord(raw));
  }
  const missing = CE_REQUIRED_FIELDS.filter((field) => isAbsent(parsed[field]));
  if (missing.length > 0) {
    const list = missing.map((field) => `${field} in body is required`).join('\n');
    return reject(422, `validation failure list:\n${list}`, parsed);
  }
  const invalid = options.eventValidation ? keptnValidationError(parsed) : undefined;
  return invalid === undefined ? { ok: true, body: parsed } : reject(400, invalid, parsed);
}

const UUID_HEX = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** The forms Go's `uuid.Parse` accepts. */
const GO_UUID_FORMS = [
  new RegExp(`^${UUID_HEX}$`, 'i'),
  new RegExp(`^urn:uuid:${UUID_HEX}$`, 'i'),
  new RegExp(`^\\{${UUID_HEX}\\}$`, 'i'),
  /^[0-9a-f]{32}$/i,
];

/** `uuid.SetRand(strings.NewReader(padded)); uuid.New()`: a v4 UUID built from the first 16 bytes. */
function uuidFromString(value: string): string {
  const runes = Array.from(value).length; // Go counts runes (code points)
  const padded = runes < 16 ? value + ' '.repeat(16 - runes) : value;
  const bytes = Buffer.from(padded, 'utf8').subarray(0, 16);
  bytes.writeUInt8((bytes.readUInt8(6) & 0x0f) | 0x40, 6);
  bytes.writeUInt8((bytes.readUInt8(8) & 0x3f) | 0x80, 8);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** api-service `createOrApplyKeptnContext`: keep a valid UUID, derive one from any other string, else generate. */
export function keptnContextFor(shkeptncontext: unknown): string {
  const value = stringOrEmpty(shkeptncontext);
  if (value === '') return randomUUID();
  return GO_UUID_FORMS.some((form) => form.test(value)) ? value : uuidFromString(value);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  }
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------------------------

interface BaseTarget {
  rawPath: string;
  query: Query;
}
interface ResourceTarget extends BaseTarget {
  kind: 'resource';
  gateway: boolean;
  /** The path after the base prefix, as received. */
  rest: string;
}
type Target = (BaseTarget & { kind: 'event' | 'other' }) | ResourceTarget;

function parseTarget(url: string): Target {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query: Query = Object.fromEntries(new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
  if (rawPath === EVENT_PATH) return { kind: 'event', rawPath, query };
  if (rawPath.startsWith(`${GATEWAY_RESOURCE_PREFIX}/`)) {
    return {
      kind: 'resource',
      rawPath,
      query,
      gateway: true,
      rest: rawPath.slice(GATEWAY_RESOURCE_PREFIX.length),
    };
  }
  if (rawPath.startsWith(`${DIRECT_RESOURCE_PREFIX}/`)) {
    return {
      kind: 'resource',
      rawPath,
      query,
      gateway: false,
      rest: rawPath.slice(DIRECT_RESOURCE_PREFIX.length),
    };
  }
  return { kind: 'other', rawPath, query };
}

class FakeState {
  readonly events: RecordedEvent[] = [];
  readonly rejectedEvents: RejectedEvent[] = [];
  readonly resourceRequests: ResourceRequestRecord[] = [];
  readonly store = new ResourceStore();
  readonly injected: Record<FakeRoute, number[]> = { event: [], resource: [] };
  down = false;
  holding = false;
  readonly held: { req: IncomingMessage; res: ServerResponse; target: Target }[] = [];

  constructor(readonly options: ResolvedOptions) {}
}

function authorize(token: string, req: IncomingMessage, res: ServerResponse): boolean {
  const presented = req.headers['x-token'];
  if (presented === token) return true;
  const message =
    presented === undefined ? 'unauthenticated for invalid credentials' : 'incorrect api key auth';
  sendApiError(res, 401, message);
  return false;
}

async function serveEvent(state: FakeState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    sendApiError(res, 405, `method ${req.method ?? ''} is not allowed, but [POST] are`);
    return;
  }
  const raw = await readBody(req);
  const verdict = judgeEvent(raw, req.headers['content-type'], state.options);
  if (!verdict.ok) {
    state.rejectedEvents.push({ status: verdict.status, message: verdict.message, body: verdict.body });
    sendApiError(res, verdict.status, verdict.message);
    return;
  }
  state.events.push({
    body: verdict.body,
    originalId: verdict.body.id,
    assignedId: randomUUID(),
    receivedAt: new Date(),
    headers: { ...req.headers },
  });
  sendJson(res, 200, { keptnContext: keptnContextFor(verdict.body.shkeptncontext) });
}

async function route(
  state: FakeState,
  req: IncomingMessage,
  res: ServerResponse,
  target: Target,
): Promise<void> {
  const injected = target.kind === 'other' ? undefined : state.injected[target.kind].shift();
  if (injected !== undefined) {
    sendApiError(res, injected, 'injected failure');
    return;
  }
  if (!authorize(state.options.token, req, res)) return;
  if (target.kind === 'event') await serveEvent(state, req, res);
  else if (target.kind === 'resource') serveResource(state.store, req, res, target);
  else sendPageNotFound(res);
}

function recordResourceRequest(state: FakeState, req: IncomingMessage, target: Target, status: number): void {
  if (target.kind !== 'resource') return;
  state.resourceRequests.push({
    method: req.method ?? '',
    rawPath: target.rawPath,
    query: target.query,
    status,
  });
}

async function dispatch(state: FakeState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = parseTarget(req.url ?? '/');
  if (state.down) {
    recordResourceRequest(state, req, target, 0);
    req.socket.destroy();
    return;
  }
  if (state.holding && target.kind === 'event') {
    state.held.push({ req, res, target });
    return;
  }
  await route(state, req, res, target);
  recordResourceRequest(state, req, target, res.statusCode);
}

function releaseHeld(state: FakeState): void {
  for (const { req, res, target } of state.held.splice(0)) {
    if (req.socket.destroyed) continue;
    route(state, req, res, target).catch((error: unknown) => {
      answerCrash(res, error);
    });
  }
}

function answerCrash(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendApiError(res, 500, `fake-keptn-api crashed: ${error instanceof Error ? error.message : String(error)}`);
}

function resolveOptions(options: FakeKeptnApiOptions): ResolvedOptions {
  const maxEventSizeKb = options.maxEventSizeKb ?? 64;
  if (!(maxEventSizeKb > 0)) throw new RangeError('fake-keptn-api: maxEventSizeKb must be positive');
  return {
    token: options.token ?? randomBytes(24).toString('hex'),
    eventValidation: options.eventValidation ?? true,
    maxEventSizeKb,
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string')
        reject(new Error('fake-keptn-api: no TCP address'));
      else resolve(address.port);
    });
  });
}

function injectFailures(state: FakeState, route: FakeRoute, status: number, count: number): void {
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new RangeError(`fake-keptn-api: invalid status ${String(status)}`);
  }
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`fake-keptn-api: invalid count ${String(count)}`);
  for (let i = 0; i < count; i += 1) state.injected[route].push(status);
}

/** Starts a FAKE Keptn API (see the header of this file) on 127.0.0.1 with an ephemeral port. */
export async function startFakeKeptnApi(options: FakeKeptnApiOptions = {}): Promise<FakeKeptnApi> {
  const state = new FakeState(resolveOptions(options));
  const server = createServer((req, res) => {
    dispatch(state, req, res).catch((error: unknown) => {
      answerCrash(res, error);
    });
  });
  const port = await listen(server);
  const origin = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  return {
    origin,
    apiUrl: `${origin}/api`,
    gatewayResourceServiceUrl: `${origin}${GATEWAY_RESOURCE_PREFIX}`,
    directResourceServiceUrl: `${origin}${DIRECT_RESOURCE_PREFIX}`,
    token: state.options.token,
    events: state.events,
    rejectedEvents: state.rejectedEvents,
    resourceRequests: state.resourceRequests,
    commits: state.store.commitList,
    setResource(level, uri, content, commit) {
      state.store.set(level, uri, content, commit);
    },
    failNext(route, status, count = 1) {
      injectFailures(state, route, status, count);
    },
    setDown(down) {
      state.down = down;
    },
    holdEvents(hold) {
      state.holding = hold;
      if (!hold) releaseHeld(state);
    },
    get heldEvents() {
      return state.held.filter(({ req }) => !req.socket.destroyed).length;
    },
    eventsOfType(type) {
      return state.events.filter((event) => event.body.type === type);
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
